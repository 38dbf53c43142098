// `deno run -A bench/run.ts [--quick | --soak] [--check] [--reps=N] [--clients=a,b]
// [--scenarios=a,b] [--fault=drop|corrupt] [--pin] [--warm-ms=N] [--timed-ms=N]`: the side-by-side
// benchmark, and the soak.
// Starts the Bun echo server (bench/server.ts) in a process of its own, then runs every client
// (bench/plan.ts's CLIENTS: Parley on both transports, each runtime's bare WebSocket, npm:ws on
// Node, raw TCP) in a process of its own per repetition, in an order that rotates and reverses
// between repetitions. Prints ratios to each runtime's bare WebSocket (the median of the
// per-repetition ratios, and their min-max) and writes every number to bench/results/ (JSON, and
// Markdown for docs/performance.md).
//
// Exits non-zero, naming the client and scenario, if any run lost, altered or failed to deliver a
// message, failed a connection or hung (every client process has a deadline and is killed then),
// or if the server died.
//
//   (default)     5 repetitions, 150 ms warm-up + 500 ms measured per scenario, 10,000 idle
//                 connections (about 15 minutes on 2 cores)
//   --quick       1 repetition, 40 + 120 ms windows, 1,000 idle connections, and a short soak
//                 (Parley's socket transport: 1,000 reconnect cycles, 10,000 echoes, a 16 MiB flood
//                 against a slow consumer) (about a minute)
//   --soak        the soak alone (bench/soak.ts, bench/soak_plan.ts): Parley on every runtime and
//                 both transports, 10,000 reconnect cycles and 100,000 echoes with heap and RSS
//                 after GC at the start, after the warm-up and at the end, and on the socket
//                 transport a 64 MiB flood against a handleFrame that awaits 1 ms per message, with
//                 the peak memory held; fails a soak that misses its target (heap growth after the
//                 warm-up ≤ 5%; flood peak ≤ receiveBuffer + one message + 2.5 MiB) or loses a
//                 message (about 2 minutes); --clients filters its runs (deno-parley-socket, web, ...)
//   --check       compare every byte of every message in the measured windows too
//   --fault=KIND  make the server drop or corrupt one echoed message (the run must then fail)
//   --pin         server on CPU 1, clients on CPU 0 (taskset); off by default: the clients'
//                 runtimes then keep their helper threads' freedom, but round trips are bimodal
//                 (same-core vs cross-core wake-ups), which the min-max shows
//   --warm-ms / --timed-ms    override the profile's windows
//   --clients / --scenarios   comma-separated names or parts of names, for development

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ClientConfig, ResultLine } from "./client.ts";
import {
  CLIENTS,
  type ClientSpec,
  FULL,
  IDLE_FACTOR,
  QUICK,
  SCENARIOS,
  type Timing,
} from "./plan.ts";
import {
  type Failure,
  markdownReport,
  ratioTables,
  type Report,
  type Sample,
  type Samples,
  type SoakReport,
  type SoakResult,
  soakTables,
  summarizeAll,
  textTable,
} from "./report.ts";
import type { SoakConfig, SoakLine } from "./soak.ts";
import {
  FULL_SOAK,
  missedTarget,
  QUICK_SOAK,
  type SoakProfile,
  type SoakSpec,
  soakSpecs,
} from "./soak_plan.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const bench = `${root}bench/`;
const tool = (name: string) => `${root}.tools/node_modules/.bin/${name}`;
/** The npm:ws Node's client imports (deno.json pins the same version for Deno). */
const WS_VERSION = "8.18.3";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    soak: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    reps: { type: "string" },
    clients: { type: "string" },
    scenarios: { type: "string" },
    fault: { type: "string" },
    "warm-ms": { type: "string" },
    "timed-ms": { type: "string" },
    pin: { type: "boolean", default: false },
  },
});

const matches = (filter: string | undefined, name: string) =>
  filter === undefined || filter.split(",").some((part) => name.includes(part.trim()));
const soakOnly = args.soak;
const clients = soakOnly ? [] : CLIENTS.filter((c) => matches(args.clients, c.name));
const scenarios = soakOnly
  ? []
  : SCENARIOS.filter((s) => matches(args.scenarios, s.name)).map((s) => s.name);
/** The soak runs: all of them with --soak, the socket transport's with --quick, else none. */
const soaks: SoakSpec[] = soakOnly
  ? soakSpecs(true).filter((spec) => matches(args.clients, spec.name))
  : args.quick
  ? soakSpecs(false).filter((spec) => matches(args.clients, spec.name))
  : [];
const reps = Number(args.reps ?? (args.quick ? 1 : 5));
const profile = args.quick ? QUICK : FULL;
const timing: Timing = {
  ...profile,
  warmMs: Number(args["warm-ms"] ?? profile.warmMs),
  timedMs: Number(args["timed-ms"] ?? profile.timedMs),
  fullCheck: args.check,
};
if ((clients.length === 0 || scenarios.length === 0 || !(reps >= 1)) && soaks.length === 0) {
  console.error("bench: nothing to run (check --clients, --scenarios, --reps)");
  Deno.exit(2);
}

/**
 * With --pin, the server runs on CPU 1 and each client on CPU 0 (`taskset`): fixed placement, so
 * a round trip never flips between a same-core and a cross-core wake-up from one run to the next.
 */
const pins = args.pin ? { server: 1, client: 0 } : undefined;

const decoder = new TextDecoder();
async function output(
  cmd: string,
  cmdArgs: string[],
  cwd = root,
  env?: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(cmd, { args: cmdArgs, cwd, env, stderr: "inherit" }).output();
  if (!out.success) throw new Error(`${cmd} ${cmdArgs.join(" ")} failed`);
  return decoder.decode(out.stdout).trim();
}

/**
 * Runs `argv` with its file-descriptor limit raised to the hard limit (10,000 idle connections
 * need as many in the client and in the server): a shell's `ulimit`, then exec.
 */
function limited(argv: string[], cpu?: number): [string, string[]] {
  const pin = cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
  return ["sh", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`, "sh", ...pin, ...argv]];
}

/** npm:ws for Node's client, pinned, in bench/node_modules/ (gitignored by `node_modules/`). */
async function ensureWs(): Promise<void> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${bench}node_modules/ws/package.json`));
    if (pkg.version === WS_VERSION) return;
  } catch { /* not installed yet */ }
  console.log(`bench: installing ws@${WS_VERSION} into bench/node_modules/ for Node's client`);
  // As tools/install.sh does: with --prefix npm would read <prefix>/etc/npmrc, so name the
  // machine's global config explicitly (it may hold the registry's CA). npm runs with the
  // machine's own node, as in tools/install.sh (no directory of .tools/ on its PATH): with .tools'
  // Node 24 first on the PATH, npm would locate its global config under that Node's prefix, where
  // there is none.
  const path = (Deno.env.get("PATH") ?? "").split(":")
    .filter((dir) => !dir.startsWith(`${root}.tools/`)).join(":");
  const env = { PATH: path };
  const globalconfig = await output("npm", ["config", "get", "globalconfig"], root, env)
    .catch(() => "");
  const npmArgs = [
    "install",
    "--prefix",
    bench,
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--loglevel=warn",
  ];
  if (globalconfig) {
    try {
      await Deno.stat(globalconfig);
      npmArgs.push(`--globalconfig=${globalconfig}`);
    } catch { /* none */ }
  }
  await output("npm", [...npmArgs, `ws@${WS_VERSION}`], root, env);
}

/** The server's user+system CPU time in clock ticks (100 a second on Linux). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
const TICKS_PER_SECOND = 100;

interface Server {
  readonly pid: number;
  /** Set once the server process has exited (it should live as long as the run). */
  exited: string | undefined;
  readonly ws: string;
  readonly tcp: string;
  readonly deflate: string;
  /** The server's listening ports (for the bytes on the wire). */
  readonly ports: readonly number[];
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const [cmd, cmdArgs] = limited([tool("bun"), `${bench}server.ts`], pins?.server);
  const env: Record<string, string> = { BENCH_FULL_CHECK: args.check ? "1" : "0" };
  if (args.fault) env.BENCH_FAULT = args.fault;
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: root,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const ports = JSON.parse(text.split("\n")[0]) as { ws: number; tcp: number; deflate: number };
  const server: Server = {
    exited: undefined,
    pid: child.pid,
    ws: `ws://127.0.0.1:${ports.ws}/`,
    tcp: `tcp://127.0.0.1:${ports.tcp}`,
    deflate: `ws://127.0.0.1:${ports.deflate}/`,
    ports: [ports.ws, ports.tcp, ports.deflate],
    async close() {
      await child.stdin.close().catch(() => {});
      const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
      await child.status;
      clearTimeout(kill);
    },
  };
  child.status.then((status) => server.exited = `the server exited with ${status.code}`);
  return server;
}

/** The bytes each of the server's TCP connections has received and sent so far, by connection. */
type WireCounters = Map<string, { up: number; down: number }>;

/**
 * The kernel's byte counters of the server's established TCP connections (`ss`: every byte on
 * the wire, headers and compression included), by connection (local and peer address).
 */
async function wireCounters(server: Server): Promise<WireCounters> {
  const filter = server.ports.map((p) => `sport = :${p}`).join(" or ");
  const text = await output("ss", ["-tinH", "state", "established", `( ${filter} )`]);
  const counters: WireCounters = new Map();
  // Each connection: a line with its addresses, then a line of TCP info.
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    const addresses = /(\S+:\d+)\s+(\S+:\d+)\s*$/.exec(lines[i]);
    if (addresses === null) continue;
    const info = lines[i + 1];
    const down = Number(/bytes_sent:(\d+)/.exec(info)?.[1] ?? 0);
    const up = Number(/bytes_received:(\d+)/.exec(info)?.[1] ?? 0);
    counters.set(`${addresses[1]} ${addresses[2]}`, { up, down });
    i++;
  }
  return counters;
}

/** The bytes each way between two readings, over the connections open at the second. */
function wireDelta(begin: WireCounters, end: WireCounters): { up: number; down: number } {
  let up = 0;
  let down = 0;
  for (const [key, e] of end) {
    const b = begin.get(key) ?? { up: 0, down: 0 };
    up += e.up - b.up;
    down += e.down - b.down;
  }
  return { up, down };
}

/** The command line of a client process under its runtime (GC exposed for the memory numbers). */
function clientCommand(client: ClientSpec, config: ClientConfig): [string, string[]] {
  const file = `${bench}client.ts`;
  const json = JSON.stringify(config);
  switch (client.runtime) {
    case "deno":
      return limited([
        tool("deno"),
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--v8-flags=--expose-gc",
        file,
        json,
      ], pins?.client);
    case "node":
      return limited([tool("node"), "--expose-gc", file, json], pins?.client);
    case "bun":
      return limited([tool("bun"), file, json], pins?.client);
  }
}

const samples: Samples = {};
const failures: Failure[] = [];
const log: string[] = [];

/** Runs `names` with one client in one process; records samples and failures. */
async function runClient(
  server: Server,
  client: ClientSpec,
  names: string[],
  rep: number,
): Promise<void> {
  const config: ClientConfig = {
    kind: client.kind,
    scenarios: names,
    wsUrl: server.ws,
    tcpUrl: server.tcp,
    deflateUrl: server.deflate,
    timing,
  };
  const [cmd, cmdArgs] = clientCommand(client, config);
  const idle = names.some(isIdle);
  // The deadline: every scenario's windows with room to spare, never more than its timeout.
  const deadline = idle ? timing.scenarioTimeoutMs * IDLE_FACTOR + 5000 : Math.min(
    names.length * timing.scenarioTimeoutMs,
    names.length * (timing.warmMs + timing.timedMs + 3000) + 15_000,
  );
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: root,
    env: { NO_COLOR: "1" },
    // The answers to `@wire` (the JSON scenarios).
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, deadline);
  const stderr = new Response(child.stderr).text();
  const seen = new Set<string>();
  let begin: { ticks: number; at: number } | undefined;
  let serverCpu: number | undefined;
  // The bytes on the wire over the measured window (the JSON scenarios).
  let wireBegin: WireCounters | undefined;
  let wire: { up: number; down: number } | undefined;
  const answer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream());
  let buffered = "";
  for await (const chunk of lines) {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === "@begin") {
        begin = { ticks: await cpuTicks(server.pid), at: performance.now() };
      } else if (line === "@wire") {
        const counters = await wireCounters(server);
        if (wireBegin === undefined) wireBegin = counters;
        else wire = wireDelta(wireBegin, counters);
        await answer.write(new TextEncoder().encode("ack\n"));
      } else if (line === "@end" && begin) {
        const ticks = await cpuTicks(server.pid) - begin.ticks;
        const seconds = (performance.now() - begin.at) / 1000;
        serverCpu = Math.round(ticks / TICKS_PER_SECOND / seconds * 100);
      } else if (line.startsWith("@result ")) {
        const result = JSON.parse(line.slice(8)) as ResultLine;
        seen.add(result.scenario);
        if (result.ok) {
          const metrics = { ...result.metrics! };
          // Bytes per echoed message: the client counted the messages between the two readings.
          if (wire !== undefined && metrics.wireMessages > 0) {
            metrics.wireUpPerMsg = wire.up / metrics.wireMessages;
            metrics.wireDownPerMsg = wire.down / metrics.wireMessages;
          }
          const sample: Sample = { rep, metrics, serverCpu, ms: result.ms };
          ((samples[client.name] ??= {})[result.scenario] ??= []).push(sample);
        } else {
          failures.push({
            client: client.name,
            scenario: result.scenario,
            rep,
            error: result.error!,
          });
        }
        begin = undefined;
        serverCpu = undefined;
        wireBegin = undefined;
        wire = undefined;
      } else if (line.trim() !== "") {
        log.push(`${client.name} (rep ${rep + 1}): ${line}`);
      }
    }
  }
  await answer.close().catch(() => {});
  const status = await child.status;
  clearTimeout(killer);
  const err = (await stderr).trim();
  const missing = names.filter((n) => !seen.has(n));
  if (missing.length > 0 || (!status.success && !failures.some((f) => f.client === client.name))) {
    const why = timedOut
      ? `hung: killed after ${deadline} ms`
      : `exited with ${status.code}${err ? `: ${err.slice(-600)}` : ""}`;
    // The scenario in progress is the first without a result; the rest never ran.
    failures.push({ client: client.name, scenario: missing[0] ?? "(process)", rep, error: why });
  }
}

/** The command line of a soak process under its runtime (GC exposed for the memory numbers). */
function soakCommand(runtime: ClientSpec["runtime"], config: SoakConfig): [string, string[]] {
  const file = `${bench}soak.ts`;
  const json = JSON.stringify(config);
  switch (runtime) {
    case "deno":
      return limited([
        tool("deno"),
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--v8-flags=--expose-gc",
        file,
        json,
      ], pins?.client);
    case "node":
      return limited([tool("node"), "--expose-gc", file, json], pins?.client);
    case "bun":
      return limited([tool("bun"), file, json], pins?.client);
  }
}

/** Runs one soak process; records its lines, and failures (a failed soak, a missed target). */
async function runSoak(server: Server, spec: SoakSpec, profile: SoakProfile): Promise<SoakResult> {
  const config: SoakConfig = { ...profile, transport: spec.transport, wsUrl: server.ws };
  const names = (["cycles", "echoes", "flood"] as const).filter((n) => config[n] !== undefined);
  const deadline = names.length * profile.timeoutMs + 10_000;
  const [cmd, cmdArgs] = soakCommand(spec.runtime, config);
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, deadline);
  const stderr = new Response(child.stderr).text();
  const lines: SoakLine[] = [];
  const out = await new Response(child.stdout).text();
  for (const line of out.split("\n")) {
    if (line.startsWith("@result ")) lines.push(JSON.parse(line.slice(8)));
    else if (line.trim() !== "") log.push(`${spec.name} (soak): ${line}`);
  }
  const status = await child.status;
  clearTimeout(killer);
  const err = (await stderr).trim();
  for (const line of lines) {
    const missed = missedTarget(line);
    const error = line.ok ? missed : line.error;
    if (error !== undefined) {
      failures.push({ client: spec.name, scenario: `soak ${line.soak}`, rep: 0, error });
    }
  }
  const missing = names.filter((n) => !lines.some((l) => l.soak === n));
  if (missing.length > 0 && !lines.some((l) => !l.ok)) {
    const why = timedOut
      ? `hung: killed after ${deadline} ms`
      : `exited with ${status.code}${err ? `: ${err.slice(-600)}` : ""}`;
    failures.push({ client: spec.name, scenario: `soak ${missing[0]}`, rep: 0, error: why });
  }
  return { name: spec.name, runtime: spec.runtime, transport: spec.transport, lines };
}

/** The clients in repetition `rep`'s order: rotated by `rep`, reversed on odd repetitions. */
function order(rep: number): ClientSpec[] {
  const shift = rep % clients.length;
  const rotated = [...clients.slice(shift), ...clients.slice(0, shift)];
  return rep % 2 ? rotated.reverse() : rotated;
}

async function machine() {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const version = async (name: string) =>
    (await output(tool(name), ["--version"]).catch(() => "?")).split("\n")[0];
  return {
    date: new Date().toISOString(),
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "?",
    cores: navigator.hardwareConcurrency,
    kernel: Deno.osRelease(),
    memoryBytes: Deno.systemMemoryInfo().total,
    deno: await version("deno"),
    node: await version("node"),
    bun: await version("bun"),
    ws: WS_VERSION,
    parleyCommit: await output("git", ["rev-parse", "HEAD"]).catch(() => "?"),
    /** Whether mod.ts or src/ differ from that commit (the numbers are then of the work tree). */
    parleyDirty: (await output("git", ["status", "--porcelain", "mod.ts", "src/"]).catch(() => ""))
      .length > 0,
  };
}

/** The 1, 5 and 15 minute load averages (other work on the machine makes numbers noisy). */
const loadAverage = async () =>
  (await Deno.readTextFile("/proc/loadavg").catch(() => "? ? ?")).split(" ").slice(0, 3).join(" ");
const command = ["deno run -A bench/run.ts", ...Deno.args].join(" ");

const started = performance.now();
const loadBefore = await loadAverage();
await output("bash", ["tools/install.sh", "--quiet"]);
if (clients.some((c) => c.kind === "ws")) await ensureWs();
const info = await machine();
const server = await startServer();
const mode = soakOnly ? "soak" : args.quick ? "quick" : "full";
console.log(
  soakOnly
    ? `bench (soak): ${soaks.length} soak runs; server pid ${server.pid}`
    : `bench (${mode}${
      args.check ? ", full checks" : ""
    }): ${clients.length} clients × ${scenarios.length} scenarios × ${reps} repetitions${
      soaks.length > 0 ? `, then ${soaks.length} soak runs` : ""
    }; server pid ${server.pid}`,
);
/** Whether `name` is a memory scenario (run in a fresh process of its own). */
function isIdle(name: string): boolean {
  return SCENARIOS.find((s) => s.name === name)?.kind === "idle";
}
const looped = scenarios.filter((s) => !isIdle(s));
const soakResults: SoakResult[] = [];
try {
  for (let rep = 0; rep < reps; rep++) {
    for (const client of order(rep)) {
      const t0 = performance.now();
      if (looped.length > 0) await runClient(server, client, looped, rep);
      // Memory in a fresh process, not after the floods.
      for (const name of scenarios.filter(isIdle)) await runClient(server, client, [name], rep);
      if (server.exited) {
        failures.push({ client: client.name, scenario: "(server)", rep, error: server.exited });
      }
      const failed = failures.filter((f) => f.client === client.name && f.rep === rep);
      console.log(
        `  rep ${rep + 1}/${reps} ${client.name.padEnd(18)} ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s${
          failed.length
            ? `  FAILED: ${failed.map((f) => `${f.scenario}: ${f.error}`).join("; ")}`
            : ""
        }`,
      );
      if (server.exited) break;
    }
    if (server.exited) break;
  }
  for (const spec of soaks) {
    if (server.exited) break;
    const t0 = performance.now();
    const profile = !soakOnly ? QUICK_SOAK : FULL_SOAK[spec.transport];
    soakResults.push(await runSoak(server, spec, profile));
    const failed = failures.filter((f) => f.client === spec.name && f.scenario.startsWith("soak"));
    console.log(
      `  soak ${spec.name.padEnd(13)} ${((performance.now() - t0) / 1000).toFixed(1)} s${
        failed.length
          ? `  FAILED: ${failed.map((f) => `${f.scenario}: ${f.error}`).join("; ")}`
          : ""
      }`,
    );
  }
} finally {
  await server.close();
}
const wallSeconds = (performance.now() - started) / 1000;
const loadAfter = await loadAverage();

const summaries = summarizeAll(samples);
const soakReport: SoakReport | undefined = soaks.length === 0 ? undefined : {
  profiles: soakOnly ? { socket: FULL_SOAK.socket, web: FULL_SOAK.web } : { socket: QUICK_SOAK },
  results: soakResults,
};
const tables = [
  ...ratioTables(samples, summaries, clients, scenarios),
  ...(soakReport ? soakTables(soakReport) : []),
];
console.log();
for (const table of tables) console.log(textTable(table) + "\n");
console.log(
  `wall time ${
    wallSeconds.toFixed(0)
  } s; load average ${loadBefore} at the start, ${loadAfter} at the end`,
);

const stamp = info.date.replaceAll(":", "-").replace(/\.\d+Z$/, "Z");
const base = `${bench}results/${stamp}-${mode}`;
await Deno.mkdir(`${bench}results`, { recursive: true });
const report: Report = {
  mode,
  options: { reps, timing, clients: clients.map((c) => c.name), scenarios },
  command,
  machine: info,
  wallSeconds,
  loadAverage: { start: loadBefore, end: loadAfter },
  failures,
  /** Anything the clients printed besides their results (warnings, say). */
  clientOutput: log,
  samples,
  summaries,
  soak: soakReport,
};
await Deno.writeTextFile(`${base}.json`, JSON.stringify(report, null, 2) + "\n");
const md = markdownReport(report);
await Deno.writeTextFile(`${base}.md`, md);
console.log(`wrote ${base}.json and .md`);

if (failures.length > 0) {
  console.error(`\nbench FAILED (${failures.length}):`);
  for (const f of failures) {
    console.error(`  ${f.client} × ${f.scenario} (rep ${f.rep + 1}): ${f.error}`);
  }
  Deno.exit(1);
}
console.log("no message lost or altered in any run");
