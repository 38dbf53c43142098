// Turns the repetitions' numbers into medians, min-max and ratio tables (bench/run.ts prints
// them and writes them to bench/results/).

import { CLIENTS, type ClientSpec, type Runtime, SCENARIOS, type Timing } from "./plan.ts";
import type { SoakLine } from "./soak.ts";
import {
  FLOOD_CONSTANT,
  HEAP_GROWTH_TARGET,
  mib,
  missedTarget,
  RECEIVE_BUFFER,
  type SoakProfile,
} from "./soak_plan.ts";

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
  json: [
    ["msgsPerSec", "msg/s", true],
    ["wireUpPerMsg", "wire B/msg up", false],
    ["wireDownPerMsg", "wire B/msg down", false],
  ],
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

/** A table as rows of cells, with notes printed under it. */
export interface Table {
  readonly title: string;
  readonly header: string[];
  readonly rows: string[][];
  readonly notes?: readonly string[];
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

/** Ratios further apart than this either way are shown as `>×10` or `<×0.1`. */
export const RATIO_LIMIT = 10;

/** The mark and note of a ratio beyond `RATIO_LIMIT`. */
export const FAR_APART = "†";
const FAR_APART_NOTE = `${FAR_APART} Beyond ${RATIO_LIMIT} times either way: the bare ` +
  "`WebSocket` is then an outlier (stalled, for example by delayed TCP acknowledgements on " +
  "every round trip, or costly per message or per connection), and the ratio describes it " +
  'more than the other client. The absolute numbers are in the report\'s "All clients" table.';

/**
 * A ratio in two significant digits (`1.8`, `0.87`, `6.3`), or `>10` / `<0.1` beyond
 * `RATIO_LIMIT` either way, so that no ratio reads as `522.88` or rounds to `0.00`.
 */
export function formatRatio(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (farApart(n)) return n >= 1 ? `>${RATIO_LIMIT}` : `<${1 / RATIO_LIMIT}`;
  return n.toPrecision(2);
}

/** Whether a ratio is beyond `RATIO_LIMIT` either way. */
export function farApart(n: number): boolean {
  // Compared as printed: 9.96 would print as "10".
  return Number(n.toPrecision(2)) >= RATIO_LIMIT || n < 1 / RATIO_LIMIT;
}

/**
 * A ratio cell: `×1.8 (1.5-1.9)`, with `*` when the server was the bound and `†` when the
 * median is beyond `RATIO_LIMIT`; the min-max is left out when it would repeat the median's
 * `>10` or `<0.1`.
 */
export function ratioCell(r: Summary, serverBound: boolean): string {
  const median = formatRatio(r.median);
  const marks = `${serverBound ? "*" : ""}${farApart(r.median) ? FAR_APART : ""}`;
  const min = formatRatio(r.min);
  const max = formatRatio(r.max);
  const spread = r.n > 1 && !(min === median && max === median) ? ` (${min}-${max})` : "";
  // `>×10`, not `×>10`.
  const value = /^[<>]/.test(median) ? `${median[0]}×${median.slice(1)}` : `×${median}`;
  return `${value}${marks}${spread}`;
}

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
    let far = false;
    const bound = (client: string, scenario: string) =>
      (summaries[client]?.[scenario]?.serverCpu?.median ?? 0) > SERVER_BOUND ? "*" : "";
    for (const scenario of SCENARIOS.filter((s) => scenarios.includes(s.name))) {
      for (const [metric, label] of ratioMetrics(scenario.kind, scenario.size)) {
        const b = summaries[base]?.[scenario.name]?.[metric];
        const cells = others.map((c) => {
          const r = ratioSummary(samples, c.name, base, scenario.name, metric);
          if (r !== undefined) {
            if (farApart(r.median)) far = true;
            return ratioCell(r, bound(c.name, scenario.name) !== "");
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
      notes: far ? [FAR_APART_NOTE] : [],
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
  const notes = (table.notes ?? []).flatMap((note) => ["", note]);
  return [table.title, line(table.header), ...table.rows.map(line), ...notes].join("\n");
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
    ...(table.notes ?? []).flatMap((note) => ["", note]),
  ].join("\n");
}

/** The machine and versions a run was made with. */
export interface MachineInfo {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly kernel: string;
  readonly memoryBytes: number;
  readonly deno: string;
  readonly node: string;
  readonly bun: string;
  readonly ws: string;
  readonly parleyCommit: string;
  /** Whether mod.ts or src/ differed from that commit (the numbers are then of the work tree). */
  readonly parleyDirty: boolean;
}

/** A client, scenario and repetition that lost, altered or failed to deliver a message. */
export interface Failure {
  readonly client: string;
  readonly scenario: string;
  readonly rep: number;
  readonly error: string;
}

/** A run as bench/run.ts writes it to `bench/results/<date>-<mode>.json`. */
export interface Report {
  readonly mode: string;
  readonly options: {
    readonly reps: number;
    readonly timing: Timing;
    readonly clients: readonly string[];
    readonly scenarios: readonly string[];
  };
  readonly command: string;
  readonly machine: MachineInfo;
  readonly wallSeconds: number;
  readonly loadAverage: { readonly start: string; readonly end: string };
  readonly failures: readonly Failure[];
  /** Anything the clients printed besides their results (warnings, say). */
  readonly clientOutput: readonly string[];
  readonly samples: Samples;
  readonly summaries: ReturnType<typeof summarizeAll>;
  /** The soak runs (`--soak`, and the short one in `--quick`). */
  readonly soak?: SoakReport;
}

/** One soak run's results: a runtime on a transport. */
export interface SoakResult {
  readonly name: string;
  readonly runtime: Runtime;
  readonly transport: "socket" | "web";
  readonly lines: readonly SoakLine[];
}

/** The soak part of a report. */
export interface SoakReport {
  /** The profile each transport ran. */
  readonly profiles: Readonly<Record<string, SoakProfile>>;
  readonly results: readonly SoakResult[];
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const count = (n: number) => n.toLocaleString("en");
const pct = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)}%`;

/**
 * The soak's tables: reconnect cycles and echoes (heap and RSS after GC at the start, after the
 * warm-up and at the end, and the growth after the warm-up), and the flood (the peak held above
 * the start, against receiveBuffer + one message + the constant).
 */
export function soakTables(soak: SoakReport): Table[] {
  const rows: string[][] = [];
  const floods: string[][] = [];
  for (const r of soak.results) {
    for (const line of r.lines) {
      const m = line.metrics;
      const missed = missedTarget(line);
      const verdict = !line.ok ? `FAILED: ${line.error}` : missed ? `missed: ${missed}` : "met";
      if (line.soak === "flood") {
        if (m === undefined) {
          floods.push([r.name, "-", "-", "-", "-", "-", "-", verdict]);
          continue;
        }
        const bound = RECEIVE_BUFFER + m.size;
        floods.push([
          r.name,
          `${count(m.messages)} × ${kib(m.size)}`,
          `${m.seconds.toFixed(1)} s`,
          mib(m.peakHeld),
          mib(bound),
          mib(m.peakHeld - bound),
          mib(m.peakRss),
          verdict,
        ]);
        continue;
      }
      if (m === undefined) {
        rows.push([r.name, line.soak, ...Array(9).fill("-"), verdict]);
        continue;
      }
      rows.push([
        r.name,
        line.soak,
        count(line.soak === "cycles" ? m.cycles : m.messages),
        `${formatNumber(m.perSec)}/s`,
        mib(m.heapStart),
        mib(m.heapWarm),
        mib(m.heapEnd),
        pct(m.heapGrowth),
        `${(m.rssStart / 2 ** 20).toFixed(0)} / ${(m.rssWarm / 2 ** 20).toFixed(0)} / ${
          (m.rssEnd / 2 ** 20).toFixed(0)
        } MiB`,
        pct(m.rssGrowth),
        verdict,
      ]);
    }
  }
  const tables: Table[] = [];
  if (rows.length > 0) {
    tables.push({
      title: "Soak: reconnect cycles and echoes, memory after GC",
      header: [
        "run",
        "soak",
        "count",
        "rate (after warm-up)",
        "heap start",
        "heap warm",
        "heap end",
        "heap growth",
        "RSS start / warm / end",
        "RSS growth",
        `target: heap growth ≤ ${HEAP_GROWTH_TARGET}%`,
      ],
      rows,
      notes: [
        "Heap: the JS heap and array buffers (V8: heapUsed + external; Bun: heapUsed, which " +
        "counts them), after a collection; growth is from the warm-up to the end.",
      ],
    });
  }
  if (floods.length > 0) {
    tables.push({
      title: "Soak: a flood against a handleFrame that awaits 1 ms per message",
      header: [
        "run",
        "messages",
        "time",
        "peak held",
        "receiveBuffer + one message",
        "above it",
        "peak RSS above the start",
        `target: above it ≤ ${mib(FLOOD_CONSTANT)}`,
      ],
      rows: floods,
      notes: [
        "Held: heap and array buffers after a collection, sampled while the flood runs, above " +
        "what the client held before it. Nothing lost: every message the server sent arrived, " +
        "once and in order, or the run fails.",
      ],
    });
  }
  return tables;
}

/** What each profile ran, in words. */
function soakProfileLine(name: string, p: SoakProfile): string {
  const parts: string[] = [];
  if (p.cycles) {
    parts.push(`${count(p.cycles.count)} reconnect cycles (warm-up ${count(p.cycles.warm)})`);
  }
  if (p.echoes) {
    parts.push(
      `${count(p.echoes.count)} echoed ${
        kib(p.echoes.size)
      } messages, ${p.echoes.window} in flight (warm-up ${count(p.echoes.warm)})`,
    );
  }
  if (p.flood) {
    parts.push(
      `a flood of ${count(p.flood.messages)} × ${
        kib(p.flood.size)
      } against a handleFrame awaiting ${p.flood.consumeMs} ms per message (memory sampled every ${p.flood.sampleMs} ms)`,
    );
  }
  return `- ${name}: ${parts.join("; ")}`;
}

/** The soak section of a run's Markdown. */
export function soakMarkdown(soak: SoakReport): string {
  return [
    "## Soak",
    "",
    "Parley through its public API, one process per runtime and transport, against the same " +
    "server: one client disconnects and connects again; echoes on one connection; a flood of " +
    "`stream` messages (the server sends as fast as TCP takes them) to a consumer that awaits " +
    "1 ms per message, with the default receiveBuffer (4 MiB).",
    "",
    ...Object.entries(soak.profiles).map(([name, p]) => soakProfileLine(name, p)),
    "",
    ...soakTables(soak).map((t) => markdownTable(t) + "\n"),
  ].join("\n");
}

/** A run's Markdown: how it was made, one ratio table per runtime, every client's numbers. */
export function markdownReport(report: Report): string {
  if (report.mode === "soak" && report.soak !== undefined) return soakOnlyMarkdown(report);
  const { machine: info, options: { reps, timing }, loadAverage: load } = report;
  const clients = CLIENTS.filter((c) => report.options.clients.includes(c.name));
  const scenarios = report.options.scenarios;
  const tables = ratioTables(report.samples, report.summaries, clients, scenarios);
  const absolute = absoluteTable(report.summaries, clients, scenarios);
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(0)} GiB`;
  return [
    `## Benchmark`,
    "",
    `- Command: \`${report.command}\` (${report.mode}: ${reps} repetition${
      reps > 1 ? "s" : ""
    }, each scenario warmed up ${timing.warmMs} ms then measured over ${timing.timedMs} ms; ` +
    `idle memory with ${timing.idleConnections.toLocaleString("en")} connections; wall time ${
      report.wallSeconds.toFixed(0)
    } s)`,
    `- Date: ${info.date}; Parley ${info.parleyCommit.slice(0, 12)}${
      info.parleyDirty ? " with uncommitted changes to src/" : ""
    }`,
    `- Machine: ${info.cpu}, ${info.cores} cores, ${
      gib(info.memoryBytes)
    }, Linux ${info.kernel}; ` +
    `load average ${load.start} at the start, ${load.end} at the end`,
    `- Versions: ${info.deno}, node ${info.node}, bun ${info.bun}, npm:ws ${info.ws}`,
    `- Server: a Bun ${info.bun} process of its own on the same cores (Bun.serve's native ` +
    `WebSocket echo, no compression; a Bun.listen raw TCP port that writes back the bytes it ` +
    `receives; for the json scenarios with compression, a Bun.serve echo with its ` +
    `permessage-deflate on); its CPU is measured over each window. json-*: compressible JSON ` +
    `text echoed, compression offered by the clients that choose (Parley's socket transport, ` +
    `npm:ws), or (-off) by none; the runtimes' WebSockets offer it as they do. Wire B/msg: the ` +
    `bytes the server's TCP connection received (up) and sent (down) per echoed message (the ` +
    `kernel's counters, read with ss over the window).`,
    "",
    `Clients run one at a time, each in a process of its own per repetition, in an order that ` +
    `rotates and reverses between repetitions. \`×N\` is N times the runtime's bare global ` +
    `\`WebSocket\` (whichever way is better: for p99 latency and memory lower is better), the ` +
    `median of the per-repetition ratios in two significant digits, with their min-max in ` +
    `parentheses; the websocket column shows its median (min-max). \`>×${RATIO_LIMIT}\` and ` +
    `\`<×${1 / RATIO_LIMIT}\` (marked ${FAR_APART}) stand for ratios beyond ${RATIO_LIMIT} ` +
    `times either way. \`raw\` is a TCP client of the same runtime doing the same exchange with ` +
    `no WebSocket framing (echo: pure bytes), the ceiling. \`*\`: the server used more than ` +
    `${SERVER_BOUND}% of a core, so that number may be bounded by the server. Idle memory is per ` +
    `open connection, after GC, relative to a baseline taken after warm-up connections, once the ` +
    `server counts them all open.`,
    "",
    ...tables.map((t) => markdownTable(t) + "\n"),
    markdownTable(absolute),
    "",
    ...(report.soak ? [soakMarkdown(report.soak)] : []),
    report.failures.length
      ? `**Failures:**\n\n${
        report.failures.map((f) => `- ${f.client} ${f.scenario} (rep ${f.rep + 1}): ${f.error}`)
          .join("\n")
      }`
      : "No message lost or altered in any run.",
    "",
  ].join("\n");
}

// `deno run -R -W bench/report.ts bench/results/<run>.json`: rewrites the run's Markdown next to
// it from its JSON (after a change to the tables' format).
if (import.meta.main) {
  for (const path of Deno.args) {
    const report: Report = JSON.parse(await Deno.readTextFile(path));
    const md = path.replace(/\.json$/, ".md");
    await Deno.writeTextFile(md, markdownReport(report));
    console.log(`wrote ${md}`);
  }
}

/** A `--soak` run's Markdown: how it was made, and the soak's tables. */
function soakOnlyMarkdown(report: Report): string {
  const { machine: info, loadAverage: load } = report;
  return [
    "## Soak benchmark",
    "",
    `- Command: \`${report.command}\` (wall time ${report.wallSeconds.toFixed(0)} s)`,
    `- Date: ${info.date}; Parley ${info.parleyCommit.slice(0, 12)}${
      info.parleyDirty ? " with uncommitted changes to src/" : ""
    }`,
    `- Machine: ${info.cpu}, ${info.cores} cores, ${
      (info.memoryBytes / 2 ** 30).toFixed(0)
    } GiB, ` +
    `Linux ${info.kernel}; load average ${load.start} at the start, ${load.end} at the end`,
    `- Versions: ${info.deno}, node ${info.node}, bun ${info.bun}; server: Bun ${info.bun} ` +
    "(bench/server.ts) in a process of its own",
    "",
    soakMarkdown(report.soak!),
    report.failures.length
      ? `**Failures:**\n\n${
        report.failures.map((f) => `- ${f.client} ${f.scenario}: ${f.error}`).join("\n")
      }`
      : "Every soak met its target; no message lost.",
    "",
  ].join("\n");
}
