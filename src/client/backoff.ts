/**
 * Parley's reconnect backoff: exponential with equal jitter, as a pure function.
 *
 * @module
 */

/**
 * The numbers that shape reconnect delays.
 *
 * @example
 * ```ts
 * import type { BackoffOptions } from "@parley/client";
 * const options: BackoffOptions = { baseDelay: 500, maxDelay: 10_000 };
 * ```
 */
export interface BackoffOptions {
  /** The first delay's ceiling, in ms. */
  readonly baseDelay: number;
  /** The largest ceiling any delay may reach, in ms. */
  readonly maxDelay: number;
}

/**
 * The delay before reconnect attempt number `attempt` (0 for the first retry), as Parley
 * computes it: `D = min(baseDelay × 2^attempt, maxDelay)`, `half = max(floor(D / 2), 1)`, and a
 * uniform integer in `[half + 1, 2 × half]`: between about 50% and 100% of `D` ("equal
 * jitter"). With the defaults (1000/30000): attempt 0 gives 501-1000 ms, 1 gives 1001-2000,
 * and from attempt 5 on 15001-30000.
 *
 * `random` returns a number in `[0, 1)` like `Math.random` (the default); pass your own for
 * repeatable delays.
 *
 * @example Deterministic delays
 * ```ts
 * import { backoffDelay } from "@parley/client";
 * const opts = { baseDelay: 1000, maxDelay: 30_000 };
 * console.log(backoffDelay(0, opts, () => 0)); // 501
 * console.log(backoffDelay(0, opts, () => 0.999999)); // 1000
 * console.log(backoffDelay(10, opts, () => 0)); // 15001
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // Clamp the exponent: 2 ** 1024 is Infinity, and 0 * Infinity is NaN.
  const ceiling = Math.min(
    options.baseDelay * 2 ** Math.min(Math.max(attempt, 0), 64),
    options.maxDelay,
  );
  const half = Math.max(Math.floor(ceiling / 2), 1);
  const r = random();
  const u = 1 + Math.min(Math.floor((Number.isFinite(r) && r > 0 ? r : 0) * half), half - 1);
  return half + u;
}
