// A fresh credential for every connection attempt: `headers` is a function the client calls
// before each attempt (the first included). The server's /once route takes each token for one
// connection only, so a reconnect with the old token would be refused (401); here every attempt
// fetches a new one, and the client comes back after each drop by itself.
//
//   deno run --allow-net=127.0.0.1 examples/token_refresh.ts

import { defineClient, type DisconnectReason, ok } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer({ log: (line) => console.log(`  server: ${line}`) });

// Stands in for your token endpoint (an HTTP call, a refresh-token exchange...).
async function fetchToken(signal: AbortSignal): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  signal.throwIfAborted(); // the attempt was abandoned (stop, connect timeout)
  return server.issueToken();
}

let connects = 0;
const connected = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];

const Feed = defineClient({
  handleConnect(state: null) {
    console.log(`client: connected (connection ${++connects})`);
    connected[connects - 1]?.resolve();
    return ok(state);
  },
  handleDisconnect(reason: DisconnectReason, state: null) {
    console.log(`client: disconnected (${reason.kind})`);
    return ok(state); // the reconnect option decides
  },
});

const conn = await Feed.start(null, {
  url: server.url("/once"),
  headers: async ({ attempt, signal }) => {
    const token = await fetchToken(signal);
    console.log(`client: attempt ${attempt} with token ${token.split("-")[0]}`);
    return { authorization: `Bearer ${token}` };
  },
  reconnect: { baseDelay: 50, maxDelay: 200 },
});

await connected[0].promise;
server.dropAll(); // the server drops us; the token we used is spent
await connected[1].promise;
console.log(`client: stop() -> ${JSON.stringify(await conn.stop())}`);
await server.close();
