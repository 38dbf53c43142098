/**
 * Streaming UTF-8 validation: bytes may arrive in any number of pieces, and an invalid byte is
 * reported as soon as it arrives, not at the end of the message.
 *
 * @module
 */

/**
 * Validates UTF-8 incrementally (RFC 3629: no overlongs, no surrogates, nothing above
 * U+10FFFF).
 *
 * @example
 * ```ts
 * import { Utf8Validator } from "./utf8.ts";
 * const v = new Utf8Validator();
 * v.push(new Uint8Array([0xe2, 0x82])); // true: a valid prefix so far
 * v.push(new Uint8Array([0xac])); // true: "€" is complete
 * v.complete; // true
 * ```
 */
export class Utf8Validator {
  /** Continuation bytes still expected. */
  #need = 0;
  /** The allowed range of the next continuation byte. */
  #lo = 0x80;
  #hi = 0xbf;

  /** Whether the bytes so far end on a character boundary. */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** Forgets any partial character. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /** Feeds `bytes[start, end)`; returns false at the first byte that cannot be valid UTF-8. */
  push(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    let need = this.#need;
    let lo = this.#lo;
    let hi = this.#hi;
    let i = start;
    while (i < end) {
      const b = bytes[i++];
      if (need === 0) {
        if (b < 0x80) {
          // ASCII run: the common case. Byte by byte at first; a run that goes on is then
          // scanned four bytes at a time.
          const stop = i + ASCII_WORDS_AFTER < end ? i + ASCII_WORDS_AFTER : end;
          while (i < stop && bytes[i] < 0x80) i++;
          if (i === stop && end - i >= 8) i = asciiRunEnd(bytes, i, end);
          while (i < end && bytes[i] < 0x80) i++;
          continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
          need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lo = 0xa0;
          else if (b === 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lo = 0x90;
          else if (b === 0xf4) hi = 0x8f;
        } else {
          this.#need = need;
          return false;
        }
      } else {
        if (b < lo || b > hi) {
          this.#need = need;
          return false;
        }
        lo = 0x80;
        hi = 0xbf;
        need--;
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }
}

/** After this many ASCII bytes in a row, the run is scanned a 32-bit word at a time. */
const ASCII_WORDS_AFTER = 16;

/**
 * Skips ASCII in `bytes[i, end)` a word at a time; returns the index of the first word that
 * holds a non-ASCII byte (the caller goes on byte by byte from there).
 */
function asciiRunEnd(bytes: Uint8Array, i: number, end: number): number {
  // Byte by byte up to a 4-byte boundary of the buffer, so the words can be read aligned.
  while (i < end && ((bytes.byteOffset + i) & 3) !== 0) {
    if (bytes[i] >= 0x80) return i;
    i++;
  }
  const words = (end - i) >>> 2;
  if (words === 0) return i;
  const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
  let j = 0;
  while (j < words && (w[j] & 0x80808080) === 0) j++;
  return i + (j << 2);
}

/** Whether `bytes` is complete, valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.push(bytes) && v.complete;
}

/**
 * The UTF-8 length of a string without encoding it. Lone surrogates count as U+FFFD (3 bytes),
 * as `TextEncoder` writes them.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./utf8.ts";
 * utf8Length("€"); // 3
 * ```
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}
