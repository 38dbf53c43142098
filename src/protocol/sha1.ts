/**
 * SHA-1 and base64, synchronous and dependency-free, for the `Sec-WebSocket-Accept` check
 * (RFC 6455 §4.2.2). SHA-1 is what the protocol prescribes here; it protects nothing secret.
 *
 * @module
 */

/** A message of up to this many bytes is padded in a buffer kept for the purpose. */
const SCRATCH_MESSAGE = 119;
/** Two blocks: room for any message of up to SCRATCH_MESSAGE bytes, padded. */
const scratch = new Uint8Array(128);
/** The message schedule, reused (the digest is synchronous and never re-entered). */
const w = new Int32Array(80);

/**
 * The SHA-1 digest of `data`.
 *
 * @example
 * ```ts
 * import { sha1 } from "./sha1.ts";
 * sha1(new TextEncoder().encode("abc")).length; // 20
 * ```
 */
export function sha1(data: Uint8Array): Uint8Array {
  const n = data.length;
  if (n <= SCRATCH_MESSAGE) {
    scratch.set(data);
    return digestPadded(scratch, n);
  }
  const padded = new Uint8Array(((n + 9 + 63) >> 6) << 6);
  padded.set(data);
  return digestPadded(padded, n);
}

/**
 * The SHA-1 digest of `text`, every character of which is below U+0080 (its UTF-8 bytes are
 * its character codes): the digest of the Sec-WebSocket-Key and the GUID, without encoding them.
 */
export function sha1Ascii(text: string): Uint8Array {
  const n = text.length;
  const buffer = n <= SCRATCH_MESSAGE ? scratch : new Uint8Array(((n + 9 + 63) >> 6) << 6);
  for (let i = 0; i < n; i++) buffer[i] = text.charCodeAt(i);
  return digestPadded(buffer, n);
}

/**
 * The digest of the first `n` bytes of `buffer`, which has room for the padding: at least
 * `n + 9` bytes, rounded up to 64. The padding is written here, over whatever follows them.
 */
function digestPadded(buffer: Uint8Array, n: number): Uint8Array {
  const length = ((n + 9 + 63) >> 6) << 6;
  buffer[n] = 0x80;
  buffer.fill(0, n + 1, length - 8);
  // The length in bits, big-endian, in the last 8 bytes.
  const hi = Math.floor(n / 0x20000000);
  const lo = (n * 8) >>> 0;
  buffer[length - 8] = hi >>> 24;
  buffer[length - 7] = hi >>> 16;
  buffer[length - 6] = hi >>> 8;
  buffer[length - 5] = hi;
  buffer[length - 4] = lo >>> 24;
  buffer[length - 3] = lo >>> 16;
  buffer[length - 2] = lo >>> 8;
  buffer[length - 1] = lo;
  let h0 = 0x67452301,
    h1 = 0xefcdab89 | 0,
    h2 = 0x98badcfe | 0,
    h3 = 0x10325476,
    h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < length; off += 64) {
    for (let i = 0, j = off; i < 16; i++, j += 4) {
      w[i] = (buffer[j] << 24) | (buffer[j + 1] << 16) | (buffer[j + 2] << 8) | buffer[j + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, t = 0;
    for (let i = 0; i < 20; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  put(out, 0, h0);
  put(out, 4, h1);
  put(out, 8, h2);
  put(out, 12, h3);
  put(out, 16, h4);
  return out;
}

function put(out: Uint8Array, at: number, h: number): void {
  out[at] = h >>> 24;
  out[at + 1] = h >>> 16;
  out[at + 2] = h >>> 8;
  out[at + 3] = h;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** The alphabet's character codes, and the padding's. */
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 0x3d;

/**
 * Standard base64 with padding.
 *
 * @example
 * ```ts
 * import { base64 } from "./sha1.ts";
 * base64(new Uint8Array([1, 2, 3])); // "AQID"
 * ```
 */
export function base64(bytes: Uint8Array): string {
  // The characters' codes first, then one string: adding to a string four characters at a time
  // made a new string each time (about 1.2 KB of garbage per handshake's two calls).
  const codes = new Array<number>(Math.ceil(bytes.length / 3) * 4);
  let at = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    codes[at++] = CODES[n >> 18];
    codes[at++] = CODES[(n >> 12) & 63];
    codes[at++] = CODES[(n >> 6) & 63];
    codes[at++] = CODES[n & 63];
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    codes[at++] = CODES[n >> 18];
    codes[at++] = CODES[(n >> 12) & 63];
    codes[at++] = rest === 2 ? CODES[(n >> 6) & 63] : PAD;
    codes[at++] = PAD;
  }
  // (Short enough for one call's arguments: keys, accepts and credentials.)
  if (codes.length <= 8192) return String.fromCharCode.apply(null, codes);
  let out = "";
  for (let from = 0; from < codes.length; from += 8192) {
    out += String.fromCharCode.apply(null, codes.slice(from, from + 8192));
  }
  return out;
}
