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

/**
 * A source that draws from `fill` (a cryptographic generator such as
 * `crypto.getRandomValues`) in pools of `poolSize` bytes, so a 4-byte mask key does not cost
 * one call into the generator.
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
  let pool: Uint8Array | undefined;
  let pos = poolSize;
  return (target) => {
    if (target.length > poolSize) {
      fill(target);
      return;
    }
    if (pos + target.length > poolSize) {
      pool ??= new Uint8Array(poolSize);
      // getRandomValues fills at most 65536 bytes per call; poolSize stays below.
      fill(pool);
      pos = 0;
    }
    target.set(pool!.subarray(pos, pos + target.length));
    pos += target.length;
  };
}
