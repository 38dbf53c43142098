// Runs tests/transport/socket_transport_driver.ts under Deno, Node 24 or Bun (the pinned ones in
// .tools/) and reads what it prints: its events as they come, its report once it exits by
// itself. A driver that does not exit in time is killed, and its report fails the test.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The runtimes the socket transport runs on. */
export const RUNTIMES = ["deno", "node", "bun"] as const;
export type Runtime = typeof RUNTIMES[number];

const root = fileURLToPath(new URL("../../", import.meta.url));
const driverFile = fileURLToPath(
  new URL("../transport/socket_transport_driver.ts", import.meta.url),
);
const decoder = new TextDecoder();

/**
 * The ways the socket transport reaches a server: each runtime's own TCP, and its TLS (on Deno,
 * `Deno.startTls`, and node:tls for settings Deno's own TLS lacks: a TLS 1.3 minimum).
 */
export interface StreamPath {
  readonly runtime: Runtime;
  /** `undefined`: ws://; otherwise wss:// through the runtime's TLS (`tls13`: a 1.3 minimum). */
  readonly tls: undefined | "tls" | "tls13";
  /** What carries the bytes, for test names. */
  readonly name: string;
}

export const STREAM_PATHS: readonly StreamPath[] = [
  { runtime: "deno", tls: undefined, name: "deno Deno.connect" },
  { runtime: "deno", tls: "tls", name: "deno Deno.startTls" },
  { runtime: "deno", tls: "tls13", name: "deno node:tls" },
  { runtime: "node", tls: undefined, name: "node node:net" },
  { runtime: "node", tls: "tls", name: "node node:tls" },
  { runtime: "bun", tls: undefined, name: "bun Bun.connect" },
  { runtime: "bun", tls: "tls", name: "bun node:tls" },
];

/** The driver options that take `path`: the test CA for wss://. */
export function pathOptions(path: StreamPath, ca: string): Record<string, unknown> {
  return path.tls === undefined ? {} : { ca, tls13: path.tls === "tls13" };
}

/** Runs `body` for each of `items` at once; fails with every one's failure, named. */
export async function eachAtOnce<T>(
  items: readonly T[],
  name: (item: T) => string,
  body: (item: T) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(items.map((item) => body(item)));
  const failures = results.flatMap((r, i) =>
    r.status === "rejected" ? [`${name(items[i])}: ${(r.reason as Error).message}`] : []
  );
  if (failures.length > 0) assert.fail(failures.join("\n\n"));
}

/** One event the driver printed. */
export interface DriverEvent {
  readonly event: string;
  /** Milliseconds since the driver started. */
  readonly ms: number;
  readonly [key: string]: unknown;
}

/** A running driver. */
export interface Driver {
  /** The events printed so far. */
  readonly events: readonly DriverEvent[];
  /** Resolves with the first event named `name` (printed already or to come). */
  printed(name: string): Promise<DriverEvent>;
  /** The driver's report; fails if it does not exit by itself within its time, or fails. */
  report(): Promise<Record<string, unknown>>;
  /** What the driver wrote to stderr, once it exits. */
  stderr(): Promise<string>;
}

function commandFor(runtime: Runtime): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-sys",
        "--v8-flags=--expose-gc",
        "--no-prompt",
        driverFile,
      ]];
    case "node":
      return [`${root}.tools/node_modules/.bin/node`, ["--expose-gc", driverFile]];
    case "bun":
      return [`${root}.tools/node_modules/.bin/bun`, [driverFile]];
  }
}

/**
 * Starts the driver under `runtime`: `scenario` against `url` with `options`; it is killed
 * after `timeout` ms.
 */
export function runDriver(
  runtime: Runtime,
  scenario: string,
  url: string,
  options: Record<string, unknown>,
  timeout = 15_000,
): Driver {
  const [bin, args] = commandFor(runtime);
  const child = new Deno.Command(bin, {
    args: [...args, scenario, url, JSON.stringify(options)],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const events: DriverEvent[] = [];
  let report: Record<string, unknown> | undefined;
  const waiters: Array<{ name: string; resolve: (e: DriverEvent) => void }> = [];
  const stdout = (async () => {
    let text = "";
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + 1);
        let parsed: { event?: string; report?: Record<string, unknown> };
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // stray output
        }
        if (parsed.report !== undefined) report = parsed.report;
        else if (parsed.event !== undefined) {
          const e = parsed as DriverEvent;
          events.push(e);
          for (const w of waiters.filter((w) => w.name === e.event)) w.resolve(e);
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, timeout);
  const exited = child.status.finally(() => clearTimeout(timer));
  return {
    events,
    printed(name) {
      const e = events.find((e) => e.event === name);
      if (e !== undefined) return Promise.resolve(e);
      return new Promise((resolve, reject) => {
        waiters.push({ name, resolve });
        exited.then(() =>
          reject(new Error(`the ${runtime} driver exited without printing ${name}`))
        );
      });
    },
    stderr: () => stderr,
    async report() {
      const [status, , errors] = await Promise.all([exited, stdout, stderr]);
      assert.ok(
        !killed,
        `the ${runtime} ${scenario} driver did not exit by itself within ${timeout} ms (a socket or timer left behind?); events: ${
          JSON.stringify(events)
        }; stderr: ${errors}`,
      );
      assert.equal(status.code, 0, `the ${runtime} ${scenario} driver failed: ${errors}`);
      assert.ok(report !== undefined, `the ${runtime} driver printed no report; ${errors}`);
      return report;
    },
  };
}
