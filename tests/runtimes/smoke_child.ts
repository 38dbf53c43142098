// Run by tests/runtimes_test.ts under Node 24 and Bun: the web transport through each runtime's
// global WebSocket, against the Deno test's server. Prints one JSON line of what it saw.
import { defineClient, type DisconnectReason, ok, push, type ReceivedFrame } from "../../mod.ts";

const url = (globalThis as { process?: { argv: string[] } }).process!.argv[2];
const frames: ReceivedFrame[] = [];
const reasons: DisconnectReason["kind"][] = [];
let connects = 0;

const Smoke = defineClient({
  handleConnect: (state: null) => {
    connects++;
    return push({ type: "text", data: `hello ${connects}` }, state);
  },
  handleFrame: (frame, state: null) => {
    frames.push(frame);
    return ok(state);
  },
  handleDisconnect: (reason, state: null) => {
    reasons.push(reason.kind);
    return ok(state);
  },
});

const conn = await Smoke.start(null, { url, headers: { authorization: "Bearer smoke" } });
await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3]) });
await conn.sendFrame({ type: "text", data: "echo me" });
const until = Date.now() + 3000;
while (frames.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
await conn.disconnect({ code: 4001, reason: "smoke done" });
const stateAfterDisconnect = conn.state;
await conn.connect();
const until2 = Date.now() + 3000;
while (frames.length < 4 && Date.now() < until2) await new Promise((r) => setTimeout(r, 10));
const stop = await conn.stop();
console.log(JSON.stringify({
  frames: frames.map((f) => f.type === "binary" ? { type: "binary", data: [...f.data] } : f),
  reasons,
  connects,
  stateAfterDisconnect,
  stop,
}));
