// The process's timer heap (src/transport/timers.ts), which every client deadline waits in:
// timers fire in the order they are due (and, due at once, in the order they were set), a cleared
// one never fires, one runtime timer stands for them all, and it holds a process exactly while
// something waits. Real timers, short delays; the process lifetime under Deno, Node and Bun.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { clearTimer, setTimer, Timed, timers } from "../../src/transport/timers.ts";
import { sleep, waitFor } from "../support/recorder.ts";
import { RUNTIMES } from "../support/runtime_driver.ts";

Deno.test("timers: each fires once, after its delay, in the order they are due, whatever the order they were set in", async () => {
  const t0 = performance.now();
  const fired: Array<[number, number]> = [];
  for (const ms of [60, 10, 40, 0, 20, 50, 30]) {
    setTimer(() => fired.push([ms, performance.now() - t0]), ms);
  }
  await waitFor(() => fired.length === 7, "every timer");
  await sleep(30);
  assert.deepEqual(fired.map(([ms]) => ms), [0, 10, 20, 30, 40, 50, 60]);
  for (const [ms, at] of fired) assert.ok(at >= ms - 1, `${ms} ms timer fired at ${at}`);
});

Deno.test("timers: due at once, they fire in the order they were set", async () => {
  const fired: number[] = [];
  class Mark extends Timed {
    constructor(readonly n: number) {
      super();
    }
    fire(): void {
      fired.push(this.n);
    }
  }
  // One deadline for all twenty, some set again (moved to the same time: that counts as set then).
  const at = performance.now() + 15;
  const marks = Array.from({ length: 20 }, (_, i) => new Mark(i));
  for (const mark of marks) timers.set(mark, at);
  timers.set(marks[3], at);
  timers.set(marks[0], at);
  await waitFor(() => fired.length === 20, "every timer");
  const rest = Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3 && i !== 0);
  assert.deepEqual(fired, [...rest, 3, 0]);
});

Deno.test("timers: a cleared timer never fires; clearing it again, or one that fired, or undefined, does nothing", async () => {
  const fired: string[] = [];
  const a = setTimer(() => fired.push("a"), 10);
  const b = setTimer(() => fired.push("b"), 20);
  const c = setTimer(() => fired.push("c"), 5);
  clearTimer(a);
  clearTimer(a);
  clearTimer(undefined);
  await waitFor(() => fired.length === 2, "b and c");
  clearTimer(c);
  await sleep(30);
  assert.deepEqual(fired, ["c", "b"]);
  clearTimer(b);
});

Deno.test("timers: a timer set while others fire, even with no delay, fires on a later turn, and those due meanwhile still fire", async () => {
  const fired: string[] = [];
  let turns = 0;
  const counter = setInterval(() => turns++, 1);
  setTimer(() => {
    fired.push("first");
    setTimer(() => fired.push("set inside"), 0);
  }, 5);
  setTimer(() => fired.push("second"), 5);
  await waitFor(() => fired.length === 3, "all three");
  clearInterval(counter);
  assert.deepEqual(fired, ["first", "second", "set inside"]);
});

Deno.test("timers: one that throws does not keep the others from firing", async () => {
  const fired: string[] = [];
  const errors: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    errors.push(e.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    setTimer(() => {
      throw new Error("boom");
    }, 5);
    setTimer(() => fired.push("after"), 5);
    await waitFor(() => fired.length === 1 && errors.length === 1, "the other timer and the error");
    assert.equal((errors[0] as Error).message, "boom");
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});

Deno.test("timers: a delay beyond what a runtime timer takes (2^31 - 1 ms) neither fires early nor spins: one runtime timer, set for the longest it takes", async () => {
  // Runtimes fire a longer runtime timer at once (Node, Bun) or after 0 ms (Deno), over and over.
  const runtimeSetTimeout = globalThis.setTimeout;
  const longDelays: number[] = [];
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if (ms !== undefined && ms > 2 ** 30) longDelays.push(ms);
    return runtimeSetTimeout(fn, ms);
  }) as typeof setTimeout;
  let fired = false;
  let far;
  try {
    far = setTimer(() => (fired = true), 2 ** 31 + 1000);
    await sleep(50);
  } finally {
    globalThis.setTimeout = runtimeSetTimeout;
    clearTimer(far);
  }
  assert.equal(fired, false);
  assert.deepEqual(longDelays, [2 ** 31 - 1]);
});

const root = fileURLToPath(new URL("../../", import.meta.url));
const lifetimeMain = fileURLToPath(new URL("timers_lifetime_main.ts", import.meta.url));

/** Runs timers_lifetime_main.ts under `runtime`: what fired, and how long it ran (ms). */
async function lifetime(runtime: string, mode: string): Promise<{ out: string; ms: number }> {
  const [bin, args] = runtime === "deno"
    ? [Deno.execPath(), ["run", "--no-prompt", lifetimeMain, mode]]
    : [`${root}.tools/node_modules/.bin/${runtime}`, [lifetimeMain, mode]];
  const t0 = performance.now();
  const child = new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const { stdout, stderr, success } = await child.output();
  clearTimeout(killer);
  const ms = performance.now() - t0;
  assert.ok(success, `${runtime} ${mode}: ${new TextDecoder().decode(stderr)}`);
  return { out: new TextDecoder().decode(stdout), ms };
}

Deno.test("timers: once nothing waits, nothing holds the process; a timer or heartbeat set again holds it until it fires (Deno, Node, Bun)", async () => {
  for (const runtime of RUNTIMES) {
    // Set and cleared: the process exits at once, not when the minute's deadline comes.
    const cleared = await lifetime(runtime, "cleared");
    assert.equal(cleared.out, "", `${runtime}: nothing fired`);
    assert.ok(cleared.ms < 15_000, `${runtime}: exited after ${cleared.ms} ms`);
    // Due after the runtime timer the first one left: the process waits for it.
    for (const mode of ["again", "heartbeat"]) {
      const again = await lifetime(runtime, mode);
      assert.equal(again.out, "fired second\n", `${runtime} ${mode}: the second one fired`);
    }
  }
});
