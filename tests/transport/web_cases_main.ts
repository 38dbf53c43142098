// The web transport's cases (web_cases.ts) in a child process: `deno run --allow-net` (add
// --unstable-net for the WebSocketStream path), `node` or `bun` on this file, with the peer's
// base URL (tests/support/web_peer.ts) and an optional filter. It prints one line per case, then
// lets go of two connections to a peer that never answers (web_cases.ts's letGo) and returns,
// leaving the runtime's sockets behind: web_runtimes_test.ts watches how long the process lives.
//
// Lines: `PATH <WebSocket|WebSocketStream>`, `CASE <json>` per case, `LETGO <json>` per let-go,
// `LET GO` when both have let go.

import { letGo, onStreamPath, WEB_CASES } from "./web_cases.ts";

/** The let-go connections' closeTimeout (ms). */
const CLOSE_TIMEOUT = 300;

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const [peer, filter = ""] = g.Deno?.args ?? g.process!.argv.slice(2);

console.log(`PATH ${onStreamPath() ? "WebSocketStream" : "WebSocket"}`);
for (const [name, run] of Object.entries(WEB_CASES)) {
  if (!name.includes(filter)) continue;
  const started = performance.now();
  try {
    const info = await run({ peer });
    console.log(`CASE ${JSON.stringify({ name, ok: true, info, ms: ms(started) })}`);
  } catch (error) {
    const e = error instanceof Error ? `${error.stack ?? error.message}` : String(error);
    console.log(`CASE ${JSON.stringify({ name, ok: false, error: e, ms: ms(started) })}`);
  }
}
for (const how of ["close", "heartbeat"] as const) {
  const doneMs = await letGo(peer, CLOSE_TIMEOUT, how);
  console.log(`LETGO ${JSON.stringify({ how, closeTimeout: CLOSE_TIMEOUT, doneMs })}`);
}
console.log("LET GO");

function ms(since: number): number {
  return Math.round(performance.now() - since);
}
