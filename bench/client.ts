// One bench client process: `<runtime> bench/client.ts '<json config>'`, started by bench/run.ts
// under Deno, Node or Bun. Runs the configured scenarios in order with one client kind and prints
// `@begin` / `@end` around each measured window (bench/run.ts reads the server's CPU time then)
// and one `@result <json>` line per scenario. Exits non-zero if a scenario failed.

import process from "node:process";
import type { Connect } from "./clients/connect.ts";
import { type ClientKind, IDLE_FACTOR, SCENARIOS, type Timing } from "./plan.ts";
import { type Marks, runScenario } from "./scenarios.ts";

/** What bench/run.ts passes to a client process. */
export interface ClientConfig {
  readonly kind: ClientKind;
  readonly scenarios: readonly string[];
  readonly wsUrl: string;
  readonly tcpUrl: string;
  /** The server that speaks permessage-deflate (the JSON echo with compression). */
  readonly deflateUrl: string;
  readonly timing: Timing;
}

/** One scenario's line. */
export interface ResultLine {
  readonly scenario: string;
  readonly ok: boolean;
  readonly metrics?: Record<string, number>;
  readonly checked?: number;
  readonly error?: string;
  /** The scenario's wall time, connecting and draining included. */
  readonly ms: number;
}

const isBun = "Bun" in globalThis;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object" && !isBun;

async function load(kind: ClientKind): Promise<Connect> {
  switch (kind) {
    case "parley-socket":
      return (await import("./clients/parley.ts")).parley("socket");
    case "parley-web":
      return (await import("./clients/parley.ts")).parley("web");
    case "websocket":
      return (await import("./clients/web_socket.ts")).webSocket;
    case "ws":
      return (await import("./clients/ws.ts")).ws;
    case "raw":
      if (isDeno) return (await import("./clients/raw_deno.ts")).rawDeno;
      if (isBun) return (await import("./clients/raw_bun.ts")).rawBun;
      return (await import("./clients/raw_node.ts")).rawNode;
  }
}

const print = (line: string) => console.log(line);
/** bench/run.ts answers each `@wire` with a line on stdin once it has read the wire's bytes. */
let answered: (() => void) | undefined;
process.stdin.on("data", () => {
  const resolve = answered;
  answered = undefined;
  resolve?.();
});
const marks: Marks = {
  begin: () => print("@begin"),
  end: () => print("@end"),
  wire: () =>
    new Promise((resolve) => {
      answered = resolve;
      print("@wire");
    }),
};

const config = JSON.parse(process.argv[2]) as ClientConfig;
const connect = await load(config.kind);
const countUrl = `${config.wsUrl.replace(/^ws/, "http")}count`;
let failed = false;
for (const name of config.scenarios) {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A lost message shows as a scenario that never drains: it fails at this timeout.
  const limit = config.timing.scenarioTimeoutMs * (scenario.kind === "idle" ? IDLE_FACTOR : 1);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${limit} ms`)), limit);
  });
  let line: ResultLine;
  const url = config.kind === "raw"
    ? config.tcpUrl
    : scenario.compression
    ? config.deflateUrl
    : config.wsUrl;
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  try {
    const outcome = await Promise.race([
      runScenario({
        connect,
        url,
        timing: config.timing,
        marks,
        countUrl,
        countKey: config.kind === "raw" ? "tcp" : scenario.compression ? "deflate" : "ws",
      }, scenario),
      timeout,
    ]);
    line = { scenario: name, ok: true, ...outcome, ms: ms() };
  } catch (error) {
    failed = true;
    line = {
      scenario: name,
      ok: false,
      error: String((error as Error)?.message ?? error),
      ms: ms(),
    };
  } finally {
    clearTimeout(timer);
  }
  print(`@result ${JSON.stringify(line)}`);
  // A failed scenario may leave connections behind: do not measure the next ones beside them.
  if (failed) break;
}
process.exit(failed ? 1 : 0);
