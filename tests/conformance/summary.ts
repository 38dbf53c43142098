// Reads an Autobahn-shaped index.json and summarizes it: per case group and client, how many
// cases got each verdict; the non-OK cases; and whether the gating clients passed.

import type { IndexEntry, ReportIndex } from "./reports.ts";
import { compareIds } from "./reports.ts";

/** One word per case: the behavior if it is not OK, else the close behavior. */
export function caseStatus(e: Pick<IndexEntry, "behavior" | "behaviorClose">): string {
  return e.behavior !== "OK" ? e.behavior : e.behaviorClose;
}

/**
 * Whether an entry fails the gate: FAILED, WRONG CODE or UNCLEAN anywhere, or UNIMPLEMENTED (a
 * compression case whose client did not agree on permessage-deflate).
 */
export function isGatingFailure(e: Pick<IndexEntry, "behavior" | "behaviorClose">): boolean {
  const bad = ["FAILED", "WRONG CODE", "UNCLEAN", "UNIMPLEMENTED"];
  return bad.includes(e.behavior) || bad.includes(e.behaviorClose);
}

const ORDER = [
  "OK",
  "NON-STRICT",
  "INFORMATIONAL",
  "UNIMPLEMENTED",
  "UNCLEAN",
  "WRONG CODE",
  "FAILED",
];

/** Counts like "OK 16, NON-STRICT 1" for the entries given. */
function counts(entries: Iterable<IndexEntry>): string {
  const c = new Map<string, number>();
  for (const e of entries) c.set(caseStatus(e), (c.get(caseStatus(e)) ?? 0) + 1);
  const keys = [...c.keys()].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  return keys.map((k) => `${k} ${c.get(k)}`).join(", ") || "-";
}

/** The group of a case id: its first number ("6" for "6.4.1"). */
export function groupOf(id: string): string {
  return id.split(".")[0];
}

/** Rows (one per case group, then a total) × columns (one per agent). */
export function summaryTable(index: ReportIndex, agents: readonly string[]): string[][] {
  const groups = new Set<string>();
  for (const a of agents) for (const id of Object.keys(index[a] ?? {})) groups.add(groupOf(id));
  const sorted = [...groups].sort(compareIds);
  const rows: string[][] = [["group", ...agents]];
  for (const g of sorted) {
    rows.push([
      g,
      ...agents.map((a) =>
        counts(Object.entries(index[a] ?? {}).filter(([id]) => groupOf(id) === g).map(([, e]) => e))
      ),
    ]);
  }
  rows.push(["all", ...agents.map((a) => counts(Object.values(index[a] ?? {})))]);
  return rows;
}

/** A plain-text table with aligned columns. */
export function formatText(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** A Markdown table, padded the way `deno fmt` lays it out. */
export function formatMarkdown(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join("\n");
}
