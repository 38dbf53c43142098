import assert from "node:assert/strict";
import { formatRatio, markdownTable, ratioCell, summarize } from "./report.ts";

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
