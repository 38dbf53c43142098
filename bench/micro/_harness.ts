// Shared by the micro-benchmarks in this folder (see docs/performance.md, "Micro-benchmarks").
// Variants of one operation run alternated in one process: every round runs each variant once,
// in an order that rotates from round to round, for about `ms` milliseconds each, after a
// warm-up. A variant's result is its median time per operation over the rounds, with the 10th
// and 90th percentiles; a variant's ratio to the first (the baseline) is the median of the
// per-round ratios, so a slow round (another process on the core) counts once for both.
//
// Time is the process's CPU time (user + system, `process.cpuUsage`) by default, which counts
// what the process did rather than how long it waited for a core on a busy machine;
// `--clock=wall` measures elapsed time instead.
//
// Runs under Deno, Node 24 and Bun; they all run these .ts files as they are.

import process from "node:process";

/** One variant: `run(n)` performs the operation `n` times. */
export interface Variant {
  readonly name: string;
  readonly run: (n: number) => void;
}

/** What one variant measured, in nanoseconds per operation. */
export interface Measured {
  readonly name: string;
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
  /** Median of the per-round ratios baseline / this (above 1: faster than the baseline). */
  readonly speedup: number;
  readonly speedupP10: number;
  readonly speedupP90: number;
}

/** The runtime running this, with its version. */
export function runtimeName(): string {
  const g = globalThis as {
    Bun?: { version: string };
    Deno?: { version: { deno: string } };
    process?: { versions: { node: string } };
  };
  if (g.Bun !== undefined) return `bun ${g.Bun.version}`;
  if (g.Deno !== undefined) return `deno ${g.Deno.version.deno}`;
  return `node ${g.process?.versions.node}`;
}

/** The command line's arguments after the script, in every runtime. */
export function scriptArgs(): string[] {
  const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
  if (g.Deno !== undefined && !("Bun" in globalThis)) return g.Deno.args;
  return g.process?.argv.slice(2) ?? [];
}

/** The value of `--name=value` in the arguments, or `fallback`. */
export function option(name: string, fallback: string): string;
export function option(name: string, fallback?: string): string | undefined;
export function option(name: string, fallback?: string): string | undefined {
  const prefix = `--${name}=`;
  const arg = scriptArgs().find((a) => a.startsWith(prefix));
  return arg === undefined ? fallback : arg.slice(prefix.length);
}

const quantile = (sorted: number[], q: number) => {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
};

/** Milliseconds by the chosen clock (see the top of the file). */
export const now: () => number = option("clock", "cpu") === "wall"
  ? () => performance.now()
  : () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };

/** How many operations take about `ms` milliseconds (at least one). */
function calibrate(run: (n: number) => void, ms: number): number {
  let n = 1;
  for (;;) {
    const t0 = now();
    run(n);
    const dt = now() - t0;
    if (dt >= ms / 4 || n >= 1 << 30) return Math.max(1, Math.round(n * ms / Math.max(dt, 1e-3)));
    n *= 4;
  }
}

/**
 * Measures `variants` alternated, `rounds` rounds of about `ms` milliseconds per variant.
 * The first variant is the baseline of the ratios.
 */
export function compare(
  variants: readonly Variant[],
  { rounds = Number(option("rounds", "15")), ms = Number(option("ms", "100")) } = {},
): Measured[] {
  // Warm-up: each variant until the JIT has seen it, then calibrated on the slowest.
  for (const v of variants) calibrate(v.run, ms);
  const counts = variants.map((v) => calibrate(v.run, ms));
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const t0 = now();
      variants[i].run(counts[i]);
      times[i].push((now() - t0) * 1e6 / counts[i]);
    }
  }
  return summarize(variants, times);
}

/**
 * Each variant's result from its times per operation, one per round (`times[variant][round]`):
 * the median and 10th-90th percentiles, and the per-round ratios to the first variant's.
 */
export function summarize(
  variants: ReadonlyArray<{ readonly name: string }>,
  times: readonly number[][],
): Measured[] {
  return variants.map((v, i) => {
    const sorted = [...times[i]].sort((a, b) => a - b);
    const ratios = times[i].map((t, r) => times[0][r] / t).sort((a, b) => a - b);
    return {
      name: v.name,
      median: quantile(sorted, 0.5),
      p10: quantile(sorted, 0.1),
      p90: quantile(sorted, 0.9),
      speedup: quantile(ratios, 0.5),
      speedupP10: quantile(ratios, 0.1),
      speedupP90: quantile(ratios, 0.9),
    };
  });
}

const fmtTime = (ns: number) =>
  ns >= 1e6
    ? `${(ns / 1e6).toPrecision(3)} ms`
    : ns >= 1e3
    ? `${(ns / 1e3).toPrecision(3)} µs`
    : `${ns.toPrecision(3)} ns`;

/**
 * Prints one case's lines: time per operation (median, p10-p90), throughput when `bytes` per
 * operation is given, and the speed-up against the first variant.
 */
export function print(title: string, results: readonly Measured[], bytes?: number): void {
  console.log(title);
  for (const m of results) {
    const rate = bytes === undefined ? "" : `  ${(bytes / m.median).toFixed(2).padStart(7)} GB/s`;
    console.log(
      `  ${m.name.padEnd(26)} ${fmtTime(m.median).padStart(10)} (${fmtTime(m.p10)}-${
        fmtTime(m.p90)
      })${rate}  ×${m.speedup.toFixed(2)} (${m.speedupP10.toFixed(2)}-${m.speedupP90.toFixed(2)})`,
    );
  }
}

/** Keeps a value alive so the JIT cannot drop the work that made it. */
export let sink: unknown;
/** Stores `value` in {@linkcode sink}. */
export function keep(value: unknown): void {
  sink = value;
}

/**
 * The `src/` to compare against, as a file URL ending in `/`: `--baseline=DIR` names a
 * directory holding an older `src/`, made with
 * `mkdir -p DIR && git archive REV src | tar -x -C DIR`. Undefined without the option.
 */
export function baselineSrc(): string | undefined {
  const dir = option("baseline");
  if (dir === undefined) return undefined;
  const abs = dir.startsWith("/") ? dir : `${cwd()}/${dir}`;
  return new URL(`file://${abs.replace(/\/$/, "")}/src/`).href;
}

function cwd(): string {
  const g = globalThis as { Deno?: { cwd(): string }; process?: { cwd(): string } };
  return g.process?.cwd() ?? g.Deno!.cwd();
}
