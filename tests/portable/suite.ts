// A tiny test harness that runs unchanged under Deno, Node 24 and Bun: `test(name, fn)` registers
// a test, `run()` runs them in order, each under a timeout, prints one JSON line per result,
//
//   {"name": "...", "ok": true, "ms": 12}
//   {"name": "...", "ok": false, "error": "...", "ms": 3001}
//   {"name": "...", "ok": true, "skipped": "why", "ms": 0}
//
// each prefixed with RESULT_PREFIX (so that stray output cannot be mistaken for a result), then a
// summary line, and exits with 1 if any test failed (see results.ts).

import process from "node:process";
import { RESULT_PREFIX, type Summary, type TestResult } from "./results.ts";

interface Test {
  readonly name: string;
  readonly fn: () => Promise<void> | void;
  readonly timeout: number;
  readonly skip?: string;
}

const tests: Test[] = [];

/** Rejections nobody handled, charged to the test that is running. */
const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason: unknown) => void unhandled.push(reason));

/** Registers a test. `skip` (a reason) reports it as skipped instead of running it. */
export function test(
  name: string,
  fn: () => Promise<void> | void,
  options: { timeout?: number; skip?: string | false } = {},
): void {
  if (tests.some((t) => t.name === name)) throw new Error(`Duplicate test name: ${name}`);
  tests.push({
    name,
    fn,
    timeout: options.timeout ?? 10_000,
    skip: options.skip === false ? undefined : options.skip,
  });
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack ?? `${error.name}: ${error.message}`;
    const cause = error.cause === undefined ? "" : `\ncaused by: ${errorText(error.cause)}`;
    return (stack.includes(error.message) ? stack : `${error.message}\n${stack}`) + cause;
  }
  return String(error);
}

function print(line: unknown): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(RESULT_PREFIX + JSON.stringify(line) + "\n", () => resolve());
  });
}

/**
 * Runs the registered tests whose name contains `filter` (all without one), in order, and
 * exits the process: 0 when none failed, 1 otherwise.
 */
export async function run(filter = ""): Promise<never> {
  const started = performance.now();
  let passed = 0, failed = 0, skipped = 0;
  for (const t of tests) {
    if (!t.name.includes(filter)) continue;
    if (t.skip !== undefined) {
      skipped++;
      await print({ name: t.name, ok: true, skipped: t.skip, ms: 0 } satisfies TestResult);
      continue;
    }
    const at = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let result: TestResult;
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Timed out after ${t.timeout} ms`)),
            t.timeout,
          );
        }),
      ]);
      // Let a rejection of the test's last turn surface before judging it.
      await new Promise((r) => setTimeout(r, 0));
      if (unhandled.length > 0) {
        throw new Error(`Unhandled rejection: ${unhandled.map(errorText).join("\n")}`);
      }
      result = { name: t.name, ok: true, ms: Math.round(performance.now() - at) };
      passed++;
    } catch (error) {
      result = {
        name: t.name,
        ok: false,
        error: errorText(error),
        ms: Math.round(performance.now() - at),
      };
      failed++;
    } finally {
      clearTimeout(timer);
      unhandled.length = 0;
    }
    await print(result);
  }
  const ms = Math.round(performance.now() - started);
  await print({ summary: { passed, failed, skipped, ms } } satisfies Summary);
  // A test that timed out may have left timers or sockets behind: do not wait for them.
  process.exit(failed > 0 ? 1 : 0);
}
