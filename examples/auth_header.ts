// Custom headers on the upgrade request: the server's /auth route wants a bearer token.
// Without it the handshake is refused (401) and handleDisconnect receives { kind: "error" }.
//
//   deno run --allow-net=127.0.0.1 examples/auth_header.ts

import { defineClient, type DisconnectReason, ok } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer({
  token: "s3cr3t",
  log: (line) => console.log(`  server: ${line}`),
});

const echoed = Promise.withResolvers<void>();

const Client = defineClient({
  handleConnect(label: string) {
    console.log(`[${label}] connected`);
    return ok(label);
  },
  handleFrame(frame, label: string) {
    if (frame.type === "text") console.log(`[${label}] echo: ${frame.data}`);
    echoed.resolve();
    return ok(label);
  },
  handleDisconnect(reason: DisconnectReason, label: string) {
    const detail = reason.kind === "error" ? `: ${reason.error.message}` : "";
    console.log(`[${label}] handleDisconnect { kind: "${reason.kind}" }${detail}`);
    return ok(label); // no `reconnect` option: stay disconnected
  },
});

// 1. No header: the server answers 401, the connection attempt fails.
const anonymous = await Client.start("anonymous", { url: server.url("/auth") });
try {
  await anonymous.connect();
} catch (error) {
  console.log(`[anonymous] connect() rejected with ${(error as Error).name}`);
}
console.log(`[anonymous] state: ${anonymous.state}`);
await anonymous.stop();

// 2. With the header: the upgrade succeeds and frames are echoed.
const authorized = await Client.start("authorized", {
  url: server.url("/auth"),
  headers: { authorization: "Bearer s3cr3t" },
});
await authorized.connect();
await authorized.sendFrame({ type: "text", data: "hello with a token" });
await echoed.promise;
await authorized.stop();
console.log(`[authorized] stopped`);
await server.close();
