// The heartbeat's clock (src/transport/_heartbeat.ts), shared by both transports: when it probes,
// when it gives up, and what does not count as the peer's silence (our own pause, a process that
// was not running). Real timers, short intervals; the transports' heartbeat against real peers
// under each runtime: heartbeat_runtimes_test.ts.

import assert from "node:assert/strict";
import { Heartbeat } from "../../src/transport/_heartbeat.ts";
import { sleep, waitFor } from "../support/recorder.ts";

/**
 * A heartbeat whose probes and timeout are recorded with when they happened (ms from start);
 * `onProbe` runs within the probe (n: its number, from 1), where timing matters.
 */
function watch(interval: number, timeout: number, onProbe: (n: number) => void = () => {}) {
  const t0 = performance.now();
  const log: Array<[string, number]> = [];
  let probes = 0;
  const heartbeat: Heartbeat = new Heartbeat({ interval, timeout, message: undefined }, {
    probe() {
      log.push(["probe", performance.now() - t0]);
      onProbe(++probes);
    },
    timedOut: () => void log.push(["timedOut", performance.now() - t0]),
  });
  heartbeat.start();
  return { heartbeat, log, names: () => log.map(([name]) => name) };
}

/** Spins for `ms`: the event loop is blocked meanwhile. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

Deno.test("heartbeat clock: after `interval` of silence it probes, and `timeout` later it gives up, once", async () => {
  const { log, names } = watch(40, 60);
  await waitFor(() => names().includes("timedOut"), "the timeout");
  await sleep(150);
  assert.deepEqual(names(), ["probe", "timedOut"]);
  const [[, probe], [, out]] = log;
  assert.ok(probe >= 40 && probe < 40 + 50, `probe at ${probe}`);
  assert.ok(out - probe >= 60 && out - probe < 60 + 50, `gave up ${out - probe} ms after it`);
});

Deno.test("heartbeat clock: anything received counts: no probe while data keeps coming, and an answer after a probe keeps it alive until the next", async () => {
  const { heartbeat, log, names } = watch(60, 60);
  for (let i = 0; i < 6; i++) {
    await sleep(20);
    heartbeat.received();
  }
  assert.deepEqual(names(), [], "no probe while data arrives");
  await waitFor(() => names().includes("probe"), "a probe");
  heartbeat.received();
  await waitFor(() => names().length === 2, "the next probe");
  assert.deepEqual(names(), ["probe", "probe"], "alive: no timeout, probing again");
  const [[, first], [, second]] = log;
  assert.ok(second - first >= 60, `the next probe ${second - first} ms later, at its deadline`);
  heartbeat.stop();
});

Deno.test("heartbeat clock: paused, it never gives up; resumed, the silence counts from then", async () => {
  const { heartbeat, log, names } = watch(20, 20);
  heartbeat.pause();
  await sleep(200);
  assert.deepEqual(names(), []);
  const resumed = performance.now();
  heartbeat.resume();
  await waitFor(() => names().includes("timedOut"), "the timeout");
  assert.deepEqual(names(), ["probe", "timedOut"]);
  const [, [, out]] = log;
  // (log times count from the start: 200 ms of pause before the resume.)
  assert.ok(out >= 200 + 40, `gave up at ${out} ms, resumed at ${resumed} (now-based)`);
});

Deno.test("heartbeat clock: a process that was not running past the deadline (a timer over a second late) probes afresh instead of giving up", async () => {
  // Past the first probe's deadline by more than a second.
  const { log, names } = watch(20, 50, (n) => n === 1 && block(1200));
  await waitFor(() => names().includes("timedOut"), "the timeout", 3000);
  assert.deepEqual(names(), ["probe", "probe", "timedOut"]);
  const [, [, second], [, out]] = log;
  assert.ok(out - second >= 50, "the full timeout after the fresh probe");
});

Deno.test("heartbeat clock: what arrived while the process was busy past the deadline is read before it decides", async () => {
  // The deadline passes during a block shorter than the pause threshold; data that arrives in
  // that time (here: a timer due during the block) is taken into account first.
  const { heartbeat, names } = watch(20, 30, (n) => {
    if (n === 1) {
      setTimeout(() => heartbeat.received(), 35); // after the deadline (30)
      block(200);
    } else heartbeat.stop();
  });
  await sleep(300);
  assert.deepEqual(names(), ["probe", "probe"], "alive: no timeout, probing again");
});

Deno.test("heartbeat clock: stop() ends it: nothing more is probed or reported", async () => {
  const { heartbeat, names } = watch(10, 10, () => heartbeat.stop());
  await sleep(80);
  assert.deepEqual(names(), ["probe"]);
});

Deno.test("heartbeat clock: heartbeats of different intervals, sharing one timer, each keep their own time, and stopping some leaves the others running", async () => {
  const beats = [70, 20, 50, 30, 60, 40].map((interval) => ({
    interval,
    ...watch(interval, 1000),
  }));
  // Stopped before their deadline: these never probe.
  beats[2].heartbeat.stop();
  beats[5].heartbeat.stop();
  await waitFor(
    () => [0, 1, 3, 4].every((i) => beats[i].names().includes("probe")),
    "the running ones' probes",
  );
  for (const { interval, log, names, heartbeat } of beats) {
    heartbeat.stop();
    if (interval === 50 || interval === 40) {
      assert.deepEqual(names(), [], `interval ${interval}: stopped, never probed`);
      continue;
    }
    assert.deepEqual(names(), ["probe"], `interval ${interval}`);
    const at = log[0][1];
    assert.ok(at >= interval && at < interval + 50, `interval ${interval}: probed at ${at}`);
  }
});

Deno.test("heartbeat clock: a heartbeat started after the others stopped keeps its own time, whether it is due before or after the timer they left", async () => {
  // The first one leaves the clock's timer set for 80 ms; the next ones are due at 30 and 150 ms.
  watch(80, 1000).heartbeat.stop();
  const early = watch(30, 1000);
  const late = watch(150, 1000);
  await waitFor(() => late.names().includes("probe"), "the later one's probe");
  early.heartbeat.stop();
  late.heartbeat.stop();
  const [[, earlyAt]] = early.log;
  const [[, lateAt]] = late.log;
  assert.ok(earlyAt >= 30 && earlyAt < 30 + 50, `the earlier one probed at ${earlyAt}`);
  assert.ok(lateAt >= 150 && lateAt < 150 + 50, `the later one probed at ${lateAt}`);
});
