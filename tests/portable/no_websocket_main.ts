// A client under a runtime without a global WebSocket (Node 20): `auto` takes the socket
// transport and works; `transport: "web"` is refused at start with an UnsupportedError. Run by
// tests/no_global_websocket_test.ts, bundled (Node 20 cannot run .ts files), as
// `node <bundle> ws://127.0.0.1:<port>/ws` against an echo server; prints "ok" when every check
// passed, and exits with 1 (the failure on stderr) otherwise.

import assert from "node:assert/strict";
import process from "node:process";
import { defineClient, ok, UnsupportedError } from "../../mod.ts";

const url = process.argv[2];
assert.equal(typeof (globalThis as { WebSocket?: unknown }).WebSocket, "undefined");

const echoes: string[] = [];
const Echo = defineClient<null>({
  handleFrame(frame, state) {
    if (frame.type === "text") echoes.push(frame.data);
    return ok(state);
  },
});

const conn = await Echo.start(null, { url });
assert.equal(conn.transport, "socket");
await conn.ready({ signal: AbortSignal.timeout(5000) });
await conn.sendFrame({ type: "text", data: "hello without a global WebSocket" });
const deadline = Date.now() + 5000;
while (echoes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
assert.deepEqual(echoes, ["hello without a global WebSocket"]);
assert.deepEqual(await conn.stop(), { kind: "normal" });

await assert.rejects(
  Echo.start(null, { url, transport: "web" }),
  (error: unknown) =>
    error instanceof UnsupportedError && /has no global WebSocket/.test(error.message),
);
console.log("ok");
