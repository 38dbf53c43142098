/**
 * Where the protocol core gets the buffers it fills completely: joined messages and encoded
 * frames. Injected like the random source, so a runtime with a faster allocator for buffers it
 * will overwrite anyway (Bun's `allocUnsafe`) can use it without the core knowing the runtime.
 *
 * @module
 */

/**
 * Returns a plain `Uint8Array` of exactly `size` bytes, whose contents the caller overwrites
 * entirely before anyone else sees them.
 */
export type Allocate = (size: number) => Uint8Array;

/**
 * The default allocator: a fresh, zero-filled array.
 *
 * @example
 * ```ts
 * import { zeroFilled } from "./allocate.ts";
 * zeroFilled(4); // Uint8Array [0, 0, 0, 0]
 * ```
 */
export const zeroFilled: Allocate = (size) => new Uint8Array(size);
