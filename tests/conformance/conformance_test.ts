// The conformance gate: the Autobahn client cases (groups 1-7, 9, 10; group 9 and the delays
// scaled down) against Parley's socket transport under Deno, Node and Bun, through the same
// runner as `deno task conformance`. Any FAILED, WRONG CODE or UNCLEAN fails the test.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CASES } from "./cases.ts";
import { runConformance } from "./run.ts";

Deno.test("conformance: the socket transport passes every Autobahn client case on Deno, Node and Bun", async () => {
  const out = await mkdtemp(join(tmpdir(), "parley-conformance-"));
  try {
    const outcome = await runConformance({
      full: false,
      clients: ["socket"],
      out,
      parallel: 2,
      verbose: false,
    });
    assert.deepEqual(outcome.agents, [
      "parley-socket-deno",
      "parley-socket-node",
      "parley-socket-bun",
    ]);
    for (const agent of outcome.agents) {
      assert.equal(Object.keys(outcome.index[agent] ?? {}).length, CASES.length, agent);
    }
    assert.deepEqual(outcome.problems, [], `\n${outcome.table}`);
  } finally {
    await rm(out, { recursive: true });
  }
});
