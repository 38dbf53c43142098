// Runs the fault client (fault_client.ts) where a fault suite asks: in a child process under
// Deno, Node 24 or Bun (the pinned ones in .tools/), or in the test's own process (Deno, with the
// sanitizers on). The test sends commands and reads events as they come; `finish()` ends the
// commands and returns the client's report, and for a child process checks that it then exits by
// itself: one still running after `exitWithin` ms is killed, and `finish()` fails saying so.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { type FaultClientOptions, type FaultCommand, runFaultClient } from "./fault_client.ts";

export type Runtime = "deno" | "node" | "bun";
export const RUNTIMES: readonly Runtime[] = ["deno", "node", "bun"];

/** Where a client runs: a runtime's child process, or this process (`in-process`, Deno). */
export type Place = Runtime | "in-process";

/** One event the client printed. */
export interface FaultEvent {
  readonly event: string;
  /** Milliseconds since the client started. */
  readonly ms: number;
  readonly [key: string]: unknown;
}

/** The outcome of a client's run. */
export interface Finished {
  readonly report: Record<string, unknown>;
  /** Milliseconds from the end of the commands to the process's exit (0 in-process). */
  readonly exitMs: number;
}

/** A running client. */
export interface FaultRun {
  readonly place: Place;
  /** The events so far. */
  readonly events: readonly FaultEvent[];
  /** The first event named `name` (and matching `match`), printed already or to come. */
  printed(name: string, match?: (e: FaultEvent) => boolean, timeout?: number): Promise<FaultEvent>;
  /** Every event named `name` so far. */
  all(name: string): FaultEvent[];
  /** Sends a command. */
  send(command: FaultCommand): void;
  /** Ends the commands; the report, once the client is done (and its process exited). */
  finish(exitWithin?: number): Promise<Finished>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("./fault_main.ts", import.meta.url));
const tool = (name: string) => `${root}.tools/node_modules/.bin/${name}`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function commandFor(runtime: Runtime): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        "--v8-flags=--expose-gc",
        "--no-prompt",
        main,
      ]];
    case "node":
      return [tool("node"), ["--expose-gc", main]];
    case "bun":
      return [tool("bun"), [main]];
  }
}

/** The event bookkeeping both places share. */
function eventLog(place: Place, ended: Promise<unknown>) {
  const events: FaultEvent[] = [];
  const waiters = new Set<{ test: (e: FaultEvent) => boolean; resolve: (e: FaultEvent) => void }>();
  let report: Record<string, unknown> | undefined;
  return {
    events,
    get report() {
      return report;
    },
    take(line: Record<string, unknown>) {
      if (line.report !== undefined) {
        report = line.report as Record<string, unknown>;
        return;
      }
      if (typeof line.event !== "string") return;
      const e = line as FaultEvent;
      events.push(e);
      for (const w of [...waiters]) {
        if (w.test(e)) {
          waiters.delete(w);
          w.resolve(e);
        }
      }
    },
    printed(name: string, match: (e: FaultEvent) => boolean = () => true, timeout = 15_000) {
      const test = (e: FaultEvent) => e.event === name && match(e);
      const found = events.find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<FaultEvent>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `${place}: no ${name} event within ${timeout} ms; events: ${JSON.stringify(events)}`,
            ),
          );
        }, timeout);
        const waiter = {
          test,
          resolve: (e: FaultEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        waiters.add(waiter);
        ended.then(() => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(
            new Error(
              `${place}: the client ended without a ${name} event; events: ${
                JSON.stringify(events)
              }`,
            ),
          );
        });
      });
    },
  };
}

/**
 * Starts the client at `place` with `options`. A child process still running `timeout` ms after
 * its start is killed (its `finish()` then fails).
 */
export function startFaultClient(
  place: Place,
  options: FaultClientOptions,
  timeout = 30_000,
): FaultRun {
  return place === "in-process" ? inProcess(options) : child(place, options, timeout);
}

function child(runtime: Runtime, options: FaultClientOptions, timeout: number): FaultRun {
  const [bin, args] = commandFor(runtime);
  const process = new Deno.Command(bin, {
    args: [...args, JSON.stringify(options)],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    process.kill("SIGKILL");
  }, timeout);
  const status = process.status;
  const log = eventLog(runtime, status);
  const stdout = (async () => {
    let text = "";
    for await (const chunk of process.stdout) {
      text += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + 1);
        try {
          log.take(JSON.parse(line));
        } catch {
          // stray output
        }
      }
    }
  })();
  const stderr = new Response(process.stderr).text();
  const stdin = process.stdin.getWriter();
  let writing = Promise.resolve();
  return {
    place: runtime,
    events: log.events,
    printed: log.printed,
    all: (name) => log.events.filter((e) => e.event === name),
    send(command) {
      writing = writing.then(() => stdin.write(encoder.encode(JSON.stringify(command) + "\n")))
        .catch(() => {});
    },
    async finish(exitWithin = 3000) {
      await writing;
      await stdin.close().catch(() => {});
      const t0 = performance.now();
      let late = false;
      const lateTimer = setTimeout(() => {
        late = true;
        process.kill("SIGKILL");
      }, exitWithin);
      const [code] = await Promise.all([status, stdout]);
      clearTimeout(lateTimer);
      clearTimeout(killer);
      const exitMs = Math.round(performance.now() - t0);
      const errors = await stderr;
      assert.ok(
        !late,
        `${runtime}: the process did not exit by itself within ${exitWithin} ms after the client stopped and its commands ended (a socket or timer left behind?); events: ${
          JSON.stringify(log.events)
        }; stderr: ${errors}`,
      );
      assert.ok(
        !killed,
        `${runtime}: killed after ${timeout} ms; events: ${
          JSON.stringify(log.events)
        }; stderr: ${errors}`,
      );
      assert.equal(code.code, 0, `${runtime}: the client failed: ${errors}`);
      assert.ok(log.report !== undefined, `${runtime}: no report; stderr: ${errors}`);
      return { report: log.report, exitMs };
    },
  };
}

function inProcess(options: FaultClientOptions): FaultRun {
  const queue: FaultCommand[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  async function* commands(): AsyncGenerator<FaultCommand> {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  let take: (line: Record<string, unknown>) => void = () => {};
  const running = runFaultClient(options, commands(), (line) => take(line));
  const log = eventLog("in-process", running.catch(() => {}));
  take = log.take;
  return {
    place: "in-process",
    events: log.events,
    printed: log.printed,
    all: (name) => log.events.filter((e) => e.event === name),
    send(command) {
      queue.push(command);
      wake?.();
    },
    async finish() {
      ended = true;
      wake?.();
      await running;
      assert.ok(log.report !== undefined, "in-process: no report");
      return { report: log.report, exitMs: 0 };
    },
  };
}
