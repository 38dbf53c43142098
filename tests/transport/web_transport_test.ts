// The web transport's cases (web_cases.ts) in this process: Deno's WebSocket (the path
// `deno test` runs without --unstable-net), against the scripted peer, with the sanitizers on:
// no timer or op of ours outlives a connection. web_runtimes_test.ts runs the same cases on the
// WebSocketStream path and under Node and Bun.

import { startWebPeer } from "../support/web_peer.ts";
import { onStreamPath, WEB_CASES } from "./web_cases.ts";

for (const [name, run] of Object.entries(WEB_CASES)) {
  const path = onStreamPath() ? "WebSocketStream" : "WebSocket";
  Deno.test(`web transport (${path}): ${name}`, async () => {
    await using peer = await startWebPeer();
    await run({ peer: `ws://127.0.0.1:${peer.port}` });
  });
}
