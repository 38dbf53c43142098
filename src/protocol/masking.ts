/**
 * Masking payloads (RFC 6455 §5.3): each byte XORed with the 4-byte mask key, in turn. Short
 * payloads are masked in JavaScript, 32 bits at a time; from {@linkcode WASM_FROM} bytes on, by a
 * WebAssembly SIMD kernel 16 bytes at a time, where the engine has WebAssembly with SIMD and may
 * compile it (a Content-Security-Policy without `wasm-unsafe-eval` forbids it): otherwise in
 * JavaScript too.
 *
 * The kernel works in its own linear memory: the payload is copied in a block at a time, masked
 * into a second area, and copied out into the frame. Copies are memmoves, much faster than the
 * JavaScript loop; each area's offset is chosen from the buffers' offsets so that source and
 * destination lie about half a page apart modulo 4 KiB, as some processors (AMD Zen's `rep movsb`)
 * copy several times slower when the destination is a few bytes past the source modulo 4 KiB.
 *
 * @module
 */

/** Payloads from this many bytes on are masked by the WebAssembly kernel, where it runs. */
export const WASM_FROM = 1024;

/**
 * Payloads shorter than this are masked byte by byte in JavaScript: below it, making the two
 * 32-bit views costs more than the word loop saves (V8 breaks even at about 100 bytes,
 * JavaScriptCore above 256).
 */
const WORD_MASK_THRESHOLD = 64;

/** Bytes masked per pass through the kernel's memory (a multiple of 4 KiB). */
const BLOCK = 64 * 1024;
const PAGE = 4096;
/** Where the area the payload is copied into starts; the masked bytes' area follows it. */
const IN_AREA = 0;
const OUT_AREA = BLOCK + PAGE;

/**
 * The kernel, assembled from this WebAssembly text (the hexadecimal below is its binary, 335
 * bytes; `wat2wasm --enable-simd` makes them again):
 *
 * ```wat
 * (module
 *   (memory (export "memory") 3)
 *   ;; Writes memory[from, from + n) XORed with the 4-byte key k (little-endian: its low byte
 *   ;; masks the first byte) to memory[to, to + n): 64 bytes a step, then 16, then 4, then 1.
 *   (func (export "mask") (param $from i32) (param $to i32) (param $n i32) (param $k i32)
 *     (local $end i32) (local $kv v128)
 *     (local.set $kv (i32x4.splat (local.get $k)))
 *     (local.set $end (i32.add (local.get $from) (i32.and (local.get $n) (i32.const -64))))
 *     (block $done64
 *       (loop $next64
 *         (br_if $done64 (i32.ge_u (local.get $from) (local.get $end)))
 *         (v128.store offset=0 align=1 (local.get $to)
 *           (v128.xor (v128.load offset=0 align=1 (local.get $from)) (local.get $kv)))
 *         (v128.store offset=16 align=1 (local.get $to)
 *           (v128.xor (v128.load offset=16 align=1 (local.get $from)) (local.get $kv)))
 *         (v128.store offset=32 align=1 (local.get $to)
 *           (v128.xor (v128.load offset=32 align=1 (local.get $from)) (local.get $kv)))
 *         (v128.store offset=48 align=1 (local.get $to)
 *           (v128.xor (v128.load offset=48 align=1 (local.get $from)) (local.get $kv)))
 *         (local.set $from (i32.add (local.get $from) (i32.const 64)))
 *         (local.set $to (i32.add (local.get $to) (i32.const 64)))
 *         (br $next64)))
 *     (local.set $end (i32.add (local.get $from) (i32.and (local.get $n) (i32.const 48))))
 *     (block $done16
 *       (loop $next16
 *         (br_if $done16 (i32.ge_u (local.get $from) (local.get $end)))
 *         (v128.store align=1 (local.get $to)
 *           (v128.xor (v128.load align=1 (local.get $from)) (local.get $kv)))
 *         (local.set $from (i32.add (local.get $from) (i32.const 16)))
 *         (local.set $to (i32.add (local.get $to) (i32.const 16)))
 *         (br $next16)))
 *     (local.set $end (i32.add (local.get $from) (i32.and (local.get $n) (i32.const 12))))
 *     (block $done4
 *       (loop $next4
 *         (br_if $done4 (i32.ge_u (local.get $from) (local.get $end)))
 *         (i32.store align=1 (local.get $to)
 *           (i32.xor (i32.load align=1 (local.get $from)) (local.get $k)))
 *         (local.set $from (i32.add (local.get $from) (i32.const 4)))
 *         (local.set $to (i32.add (local.get $to) (i32.const 4)))
 *         (br $next4)))
 *     (local.set $end (i32.add (local.get $from) (i32.and (local.get $n) (i32.const 3))))
 *     (block $done1
 *       (loop $next1
 *         (br_if $done1 (i32.ge_u (local.get $from) (local.get $end)))
 *         (i32.store8 (local.get $to) (i32.xor (i32.load8_u (local.get $from)) (local.get $k)))
 *         (local.set $k (i32.shr_u (local.get $k) (i32.const 8)))
 *         (local.set $from (i32.add (local.get $from) (i32.const 1)))
 *         (local.set $to (i32.add (local.get $to) (i32.const 1)))
 *         (br $next1)))))
 * ```
 */
const KERNEL_HEX =
  "0061736d0100000001080160047f7f7f7f00030201000503010003071102066d656d6f72790200046d61736b" +
  "00000a9e02019b0202017f017b2003fd112105200020024140716a210402400340200020044f0d0120012000" +
  "fd0000002005fd51fd0b000020012000fd0000102005fd51fd0b001020012000fd0000202005fd51fd0b0020" +
  "20012000fd0000302005fd51fd0b0030200041c0006a2100200141c0006a21010c000b0b200020024130716a" +
  "210402400340200020044f0d0120012000fd0000002005fd51fd0b0000200041106a2100200141106a21010c" +
  "000b0b20002002410c716a210402400340200020044f0d0120012000280000200373360000200041046a2100" +
  "200141046a21010c000b0b200020024103716a210402400340200020044f0d01200120002d00002003733a00" +
  "0020034108762103200041016a2100200141016a21010c000b0b0b";

/** Bytes from hexadecimal digits, two a byte. */
function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface Kernel {
  readonly mask: (from: number, to: number, n: number, key: number) => void;
  readonly memory: Uint8Array;
}

/** The kernel once instantiated; null where it cannot run; undefined before the first try. */
let kernel: Kernel | null | undefined;

/** Instantiates the kernel (synchronously: 335 bytes compile in microseconds), or null. */
function loadKernel(): Kernel | null {
  try {
    const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (wasm === undefined) return null;
    const instance = new wasm.Instance(new wasm.Module(fromHex(KERNEL_HEX)));
    const exports = instance.exports as {
      mask: Kernel["mask"];
      memory: WebAssembly.Memory;
    };
    return { mask: exports.mask, memory: new Uint8Array(exports.memory.buffer) };
  } catch {
    // No SIMD (an old engine), or compiling refused (CSP): masking stays in JavaScript.
    return null;
  }
}

/**
 * Whether masking runs on the WebAssembly kernel here (it is loaded on first use).
 *
 * @example
 * ```ts
 * import { kernelAvailable } from "./masking.ts";
 * kernelAvailable(); // true in Deno, Node and Bun
 * ```
 */
export function kernelAvailable(): boolean {
  return (kernel === undefined ? (kernel = loadKernel()) : kernel) !== null;
}

/**
 * Writes `source` masked with `key` (4 bytes) to `target` from `at` on, whatever their
 * alignment. `source` may be the very bytes of `target` from `at` (masking in place), but must
 * not overlap it otherwise.
 *
 * @example
 * ```ts
 * import { maskInto } from "./masking.ts";
 * const out = new Uint8Array(6);
 * maskInto(new Uint8Array([0, 0, 0, 0, 0, 0]), out, 0, new Uint8Array([1, 2, 3, 4]));
 * out; // Uint8Array [1, 2, 3, 4, 1, 2]
 * ```
 */
export function maskInto(
  source: Uint8Array,
  target: Uint8Array,
  at: number,
  key: Uint8Array,
): void {
  const length = source.length;
  if (length >= WASM_FROM) {
    const k = kernel === undefined ? (kernel = loadKernel()) : kernel;
    if (k !== null) {
      maskWasm(k, source, target, at, key);
      return;
    }
  }
  maskJs(source, target, at, key);
}

/** The kernel's way: a block at a time through its memory (see the module's documentation). */
function maskWasm(k: Kernel, source: Uint8Array, target: Uint8Array, at: number, key: Uint8Array) {
  const length = source.length;
  const memory = k.memory;
  const word = (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) | 0;
  // Half a page apart from the source and from the target, modulo 4 KiB.
  const from = IN_AREA + ((source.byteOffset + PAGE / 2) & (PAGE - 1));
  const to = OUT_AREA + ((target.byteOffset + at + PAGE / 2) & (PAGE - 1));
  for (let done = 0; done < length; done += BLOCK) {
    const n = length - done < BLOCK ? length - done : BLOCK;
    memory.set(n === length ? source : source.subarray(done, done + n), from);
    k.mask(from, to, n, word);
    target.set(memory.subarray(to, to + n), at + done);
  }
}

// The mask key, rotated to where the word loop starts, read as one native-endian 32-bit word.
const keyWord = new Uint32Array(1);
const keyBytes = new Uint8Array(keyWord.buffer);

/**
 * The JavaScript way: byte by byte up to the target's next 4-byte boundary, then 32 bits at a
 * time, then the last bytes one by one. A source that is not aligned as the target is copied
 * into the target first and masked there.
 */
function maskJs(source: Uint8Array, target: Uint8Array, at: number, key: Uint8Array): void {
  const length = source.length;
  let i = 0;
  if (length < WORD_MASK_THRESHOLD) {
    // Four bytes a step, the key in locals.
    const k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3];
    for (; i + 4 <= length; i += 4) {
      target[at + i] = source[i] ^ k0;
      target[at + i + 1] = source[i + 1] ^ k1;
      target[at + i + 2] = source[i + 2] ^ k2;
      target[at + i + 3] = source[i + 3] ^ k3;
    }
    for (; i < length; i++) target[at + i] = source[i] ^ key[i & 3];
    return;
  }
  // Payload byte j is at src[srcAt + j].
  let src = source;
  let srcAt = 0;
  const lead = (4 - ((target.byteOffset + at) & 3)) & 3;
  for (; i < lead; i++) target[at + i] = source[i] ^ key[i & 3];
  if (((source.byteOffset + lead) & 3) !== 0) {
    // Not aligned as the target: into the target first, then masked in place.
    target.set(lead === 0 ? source : source.subarray(lead), at + lead);
    src = target;
    srcAt = at;
  }
  keyBytes[0] = key[lead];
  keyBytes[1] = key[(lead + 1) & 3];
  keyBytes[2] = key[(lead + 2) & 3];
  keyBytes[3] = key[(lead + 3) & 3];
  const words = (length - lead) >>> 2;
  const from = new Uint32Array(src.buffer, src.byteOffset + srcAt + lead, words);
  const to = new Uint32Array(target.buffer, target.byteOffset + at + lead, words);
  const k = keyWord[0];
  // Unrolled by eight: no slower on V8, faster on JavaScriptCore (Bun) in a micro-measurement.
  const end8 = words & ~7;
  let j = 0;
  for (; j < end8; j += 8) {
    to[j] = from[j] ^ k;
    to[j + 1] = from[j + 1] ^ k;
    to[j + 2] = from[j + 2] ^ k;
    to[j + 3] = from[j + 3] ^ k;
    to[j + 4] = from[j + 4] ^ k;
    to[j + 5] = from[j + 5] ^ k;
    to[j + 6] = from[j + 6] ^ k;
    to[j + 7] = from[j + 7] ^ k;
  }
  for (; j < words; j++) to[j] = from[j] ^ k;
  i = lead + (words << 2);
  for (; i < length; i++) target[at + i] = src[srcAt + i] ^ key[i & 3];
}

/** Masks in JavaScript only (the micro-benchmark's baseline; the fallback where WebAssembly is missing). */
export { maskJs as maskIntoJs };
