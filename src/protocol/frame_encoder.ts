/**
 * Encoding client frames (RFC 6455 §5.2): header, mask key, and the payload masked in one pass
 * (`masking.ts`).
 *
 * @module
 */

import { type Allocate, zeroFilled } from "./allocate.ts";
import { maskInto } from "./masking.ts";
import type { RandomSource } from "./random.ts";
import { utf8Length } from "./utf8.ts";

const encoder = new TextEncoder();
/** The mask key of the frame being encoded. */
const keyBytes = new Uint8Array(4);

/** Text up to this many UTF-16 units is measured in JavaScript and encoded into the frame. */
const SHORT_TEXT = 256;

/**
 * ASCII text up to this many units is masked as it is written, without the native encoder (a
 * loop over its characters beats a call to `encodeInto` up to about this length on V8).
 */
const SHORT_ASCII = 64;

/** The length of a client frame header (mask key included) for a payload of `length` bytes. */
export function headerLength(length: number): number {
  return length < 126 ? 6 : length < 65536 ? 8 : 14;
}

/**
 * Encodes one masked client frame. `payload` is copied (and masked) into the result; text is
 * encoded to UTF-8 straight into it.
 *
 * @param opcode The frame opcode (see `opcodes.ts`), with `RSV1` (permessage_deflate.ts) or'd in
 *   for the first frame of a compressed message.
 * @param payload The payload bytes, or a string to send as UTF-8.
 * @param random Where the 4-byte mask key comes from.
 * @param fin Whether this is the last frame of its message.
 * @param allocate Where the frame's buffer comes from (see `allocate.ts`).
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame_encoder.ts";
 * import { TEXT } from "./opcodes.ts";
 * const bytes = encodeFrame(TEXT, "Hello", (k) => k.fill(0));
 * bytes.length; // 11: 2 header bytes, 4 mask bytes, 5 payload bytes
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array | string,
  random: RandomSource,
  fin = true,
  allocate: Allocate = zeroFilled,
): Uint8Array {
  // Short text is encoded straight into the frame (short ASCII text masked as it is written);
  // longer text by the runtime's native encoder (faster than measuring it in JavaScript first),
  // then copied and masked in one pass.
  let bytes: Uint8Array | undefined;
  let length: number;
  let ascii = false;
  if (typeof payload !== "string") {
    bytes = payload;
    length = payload.length;
  } else if (payload.length <= SHORT_TEXT) {
    length = payload.length;
    ascii = length <= SHORT_ASCII && isAscii(payload);
    if (!ascii) length = utf8Length(payload);
  } else {
    bytes = encoder.encode(payload);
    length = bytes.length;
  }
  const head = headerLength(length);
  const frame = allocate(head + length);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  let p: number;
  if (length < 126) {
    frame[1] = 0x80 | length;
    p = 2;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
    p = 4;
  } else {
    frame[1] = 0x80 | 127;
    const hi = Math.floor(length / 0x100000000);
    frame[2] = hi >>> 24;
    frame[3] = (hi >>> 16) & 0xff;
    frame[4] = (hi >>> 8) & 0xff;
    frame[5] = hi & 0xff;
    frame[6] = length >>> 24;
    frame[7] = (length >>> 16) & 0xff;
    frame[8] = (length >>> 8) & 0xff;
    frame[9] = length & 0xff;
    p = 10;
  }
  random(keyBytes);
  frame[p] = keyBytes[0];
  frame[p + 1] = keyBytes[1];
  frame[p + 2] = keyBytes[2];
  frame[p + 3] = keyBytes[3];
  p += 4;
  if (length === 0) return frame;
  if (ascii) {
    maskAscii(payload as string, frame, p);
    return frame;
  }
  if (bytes === undefined) {
    // Text into the frame first, then masked in place.
    const into = frame.subarray(p);
    encoder.encodeInto(payload as string, into);
    bytes = into;
  }
  maskInto(bytes, frame, p, keyBytes);
  return frame;
}

/** Whether every UTF-16 unit of `s` is ASCII (so its UTF-8 is one byte per unit). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Writes the ASCII text `s` masked with the key in `keyBytes` to `frame` from `p` on. */
function maskAscii(s: string, frame: Uint8Array, p: number): void {
  const k0 = keyBytes[0], k1 = keyBytes[1], k2 = keyBytes[2], k3 = keyBytes[3];
  const n = s.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    frame[p + i] = s.charCodeAt(i) ^ k0;
    frame[p + i + 1] = s.charCodeAt(i + 1) ^ k1;
    frame[p + i + 2] = s.charCodeAt(i + 2) ^ k2;
    frame[p + i + 3] = s.charCodeAt(i + 3) ^ k3;
  }
  for (; i < n; i++) frame[p + i] = s.charCodeAt(i) ^ keyBytes[i & 3];
}

/**
 * XORs `data` with a 4-byte `key` into a new array (or in place when `out` is `data`).
 * Masking and unmasking are the same operation.
 *
 * @example
 * ```ts
 * import { mask } from "./frame_encoder.ts";
 * const key = new Uint8Array([1, 2, 3, 4]);
 * const masked = mask(new Uint8Array([0, 0, 0, 0, 0]), key); // [1, 2, 3, 4, 1]
 * ```
 */
export function mask(
  data: Uint8Array,
  key: Uint8Array,
  out: Uint8Array = new Uint8Array(data.length),
): Uint8Array {
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i & 3];
  return out;
}

/**
 * The payload of a close frame: the code as two bytes, then the reason as UTF-8.
 *
 * @example
 * ```ts
 * import { closePayload } from "./frame_encoder.ts";
 * closePayload(1000, "bye"); // Uint8Array [3, 232, 98, 121, 101]
 * ```
 */
export function closePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const r = encoder.encode(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
