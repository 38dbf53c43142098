// Reconnection with backoff: the server drops the connection (twice), the client reconnects
// after a jittered delay; each handleDisconnect reason and the observed delay are printed.
//
//   deno run --allow-net=127.0.0.1 examples/reconnect.ts

import { defineClient, type DisconnectReason, ok } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();

const waiting: Array<() => void> = [];
const nextConnect = () => new Promise<void>((resolve) => waiting.push(resolve));
let lostAt = 0;

const Client = defineClient({
  handleConnect(connects: number) {
    if (connects === 0) console.log("connected");
    else console.log(`reconnected after ${Math.round(performance.now() - lostAt)} ms`);
    waiting.shift()?.();
    return ok(connects + 1);
  },
  handleDisconnect(reason: DisconnectReason, connects: number) {
    lostAt = performance.now();
    const detail = reason.kind === "remote_close" ? ` ${reason.code} "${reason.reason}"` : "";
    console.log(`handleDisconnect: ${reason.kind}${detail}`);
    return ok(connects); // the `reconnect` option decides: schedule a retry with backoff
  },
});

let connected = nextConnect();
const conn = await Client.start(0, {
  url: server.url(),
  reconnect: { baseDelay: 100, maxDelay: 1000 }, // the first retry waits 51-100 ms
});
await connected;

for (let drop = 1; drop <= 2; drop++) {
  console.log(`server drops the connection (drop ${drop})`);
  connected = nextConnect();
  server.dropAll();
  await connected;
}

await conn.stop();
console.log(`stopped (state: ${conn.state})`);
await server.close();
