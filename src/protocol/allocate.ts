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

/** Requests below this size are cut from shared blocks by {@linkcode packed}. */
export const PACKED_BELOW = 4096;

/** The size of one shared block. */
const PACK_BLOCK = 64 * 1024;

/** The shared block being cut (made by the allocator that first needed one), and where its free part starts. */
let block: Uint8Array | undefined;
let blockAt = 0;

/**
 * An allocator for small encoded frames: requests below {@linkcode PACKED_BELOW} bytes are cut,
 * one after the other, from a block of 64 KiB shared by every connection of the process (a new
 * block from `allocate` once the last is used up); larger ones come from `allocate`. So a burst
 * of small frames costs one allocation per 64 KiB, and the frames one connection encodes in a
 * row lie next to each other in memory, to be written as one piece. A block stays in memory as
 * long as any frame cut from it does; frames are never handed to users.
 *
 * @example
 * ```ts
 * import { packed, zeroFilled } from "./allocate.ts";
 * const allocate = packed(zeroFilled);
 * const a = allocate(10);
 * const b = allocate(20);
 * a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset; // true (unless a's block filled up)
 * ```
 */
export function packed(allocate: Allocate): Allocate {
  return (size) => {
    if (size >= PACKED_BELOW) return allocate(size);
    let b = block;
    if (b === undefined || blockAt + size > PACK_BLOCK) {
      b = block = allocate(PACK_BLOCK);
      blockAt = 0;
    }
    const at = blockAt;
    blockAt = at + size;
    return b.subarray(at, at + size);
  };
}
