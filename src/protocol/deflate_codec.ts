/**
 * The raw DEFLATE codec permessage-deflate runs on (RFC 1951, with zlib's sync flush). The
 * protocol core never compresses by itself: a transport injects a codec (the socket transport's
 * runs on `node:zlib`), and tests inject their own, as they do the random source. Synchronous, so
 * the core stays synchronous.
 *
 * @module
 */

/** What a deflater is made with. */
export interface DeflaterOptions {
  /** The window is 2^windowBits bytes: 9-15 (a codec may not offer 8; 9 is as safe, see RFC 7692 §7.1.2). */
  readonly windowBits: number;
  /** zlib's compression level, 0 (stored) to 9 (smallest, slowest). */
  readonly level: number;
  /** zlib's memory level, 1-9: the size of the match-finding tables. */
  readonly memLevel: number;
}

/**
 * Creates deflaters and inflaters.
 *
 * @example A codec for tests, on node:zlib's one-shot functions (no context between messages)
 * ```ts ignore
 * import type { DeflateCodec } from "./deflate_codec.ts";
 * declare const codec: DeflateCodec;
 * const deflater = codec.deflater({ windowBits: 15, level: 6, memLevel: 8 });
 * const compressed = deflater.deflate(new TextEncoder().encode("hello")); // ends 00 00 ff ff
 * deflater.close();
 * ```
 */
export interface DeflateCodec {
  /** A compressor that keeps its window from one call to the next. */
  deflater(options: DeflaterOptions): Deflater;
  /** A decompressor for streams whose window is at most 2^windowBits bytes (9-15). */
  inflater(windowBits: number): Inflater;
}

/** A raw DEFLATE compressor with a window that carries over from one call to the next. */
export interface Deflater {
  /**
   * Compresses `data` and flushes (zlib's `Z_SYNC_FLUSH`), so the output ends with the empty
   * stored block `00 00 ff ff`. The result may be a view of a buffer the codec reuses: it is valid
   * until the codec's next `deflate` or `inflate` (of any deflater or inflater it made).
   */
  deflate(data: Uint8Array): Uint8Array;
  /** Forgets the window: the next call compresses without reference to anything before it. */
  reset(): void;
  /** Releases the deflater's memory; it is not called again. */
  close(): void;
}

/** A raw DEFLATE decompressor that reads one stream in pieces. */
export interface Inflater {
  /**
   * Decompresses the next piece of the stream, appending what comes out to `out` (in pieces of
   * its own, never views of a buffer it reuses), and returns how many bytes it appended. It stops
   * as soon as it has more than `limit` bytes: the count returned is then above `limit`, and the
   * inflater is not used again. Throws an `Error` saying what is wrong when the data is not valid
   * DEFLATE. Data after the stream's final block is left unread (see `ended`).
   */
  inflate(data: Uint8Array, limit: number, out: Uint8Array[]): number;
  /**
   * Whether the stream's final block (BFINAL) has been read, as far as the inflater can tell:
   * once data was left unread after it (a stream that ends exactly where a call's data ends is
   * only seen to have ended at the next call).
   */
  readonly ended: boolean;
  /** Starts a new stream with an empty window. */
  reset(): void;
  /** Releases the inflater's memory; it is not called again. */
  close(): void;
}
