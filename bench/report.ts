// Turns the repetitions' numbers into medians, min-max and ratio tables (bench/run.ts prints
// them and writes them to bench/results/).

import { type ClientSpec, type Runtime, SCENARIOS } from "./plan.ts";

/** One scenario's numbers from one repetition of one client. */
export interface Sample {
  readonly rep: number;
  readonly metrics: Record<string, number>;
  /** The server's CPU over the measured window, % of one core. */
  readonly serverCpu?: number;
  /** The scenario's wall time in ms. */
  readonly ms?: number;
}

/** Median, min and max of a metric over the repetitions. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** samples[client][scenario] */
export type Samples = Record<string, Record<string, Sample[]>>;

/** The numbers the tables show for a scenario kind, and whether higher is better. */
const HEADLINES: Record<string, Array<[metric: string, label: string, higherIsBetter: boolean]>> = {
  echo: [["msgsPerSec", "msg/s", true], ["mbPerSec", "MB/s", true]],
  rtt: [["rttPerSec", "round trips/s", true], ["p50us", "p50 µs", false], [
    "p99us",
    "p99 µs",
    false,
  ]],
  up: [["msgsPerSec", "msg/s", true], ["mbPerSec", "MB/s", true]],
  down: [["msgsPerSec", "msg/s", true], ["mbPerSec", "MB/s", true]],
  connect: [["connPerSec", "conn/s", true]],
  idle: [["rssPerConn", "RSS B/conn", false], ["heapPerConn", "heap B/conn", false]],
};

/**
 * The ratio tables' rows per scenario kind: one throughput row (its ratio is the same in msg/s
 * and MB/s; MB/s reads better from 16 KiB on), and p99 but not p50 for round trips (p50 moves
 * with the rate).
 */
function ratioMetrics(kind: string, size: number): Array<[metric: string, label: string]> {
  switch (kind) {
    case "echo":
    case "up":
    case "down":
      return [size >= 16 * 1024 ? ["mbPerSec", "MB/s"] : ["msgsPerSec", "msg/s"]];
    case "rtt":
      return [["rttPerSec", "round trips/s"], ["p99us", "p99 µs"]];
    default:
      return HEADLINES[kind].map(([metric, label]) => [metric, label]);
  }
}

/** Server CPU (% of one core, median over the repetitions) above which a number is marked `*`. */
export const SERVER_BOUND = 85;

/** The median, min and max of `values`. */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** Summaries of every metric: summaries[client][scenario][metric]. */
export function summarizeAll(
  samples: Samples,
): Record<string, Record<string, Record<string, Summary>>> {
  const out: Record<string, Record<string, Record<string, Summary>>> = {};
  for (const [client, byScenario] of Object.entries(samples)) {
    for (const [scenario, list] of Object.entries(byScenario)) {
      const metrics = new Set(list.flatMap((s) => Object.keys(s.metrics)));
      const entry: Record<string, Summary> = {};
      for (const metric of metrics) {
        entry[metric] = summarize(list.map((s) => s.metrics[metric]).filter(Number.isFinite));
      }
      const cpu = list.map((s) => s.serverCpu).filter((c): c is number => c !== undefined);
      if (cpu.length > 0) entry.serverCpu = summarize(cpu);
      (out[client] ??= {})[scenario] = entry;
    }
  }
  return out;
}

/** A number in 3-4 significant digits with k/M. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "-";
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e8 ? 0 : abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(abs >= 1e5 ? 0 : abs >= 1e4 ? 1 : 2)}k`;
  return abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** A table as rows of cells. */
export interface Table {
  readonly title: string;
  readonly header: string[];
  readonly rows: string[][];
}

/**
 * The ratio of `client` to `base` in each repetition both ran (they ran close in time, in
 * alternating order), summarized over the repetitions.
 */
export function ratioSummary(
  samples: Samples,
  client: string,
  base: string,
  scenario: string,
  metric: string,
): Summary | undefined {
  const mine = samples[client]?.[scenario] ?? [];
  const theirs = samples[base]?.[scenario] ?? [];
  const ratios: number[] = [];
  for (const sample of mine) {
    const b = theirs.find((t) => t.rep === sample.rep)?.metrics[metric];
    const v = sample.metrics[metric];
    if (b && Number.isFinite(b) && Number.isFinite(v)) ratios.push(v / b);
  }
  return ratios.length > 0 ? summarize(ratios) : undefined;
}

const range = (s: Summary, format: (n: number) => string) =>
  s.n > 1 ? ` (${format(s.min)}-${format(s.max)})` : "";
const ratioText = (n: number) => n.toFixed(2);

/**
 * One table per runtime. The bare `WebSocket`'s median (min-max over the repetitions), then each
 * other client's ratio to it (`×1.25`: 1.25 times the WebSocket's number, whichever way is better
 * for that metric): the median of the per-repetition ratios and their min-max. A `*` marks a
 * number measured while the server used more than `SERVER_BOUND`% of a core (median): it may be
 * bounded by the server rather than by the client. The last column is the server's highest CPU.
 */
export function ratioTables(
  samples: Samples,
  summaries: ReturnType<typeof summarizeAll>,
  clients: readonly ClientSpec[],
  scenarios: readonly string[],
): Table[] {
  const tables: Table[] = [];
  for (const runtime of ["deno", "node", "bun"] as Runtime[]) {
    const mine = clients.filter((c) => c.runtime === runtime);
    if (mine.length === 0) continue;
    const base = `${runtime}-websocket`;
    const others = mine.filter((c) => c.name !== base);
    const header = ["scenario", "metric", "websocket", ...others.map((c) => c.kind), "server CPU"];
    const rows: string[][] = [];
    const bound = (client: string, scenario: string) =>
      (summaries[client]?.[scenario]?.serverCpu?.median ?? 0) > SERVER_BOUND ? "*" : "";
    for (const scenario of SCENARIOS.filter((s) => scenarios.includes(s.name))) {
      for (const [metric, label] of ratioMetrics(scenario.kind, scenario.size)) {
        const b = summaries[base]?.[scenario.name]?.[metric];
        const cells = others.map((c) => {
          const r = ratioSummary(samples, c.name, base, scenario.name, metric);
          if (r !== undefined) {
            return `×${ratioText(r.median)}${bound(c.name, scenario.name)}${range(r, ratioText)}`;
          }
          const v = summaries[c.name]?.[scenario.name]?.[metric];
          return v === undefined ? "-" : formatNumber(v.median);
        });
        const cpu = Math.max(
          ...mine.map((c) => summaries[c.name]?.[scenario.name]?.serverCpu?.max ?? 0),
        );
        rows.push([
          scenario.name,
          label,
          b === undefined
            ? "-"
            : `${formatNumber(b.median)}${bound(base, scenario.name)}${range(b, formatNumber)}`,
          ...cells,
          scenario.kind === "idle" ? "-" : `${cpu.toFixed(0)}%`,
        ]);
      }
    }
    tables.push({
      title: `${runtime}: ratios to ${base}`,
      header,
      rows,
    });
  }
  return tables;
}

/** Every client's median and min-max for every headline metric. */
export function absoluteTable(
  summaries: ReturnType<typeof summarizeAll>,
  clients: readonly ClientSpec[],
  scenarios: readonly string[],
): Table {
  const rows: string[][] = [];
  for (const scenario of SCENARIOS.filter((s) => scenarios.includes(s.name))) {
    for (const [metric, label] of HEADLINES[scenario.kind]) {
      rows.push([
        scenario.name,
        label,
        ...clients.map((c) => {
          const s = summaries[c.name]?.[scenario.name]?.[metric];
          return s === undefined ? "-" : `${formatNumber(s.median)}${range(s, formatNumber)}`;
        }),
      ]);
    }
    if (scenario.kind === "idle") continue;
    for (const [metric, label] of [["clientCpu", "client CPU %"], ["serverCpu", "server CPU %"]]) {
      rows.push([
        scenario.name,
        label,
        ...clients.map((c) => {
          const s = summaries[c.name]?.[scenario.name]?.[metric];
          return s === undefined ? "-" : `${s.median.toFixed(0)}${range(s, (n) => n.toFixed(0))}`;
        }),
      ]);
    }
  }
  return {
    title: "All clients: median (min-max over the repetitions)",
    header: ["scenario", "metric", ...clients.map((c) => c.name)],
    rows,
  };
}

/** A table as aligned plain text. */
export function textTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const line = (r: string[]) =>
    r.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  return [table.title, line(table.header), ...table.rows.map(line)].join("\n");
}

/** A table as Markdown. */
export function markdownTable(table: Table): string {
  const row = (r: string[]) => `| ${r.join(" | ")} |`;
  return [
    `### ${table.title}`,
    "",
    row(table.header),
    row(table.header.map((_, i) => i < 2 ? "---" : "---:")),
    ...table.rows.map(row),
  ].join("\n");
}
