// A tiny test harness that runs unchanged under Deno, Node 24, Node 22 and Bun: `test(name, fn)`
// registers a test, `run()` runs them in order, each under a timeout, prints one JSON line per
// result,
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

/** What the running test declared with {@linkcode use}, disposed when it ends (last first). */
let resources: AsyncDisposable[] | undefined;

/**
 * Disposes `resource` when the running test ends, after everything declared after it, whether
 * the test passed or failed: what `await using resource = ...` does at the end of the test's
 * body. The portable cases declare their clients this way because they also run under Node 22,
 * whose V8 (12.4) cannot parse `using` declarations (not even with --js-explicit-resource-management,
 * which takes only a synchronous `using` there, and never disposes it).
 */
export function use<T extends AsyncDisposable>(resource: T): T {
  if (resources === undefined) throw new Error("use() is for the body of a running test");
  resources.push(resource);
  return resource;
}

/**
 * Runs `body` with `resource` and disposes it when `body` ends, passed or failed: what
 * `await using` does in a block of its own (for helpers that a test calls more than once).
 */
export async function disposing<T extends AsyncDisposable, R>(
  resource: T,
  body: (resource: T) => Promise<R>,
): Promise<R> {
  try {
    return await body(resource);
  } finally {
    await resource[Symbol.asyncDispose]();
  }
}

/** Runs `fn`, then disposes what it declared with {@linkcode use}, last first. */
async function runDisposing(fn: () => Promise<void> | void): Promise<void> {
  const declared: AsyncDisposable[] = [];
  resources = declared;
  let failure: { error: unknown } | undefined;
  try {
    await fn();
  } catch (error) {
    failure = { error };
  } finally {
    resources = undefined;
  }
  for (const resource of declared.reverse()) {
    try {
      await resource[Symbol.asyncDispose]();
    } catch (error) {
      // As `await using` does: a disposal error after another one (or the body's) suppresses it.
      failure = failure === undefined
        ? { error }
        : { error: new SuppressedErrorLike(error, failure.error) };
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** `SuppressedError`, which not every runtime the cases run under has (Node 22 lacks it). */
class SuppressedErrorLike extends Error {
  readonly error: unknown;
  readonly suppressed: unknown;
  constructor(error: unknown, suppressed: unknown) {
    super(`${errorText(error)}\n(while disposing, after: ${errorText(suppressed)})`);
    this.name = "SuppressedError";
    this.error = error;
    this.suppressed = suppressed;
  }
}

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
        runDisposing(t.fn),
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
