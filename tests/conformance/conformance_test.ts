// The conformance gate: the Autobahn client cases (groups 1-7, 9, 10, 12, 13; groups 9, 12, 13
// and the delays scaled down) against Parley's six clients (socket and web transport on Deno, Node
// and Bun), through the same runner and parallelism as `deno run -A tests/conformance/run.ts`,
// writing the same Markdown report. FAILED, WRONG CODE, UNCLEAN or UNIMPLEMENTED (compression not
// agreed) fail the test for the socket transport only;
// the web transports' verdicts (they depend on each runtime's WebSocket) are printed, not gated.
// A missing case fails the test for any client.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CASES } from "./cases.ts";
import { parseRunArgs, runConformance } from "./run.ts";

Deno.test("conformance: every client runs every Autobahn client case; the socket transport passes", async () => {
  const out = await mkdtemp(join(tmpdir(), "parley-conformance-"));
  try {
    const defaults = parseRunArgs([]);
    const outcome = await runConformance({
      full: false,
      clients: [],
      out,
      parallel: defaults.parallel,
      verbose: false,
    });
    assert.deepEqual(outcome.agents, [
      "parley-socket-deno",
      "parley-socket-node",
      "parley-socket-bun",
      "parley-web-deno",
      "parley-web-node",
      "parley-web-bun",
    ]);
    console.log(
      `\n${outcome.table}\n(${outcome.seconds.toFixed(1)} s, report ${outcome.reportPath})`,
    );
    for (const agent of outcome.agents) {
      assert.equal(Object.keys(outcome.index[agent] ?? {}).length, CASES.length, agent);
    }
    // The runner only lists gating problems of socket clients and missing cases of any client.
    assert.deepEqual(outcome.problems, [], `\n${outcome.table}`);
  } finally {
    await rm(out, { recursive: true });
  }
});
