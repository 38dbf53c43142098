/**
 * The random source the protocol core uses for mask keys and handshake keys. The core never
 * reaches for global randomness: a transport injects a source, and tests inject a fixed one.
 *
 * @module
 */

/**
 * Fills `target` with random bytes.
 *
 * @example A fixed source for tests
 * ```ts
 * import type { RandomSource } from "./random.ts";
 * const zeros: RandomSource = (target) => target.fill(0);
 * ```
 */
export type RandomSource = (target: Uint8Array) => void;

/** The most `crypto.getRandomValues` fills in one call. */
const MAX_FILL = 65536;

/**
 * A source that draws from `fill` (a cryptographic generator such as
 * `crypto.getRandomValues`) in pools of `poolSize` bytes, so a 4-byte mask key does not cost
 * one call into the generator. `fill` is never asked for more than 65,536 bytes at once (the
 * most `getRandomValues` accepts), whatever `poolSize` and the draw's size.
 *
 * @example
 * ```ts
 * import { pooledRandom } from "./random.ts";
 * const random = pooledRandom((b) => crypto.getRandomValues(b));
 * const key = new Uint8Array(4);
 * random(key);
 * ```
 */
export function pooledRandom(
  fill: (buffer: Uint8Array) => unknown,
  poolSize = 8192,
): RandomSource {
  const fillAll = (buffer: Uint8Array) => {
    for (let at = 0; at < buffer.length; at += MAX_FILL) {
      fill(buffer.subarray(at, Math.min(buffer.length, at + MAX_FILL)));
    }
  };
  let pool: Uint8Array | undefined;
  let pos = poolSize;
  return (target) => {
    if (target.length === 0) return;
    if (target.length > poolSize) {
      fillAll(target);
      return;
    }
    if (pool === undefined || pos + target.length > poolSize) {
      pool ??= new Uint8Array(poolSize);
      fillAll(pool);
      pos = 0;
    }
    const n = target.length;
    if (n <= 16) {
      // A mask key: copied byte by byte, without a view of the pool per draw.
      for (let i = 0; i < n; i++) target[i] = pool[pos + i];
    } else target.set(pool.subarray(pos, pos + n));
    pos += n;
  };
}
