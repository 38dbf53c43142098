// The fuzzing server judges a deliberately broken client: a raw-TCP echo client
// (raw_client.ts), correct, then with one breakage at a time. Each must get exactly the verdicts
// listed here (written by hand from Autobahn's rules, not computed by the server's code), OK on
// the cases its breakage does not touch.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFuzzingServer } from "./fuzzing_server.ts";
import { type Breakage, runRawCase } from "./raw_client.ts";
import type { ReportIndex } from "./reports.ts";

const CASES = [
  "1.1.1",
  "2.1",
  "2.2",
  "2.10",
  "3.1",
  "5.6",
  "6.2.1",
  "6.3.1",
  "6.4.1",
  "6.4.3",
  "6.5.1",
  "6.8.1",
  "7.1.1",
  "7.3.6",
  "7.7.2",
  "7.9.1",
  "12.1.1",
];

type Expect = Record<string, [string, string]>;

/**
 * The correct client: OK everywhere but 6.4.3, where it checks UTF-8 only once a frame is whole,
 * and 12.1.1, a compression case, which it does not offer: UNIMPLEMENTED, closed normally.
 */
const BASELINE: Expect = Object.fromEntries(CASES.map((id) => [id, ["OK", "OK"]]));
BASELINE["6.4.3"] = ["NON-STRICT", "OK"];
BASELINE["12.1.1"] = ["UNIMPLEMENTED", "OK"];

const CLIENTS: Array<{ agent: string; breakage: Breakage; expect: Expect }> = [
  { agent: "raw-correct", breakage: {}, expect: BASELINE },
  {
    // Echoes invalid UTF-8: the server fails the connection itself (wrong endpoint: FAILED twice).
    agent: "raw-no-utf8-check",
    breakage: { noUtf8Check: true },
    expect: {
      ...BASELINE,
      "6.3.1": ["FAILED", "FAILED"],
      "6.4.1": ["FAILED", "FAILED"],
      "6.4.3": ["FAILED", "FAILED"],
      "6.8.1": ["FAILED", "FAILED"],
    },
  },
  {
    // Fails invalid UTF-8 with 1002 instead of 1007.
    agent: "raw-utf8-1002",
    breakage: { utf8Code: 1002 },
    expect: {
      ...BASELINE,
      "6.3.1": ["OK", "WRONG CODE"],
      "6.4.1": ["OK", "WRONG CODE"],
      "6.4.3": ["NON-STRICT", "WRONG CODE"],
      "6.8.1": ["OK", "WRONG CODE"],
    },
  },
  {
    // Never pongs: the cases with pings fail. Their close is still OK: Autobahn ends them with
    // closeAfter (case2_1.py, case2_2.py: 1 s; case2_10.py: 3 s; case5_6.py: 1 s), a close
    // frame without a code that the client answers cleanly.
    agent: "raw-no-pong",
    breakage: { noPong: true },
    expect: {
      ...BASELINE,
      "2.1": ["FAILED", "OK"],
      "2.2": ["FAILED", "OK"],
      "2.10": ["FAILED", "OK"],
      "5.6": ["FAILED", "OK"],
    },
  },
  {
    // Answers 7.3.6's close (a 126-octet control frame) with the same oversized close, as
    // Deno's WebSocket does. Seeing that violation while closing, the server drops the
    // connection and reads nothing more (Autobahn's consumeData stops once the state is
    // closed), so it never sees the close code 1000: no code is OK, and the server closed first.
    agent: "raw-echoes-oversized-close",
    breakage: { echoesOversizedClose: true },
    expect: BASELINE,
  },
];

Deno.test("conformance server self-test: a broken raw client fails exactly the cases its breakage touches", async () => {
  const out = await mkdtemp(join(tmpdir(), "parley-fuzz-"));
  const server = await startFuzzingServer({
    outDir: out,
    cases: CASES,
    scale: { full: false, timeScale: 0.1 },
  });
  try {
    assert.deepEqual(server.cases.map((c) => c.id), CASES, "the case selection, in order");
    await Promise.all(CLIENTS.map(async ({ agent, breakage }) => {
      for (let n = 1; n <= CASES.length; n++) {
        await runRawCase(`${server.url}/runCase?case=${n}&agent=${agent}`, breakage);
      }
    }));
    await runRawCase(`${server.url}/updateReports?agent=any`);
    const index: ReportIndex = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
    for (const { agent, expect } of CLIENTS) {
      const got = Object.fromEntries(
        Object.entries(index[agent]).map(([id, e]) => [id, [e.behavior, e.behaviorClose]]),
      );
      assert.deepEqual(got, expect, agent);
      const report = JSON.parse(
        await readFile(join(out, index[agent]["1.1.1"].reportfile), "utf8"),
      );
      assert.equal(report.id, "1.1.1");
      assert.equal(report.remoteCloseCode, 1000);
      assert.equal(report.wasClean, true);
    }
  } finally {
    await server.close();
    await rm(out, { recursive: true });
  }
});
