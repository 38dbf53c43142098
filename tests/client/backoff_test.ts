// backoffDelay: the reconnect delay for each attempt ("equal jitter": a whole number between about
// half and all of an exponentially growing ceiling, capped at maxDelay), at its edges and with bad
// inputs. The reconnects it schedules are in tests/e2e/reconnection_test.ts.

import assert from "node:assert/strict";
import { backoffDelay } from "../../mod.ts";

const DEFAULTS = { baseDelay: 1000, maxDelay: 30_000 };

Deno.test("backoff: the documented values 501, 1000 and 15001", () => {
  assert.equal(backoffDelay(0, DEFAULTS, () => 0), 501);
  assert.equal(backoffDelay(0, DEFAULTS, () => 0.999999), 1000);
  assert.equal(backoffDelay(10, DEFAULTS, () => 0), 15001);
});

Deno.test("backoff: each attempt's range with the defaults", () => {
  const ranges: Array<[number, number, number]> = [
    [0, 501, 1000],
    [1, 1001, 2000],
    [2, 2001, 4000],
    [3, 4001, 8000],
    [4, 8001, 16000],
    [5, 15001, 30000],
    [6, 15001, 30000],
  ];
  for (const [attempt, lo, hi] of ranges) {
    assert.equal(backoffDelay(attempt, DEFAULTS, () => 0), lo, `attempt ${attempt} low`);
    assert.equal(backoffDelay(attempt, DEFAULTS, () => 0.9999999), hi, `attempt ${attempt} high`);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, DEFAULTS);
      assert.ok(Number.isInteger(d) && d >= lo && d <= hi, `attempt ${attempt}: ${d}`);
    }
  }
});

Deno.test("backoff: huge attempts give finite delays within maxDelay", () => {
  for (const attempt of [30, 64, 1023, 1024, 1e6, Number.MAX_SAFE_INTEGER, Infinity]) {
    for (const r of [0, 0.5, 0.999999]) {
      const d = backoffDelay(attempt, DEFAULTS, () => r);
      assert.ok(Number.isFinite(d) && d >= 15001 && d <= 30000, `attempt ${attempt}: ${d}`);
    }
  }
});

Deno.test("backoff: baseDelay 0 always gives 2, even for huge attempts", () => {
  for (const attempt of [0, 1, 10, 1024, 1e9, Infinity]) {
    assert.equal(backoffDelay(attempt, { baseDelay: 0, maxDelay: 30_000 }, () => 0.7), 2);
    assert.equal(backoffDelay(attempt, { baseDelay: 0, maxDelay: 0 }), 2);
  }
});

Deno.test("backoff: an odd ceiling tops out at D - 1; D <= 1 gives 2", () => {
  assert.equal(backoffDelay(0, { baseDelay: 7, maxDelay: 7 }, () => 0.9999), 6);
  assert.equal(backoffDelay(0, { baseDelay: 1, maxDelay: 1 }, () => 0.9999), 2);
  assert.equal(backoffDelay(0, { baseDelay: 3, maxDelay: 100 }, () => 0), 2);
});

Deno.test("backoff: negative attempts count as 0; random out of range is clamped", () => {
  assert.equal(backoffDelay(-5, DEFAULTS, () => 0), 501);
  assert.equal(backoffDelay(0, DEFAULTS, () => 1), 1000);
  assert.equal(backoffDelay(0, DEFAULTS, () => 7), 1000);
  assert.equal(backoffDelay(0, DEFAULTS, () => -1), 501);
  assert.equal(backoffDelay(0, DEFAULTS, () => NaN), 501);
});

Deno.test("backoff: maxDelay caps the ceiling", () => {
  assert.equal(backoffDelay(3, { baseDelay: 1000, maxDelay: 2500 }, () => 0.9999), 2500);
  assert.equal(backoffDelay(3, { baseDelay: 1000, maxDelay: 2500 }, () => 0), 1251);
});
