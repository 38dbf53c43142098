import assert from "node:assert/strict";
import { formatRatio, markdownTable, ratioCell, soakTables, summarize } from "./report.ts";
import type { SoakLine } from "./soak.ts";
import { FLOOD_CONSTANT, missedTarget, RECEIVE_BUFFER } from "./soak_plan.ts";

Deno.test("ratios print in two significant digits, never as 522.88 or 0.00", () => {
  assert.equal(formatRatio(1.8012), "1.8");
  assert.equal(formatRatio(0.8734), "0.87");
  assert.equal(formatRatio(1), "1.0");
  assert.equal(formatRatio(0.1), "0.10");
  assert.equal(formatRatio(9.94), "9.9");
  assert.equal(formatRatio(9.96), ">10");
  assert.equal(formatRatio(522.88), ">10");
  assert.equal(formatRatio(0.0023), "<0.1");
  assert.equal(formatRatio(NaN), "-");
});

Deno.test("a ratio cell shows the median, its marks and the min-max", () => {
  assert.equal(ratioCell(summarize([1.52, 1.8, 1.89]), false), "×1.8 (1.5-1.9)");
  assert.equal(ratioCell(summarize([1.66, 1.13, 2.01]), true), "×1.7* (1.1-2.0)");
  assert.equal(ratioCell(summarize([1.66]), false), "×1.7");
  // Beyond ten times: marked, and a min-max of ">10"s is left out.
  assert.equal(ratioCell(summarize([498.09, 522.88, 585.24]), false), ">×10†");
  assert.equal(ratioCell(summarize([0.0021, 0.0023, 0.0031]), false), "<×0.1†");
  assert.equal(ratioCell(summarize([6.2, 12.1, 15]), false), ">×10† (6.2->10)");
  assert.equal(ratioCell(summarize([0.25, 0.5, 0.75]), false), "×0.50 (0.25-0.75)");
});

Deno.test("a table's notes follow it in Markdown", () => {
  const md = markdownTable({ title: "t", header: ["a", "b", "c"], rows: [], notes: ["† a note"] });
  assert.equal(md, "### t\n\n| a | b | c |\n| --- | --- | ---: |\n\n† a note");
});

Deno.test("a soak misses its target when its heap grows more than 5% after the warm-up, or a flood holds more than receiveBuffer + one message + 2.5 MiB", () => {
  const MiB = 1024 * 1024;
  const cycles = (heapGrowth: number): SoakLine => ({
    soak: "cycles",
    ok: true,
    metrics: { heapGrowth },
    ms: 1,
  });
  assert.equal(missedTarget(cycles(4.9)), undefined);
  assert.match(missedTarget(cycles(5.1))!, /grew 5\.1%/);
  const flood = (peakHeld: number): SoakLine => ({
    soak: "flood",
    ok: true,
    metrics: { peakHeld, size: 16384 },
    ms: 1,
  });
  assert.equal(missedTarget(flood(RECEIVE_BUFFER + 16384 + FLOOD_CONSTANT)), undefined);
  assert.match(missedTarget(flood(8 * MiB))!, /held 8\.00 MiB/);
  // A failed soak is a failure, not a missed target.
  assert.equal(missedTarget({ soak: "echoes", ok: false, error: "lost", ms: 1 }), undefined);
});

Deno.test("the soak's tables show a failed run and a missed target", () => {
  const [table, floods] = soakTables({
    profiles: {},
    results: [{
      name: "deno-parley-socket",
      runtime: "deno",
      transport: "socket",
      lines: [
        { soak: "cycles", ok: false, error: "the connection ended unasked", ms: 1 },
        {
          soak: "flood",
          ok: true,
          metrics: { messages: 2, size: 1024, seconds: 1, peakHeld: 9e6, peakRss: 0 },
          ms: 1,
        },
      ],
    }],
  });
  assert.match(table.rows[0].at(-1)!, /^FAILED: the connection ended unasked/);
  assert.match(floods.rows[0].at(-1)!, /^missed: held/);
});
