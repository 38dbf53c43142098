// The conformance runner (`deno task conformance`): starts the fuzzing server (or uses an external
// one, such as the official Autobahn fuzzingserver), runs Parley's client driver on the socket and
// web transports under Deno, Node and Bun, two at a time, then prints a table (case group ×
// client, counts per verdict) and writes a Markdown report with every non-OK case.
//
//   deno run -A tests/conformance/run.ts [--full] [--server ws://host:port [--index PATH]]
//     [--clients socket,web-deno] [--cases 6.4.*,7.*] [--out DIR] [--parallel 2] [--time-scale X]
//
// Exit code 1 if a socket-transport client has a case FAILED, WRONG CODE, UNCLEAN or UNIMPLEMENTED,
// a client did not finish, or a case is missing; the web transport's results are reported, not
// gating.

import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { selectCases } from "./cases.ts";
import type { ReportIndex } from "./reports.ts";
import { compareIds } from "./reports.ts";
import {
  caseStatus,
  formatMarkdown,
  formatText,
  isGatingFailure,
  summaryTable,
} from "./summary.ts";
import { readFirstLine } from "../support/first_line.ts";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const ROOT = here("../../");
const DRIVER = here("./client_driver.ts");
const SERVER = here("./server_main.ts");
const RUNTIMES = ["deno", "node", "bun"] as const;
const TRANSPORTS = ["socket", "web"] as const;

/** The runner's options. */
export interface RunOptions {
  readonly full: boolean;
  readonly server?: string;
  readonly index?: string;
  readonly clients: readonly string[];
  readonly cases?: readonly string[];
  readonly out: string;
  readonly parallel: number;
  readonly timeScale?: number;
  /** Print progress and the table (default true). */
  readonly verbose?: boolean;
}

/** What a run found. */
export interface RunOutcome {
  readonly index: ReportIndex;
  readonly agents: readonly string[];
  readonly table: string;
  /** Why the gate failed (empty: passed). */
  readonly problems: readonly string[];
  readonly reportPath: string;
  readonly seconds: number;
}

/** Parses the command line. */
export function parseRunArgs(argv: readonly string[]): RunOptions {
  let full = false;
  let server: string | undefined;
  let index: string | undefined;
  let clients: string[] = [];
  let cases: string[] | undefined;
  let out = here("./reports");
  let parallel = 2;
  let timeScale: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--full":
        full = true;
        break;
      case "--server":
        server = value().replace(/\/+$/, "");
        break;
      case "--index":
        index = value();
        break;
      case "--clients":
        clients = value().split(",").filter(Boolean);
        break;
      case "--cases":
        cases = value().split(",").filter(Boolean);
        break;
      case "--out":
        out = value();
        break;
      case "--parallel":
        parallel = Math.max(1, Number(value()));
        break;
      case "--time-scale":
        timeScale = Number(value());
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return { full, server, index, clients, cases, out, parallel, timeScale };
}

/** The agents to run: `parley-<transport>-<runtime>`, filtered by `--clients` (substrings). */
export function selectAgents(filters: readonly string[]): string[] {
  const all = TRANSPORTS.flatMap((t) => RUNTIMES.map((r) => `parley-${t}-${r}`));
  if (filters.length === 0) return all;
  return all.filter((a) => filters.some((f) => a.includes(f)));
}

function tool(name: string): string {
  return join(ROOT, ".tools/node_modules/.bin", name);
}

function commandFor(agent: string, url: string): [string, string[]] {
  const [, transport, runtime] = agent.split("-");
  const args = [DRIVER, url, agent, "--transport", transport];
  const host = new URL(url).host;
  if (runtime === "deno") {
    return [Deno.execPath(), ["run", `--allow-net=${host}`, "--allow-env", "--no-prompt", ...args]];
  }
  return [tool(runtime), args];
}

interface ClientRun {
  readonly agent: string;
  readonly code: number;
  readonly seconds: number;
  readonly output: string;
}

async function runClient(agent: string, url: string, timeoutMs: number): Promise<ClientRun> {
  const started = performance.now();
  const [bin, args] = commandFor(agent, url);
  const child = new Deno.Command(bin, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone already */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  return {
    agent,
    code: out.code,
    seconds: (performance.now() - started) / 1000,
    output: (text.decode(out.stdout) + text.decode(out.stderr)).trim(),
  };
}

/** Runs `tasks` with at most `n` at a time, in order. */
async function pool<T>(tasks: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  return results;
}

/** A fuzzing server in a process of its own (one per client, so no client's heavy case stalls
 * another's timers); it prints its URL, then serves until killed. */
async function startServerProcess(
  outDir: string,
  options: RunOptions,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = [
    "run",
    "--allow-net=127.0.0.1",
    "--allow-read",
    "--allow-write",
    "--no-prompt",
    SERVER,
    "--port",
    "0",
    "--out",
    outDir,
    "--time-scale",
    String(timeScaleOf(options)),
    ...(options.full ? ["--full"] : []),
    ...(options.cases ? ["--cases", options.cases.join(",")] : []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const { line: first, drained } = await readFirstLine(child.stdout);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone already */ }
    await child.status;
    await drained;
    await stderr;
  };
  const url = first.trim();
  if (!url.startsWith("ws://")) {
    await stop();
    throw new Error(`the fuzzing server did not start: ${first}${await stderr}`);
  }
  return { url, stop };
}

function timeScaleOf(options: RunOptions): number {
  return options.timeScale ?? 1;
}

/** Runs one client against its own fuzzing server (or the external one). */
async function runAgent(agent: string, options: RunOptions, timeoutMs: number): Promise<ClientRun> {
  if (options.server !== undefined) return await runClient(agent, options.server, timeoutMs);
  const server = await startServerProcess(join(options.out, "servers", agent), options);
  try {
    return await runClient(agent, server.url, timeoutMs);
  } finally {
    await server.stop();
  }
}

/** Gathers the per-client servers' reports into one Autobahn-shaped directory. */
async function mergeReports(
  out: string,
  agents: readonly string[],
  reportsDir: string,
): Promise<ReportIndex> {
  await mkdir(reportsDir, { recursive: true });
  const merged: ReportIndex = {};
  for (const agent of agents) {
    const dir = join(out, "servers", agent);
    let index: ReportIndex;
    try {
      index = JSON.parse(await readFile(join(dir, "index.json"), "utf8"));
    } catch {
      continue; // the client never asked for its reports: reported as missing cases
    }
    merged[agent] = index[agent] ?? {};
    for (const e of Object.values(merged[agent])) {
      await copyFile(join(dir, e.reportfile), join(reportsDir, e.reportfile));
    }
  }
  await writeFile(join(reportsDir, "index.json"), JSON.stringify(merged, null, 2) + "\n");
  return merged;
}

/** Runs the whole thing; see the file's header. */
export async function runConformance(options: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const log = options.verbose === false ? () => {} : (s: string) => console.log(s);
  const agents = selectAgents(options.clients);
  if (agents.length === 0) throw new Error(`no client matches --clients ${options.clients}`);
  const reportsDir = join(options.out, "clients");
  await rm(join(options.out, "servers"), { recursive: true, force: true });
  await mkdir(options.out, { recursive: true });
  const problems: string[] = [];
  const local = options.server === undefined;
  log(
    local
      ? `fuzzing servers: one per client (${selectCases(options.cases).length} cases)`
      : `fuzzing server: ${options.server} (external)`,
  );
  const timeout = (options.full ? 30 : 5) * 60_000;
  const runs = await pool(
    agents.map((a) => async () => {
      const r = await runAgent(a, options, timeout);
      log(`  ${a}: exit ${r.code} after ${r.seconds.toFixed(1)} s`);
      return r;
    }),
    options.parallel,
  );
  for (const r of runs) {
    if (r.code !== 0) {
      const msg = `${r.agent}: the driver exited with ${r.code}: ${r.output.slice(-2000)}`;
      if (r.agent.includes("-socket-")) problems.push(msg);
      else log(`  (not gating) ${msg}`);
    }
  }
  const index: ReportIndex = local
    ? await mergeReports(options.out, agents, reportsDir)
    : JSON.parse(await readFile(options.index ?? join(reportsDir, "index.json"), "utf8"));
  const expectedCount = local ? selectCases(options.cases).length : undefined;
  // What each driver said about a case connection it failed (`case <n>: ...`), by case id.
  const order = selectCases(options.cases).map((c) => c.id);
  const said = new Map<string, string>();
  for (const r of runs) {
    for (const m of r.output.matchAll(/^case (\d+): (.*)$/gm)) {
      const id = order[Number(m[1]) - 1];
      if (id !== undefined) said.set(`${r.agent} ${id}`, m[2]);
    }
  }
  for (const a of agents) {
    const entries = index[a] ?? {};
    const n = Object.keys(entries).length;
    if (a.includes("-socket-")) {
      if (expectedCount !== undefined && n !== expectedCount) {
        problems.push(`${a}: ${n} cases reported, ${expectedCount} expected`);
      }
      for (const [id, e] of Object.entries(entries)) {
        if (isGatingFailure(e)) {
          const why = said.get(`${a} ${id}`);
          problems.push(
            `${a} ${id}: behavior ${e.behavior}, close ${e.behaviorClose}${
              why === undefined ? "" : ` (the client: ${why})`
            }`,
          );
        }
      }
    }
  }
  const rows = summaryTable(index, agents);
  const table = formatText(rows);
  const seconds = (performance.now() - started) / 1000;
  const reportPath = join(options.out, "report.md");
  await writeFile(
    reportPath,
    await markdownReport(index, agents, rows, reportsDir, problems, seconds, options),
  );
  log("");
  log(table);
  log("");
  log(`report: ${reportPath}`);
  log(`${problems.length === 0 ? "PASS" : "FAIL"} in ${seconds.toFixed(1)} s`);
  for (const p of problems) log(`  ${p}`);
  return { index, agents, table, problems, reportPath, seconds };
}

async function markdownReport(
  index: ReportIndex,
  agents: readonly string[],
  rows: string[][],
  reportsDir: string,
  problems: readonly string[],
  seconds: number,
  options: RunOptions,
): Promise<string> {
  const lines = [
    "# Conformance report",
    "",
    `Server: ${options.server ?? "tests/conformance fuzzing server"}; ` +
    (options.full
      ? "groups 9, 12 and 13 at full size"
      : "group 9 scaled (sizes / 16, 100 round trips), groups 12 and 13 to 10 messages a case") +
    `, delays × ${timeScaleOf(options)}; ${seconds.toFixed(1)} s.`,
    "",
    formatMarkdown(rows),
    "",
    `Gate (socket transport: no FAILED, WRONG CODE, UNCLEAN or UNIMPLEMENTED): ${
      problems.length === 0 ? "passed" : "FAILED"
    }`,
    ...problems.map((p) => `- ${p}`),
    "",
    "## Cases that are not OK",
    "",
  ];
  let any = false;
  for (const a of agents) {
    const entries = Object.entries(index[a] ?? {}).sort(([x], [y]) => compareIds(x, y));
    const notOk = entries.filter(([, e]) => caseStatus(e) !== "OK");
    if (notOk.length === 0) continue;
    any = true;
    lines.push(`### ${a}`, "");
    for (const [id, e] of notOk) {
      let detail: Record<string, unknown> = {};
      try {
        detail = JSON.parse(await readFile(join(reportsDir, e.reportfile), "utf8"));
      } catch { /* an external server's report may live elsewhere */ }
      lines.push(
        `- **${id}**: behavior ${e.behavior}, close ${e.behaviorClose}, client close code ` +
          `${e.remoteCloseCode ?? "none"}, ${e.duration} ms`,
      );
      for (const key of ["description", "expectation", "result", "resultClose"]) {
        if (detail[key]) lines.push(`  - ${key}: ${String(detail[key]).replace(/\s+/g, " ")}`);
      }
      if (detail.received) lines.push(`  - received: \`${JSON.stringify(detail.received)}\``);
      if (detail.expected) lines.push(`  - expected: \`${JSON.stringify(detail.expected)}\``);
      if (Array.isArray(detail.notes) && detail.notes.length > 0) {
        lines.push(`  - notes: ${detail.notes.join("; ")}`);
      }
    }
    lines.push("");
  }
  if (!any) lines.push("None.", "");
  return lines.join("\n");
}

if (import.meta.main) {
  let options: RunOptions;
  try {
    options = parseRunArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  const outcome = await runConformance(options);
  Deno.exit(outcome.problems.length === 0 ? 0 : 1);
}
