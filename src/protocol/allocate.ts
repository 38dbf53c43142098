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
export const PACKED_BELOW = 72 * 1024;

/** The size of one shared block. */
const PACK_BLOCK = 256 * 1024;

/** Free blocks kept for reuse (4 MiB: as many as a burst of writes holds at a time). */
const FREE_BLOCKS = 16;

/**
 * Larger requests, up to LARGE_MAX, get a buffer of their own whose size is the next power of
 * two; released ones are kept for reuse while all the kept ones come to at most LARGE_KEPT bytes
 * (so the process holds at most 4 MiB of free blocks and 8 MiB of free large buffers). Beyond
 * LARGE_MAX, a request comes from the allocator as it is and is never kept.
 */
const LARGE_KEPT = 8 * 1024 * 1024;
const LARGE_MAX = 32 * 1024 * 1024;
/** The bytes of the large buffers kept free now. */
let largeKept = 0;

/**
 * A shared block, or a large buffer (which holds one frame): the bytes cut from it so far, and
 * the bytes of those released so far.
 */
interface Block {
  readonly bytes: Uint8Array;
  cut: number;
  released: number;
  /** No more is cut from it: it is free again once everything cut from it is released. */
  retired: boolean;
  /** Where it goes when free again. */
  readonly home: Block[];
  /** A large buffer (kept within LARGE_KEPT), not a shared block (up to FREE_BLOCKS of them). */
  readonly large: boolean;
}

/** Blocks and large buffers by their memory, for `release`. */
const owners = new WeakMap<ArrayBufferLike, Block>();
/** The block being cut, shared by every connection of the process. */
let block: Block | undefined;
const freeBlocks: Block[] = [];
/** Released large buffers, by the base-2 logarithm of their size. */
const freeLarge: Block[][] = [];

/**
 * An allocator for encoded frames. Requests below {@linkcode PACKED_BELOW} bytes are cut, one
 * after the other, from a block of 256 KiB shared by every connection of the process; larger
 * ones (up to 32 MiB) get a buffer of the next power of two's size. So the frames one connection
 * encodes in a row lie next to each other in memory, to be written as one piece, and a burst of
 * them costs one allocation per block. Whoever writes the frames hands each byte back once,
 * after its last use, with {@linkcode release}: a block whose every frame was released, and a
 * large buffer, are then reused rather than allocated afresh (the next frame overwrites them).
 * Frames never released (their writer does not release, or they never went out) keep their
 * memory from reuse, and the garbage collector takes it. Frames are never handed to users.
 *
 * Blocks and large buffers are plain zero-filled arrays: reused, they cost no allocation at all.
 * `allocate` serves requests beyond 32 MiB.
 *
 * @example
 * ```ts
 * import { packed, release, zeroFilled } from "./allocate.ts";
 * const allocate = packed(zeroFilled);
 * const a = allocate(10);
 * const b = allocate(20);
 * a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset; // true (unless a's block filled up)
 * release(a); // written: their block is reused once every frame cut from it is released
 * release(b);
 * ```
 */
export function packed(allocate: Allocate): Allocate {
  return (size) => {
    if (size >= PACKED_BELOW) return size > LARGE_MAX ? allocate(size) : large(size);
    let b = block;
    if (b === undefined || b.cut + size > PACK_BLOCK) {
      if (b !== undefined) retire(b);
      b = block = freeBlocks.pop() ?? newBlock(PACK_BLOCK, freeBlocks, false);
    }
    const at = b.cut;
    b.cut = at + size;
    return b.bytes.subarray(at, at + size);
  };
}

function newBlock(size: number, home: Block[], large: boolean): Block {
  const bytes = new Uint8Array(size);
  const b: Block = { bytes, cut: 0, released: 0, retired: false, home, large };
  owners.set(bytes.buffer, b);
  return b;
}

/** No more is cut from `b`; free again if everything cut from it was released already. */
function retire(b: Block): void {
  b.retired = true;
  if (b.released === b.cut) recycle(b);
}

/** A retired block whose frames were all released: free again (kept if its kind has room). */
function recycle(b: Block): void {
  b.cut = 0;
  b.released = 0;
  b.retired = false;
  const size = b.bytes.length;
  if (b.large ? largeKept + size <= LARGE_KEPT : b.home.length < FREE_BLOCKS) {
    if (b.large) largeKept += size;
    b.home.push(b);
  } else owners.delete(b.bytes.buffer);
}

/** A frame of `size` bytes in a large buffer of its own. */
function large(size: number): Uint8Array {
  const log = Math.ceil(Math.log2(size));
  const home = freeLarge[log] ??= [];
  let b = home.pop();
  if (b !== undefined) largeKept -= b.bytes.length;
  else b = newBlock(2 ** log, home, true);
  b.cut = size;
  b.retired = true;
  return b.bytes.subarray(0, size);
}

/**
 * Hands back bytes of frames from a {@linkcode packed} allocator once their last use is over
 * (written, or copied): one frame, several next to each other, or part of one. Each byte must be
 * released at most once, and never used after; bytes from elsewhere are ignored.
 *
 * @example
 * ```ts
 * import { packed, release, zeroFilled } from "./allocate.ts";
 * const frame = packed(zeroFilled)(100_000);
 * release(frame); // its buffer serves a later frame of about that size
 * ```
 */
export function release(chunk: Uint8Array): void {
  const b = owners.get(chunk.buffer);
  if (b === undefined) return;
  b.released += chunk.length;
  if (b.retired && b.released === b.cut) recycle(b);
}
