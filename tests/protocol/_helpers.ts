// Shared helpers for the src/protocol tests: server-frame builders, a client-frame parser (that
// unmasks with the frame's own key), a recording decoder sink, chunkings and fixed random sources.
// Written independently of src/protocol so the tests do not check the code against itself.

import { FrameDecoder } from "../../src/protocol/frame_decoder.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import type { RandomSource } from "../../src/protocol/random.ts";
import { concat } from "../support/bytes.ts";

export { concat };

/** Close codes a peer may not send (RFC 6455 §7.4): reserved, unassigned or out of range. */
export const INVALID_CLOSE_CODES = [
  0,
  999,
  1004,
  1005,
  1006,
  1015,
  1016,
  1100,
  2000,
  2999,
  5000,
  65535,
];
/** Close codes a peer may send: each sendable one of 1000-1014, and the ends of 3000-4999. */
export const VALID_CLOSE_CODES = [
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  3000,
  3999,
  4000,
  4999,
];

/** Bytes from numbers. */
export function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

/** Bytes from a hex string such as "81 05 48 65". */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Latin-1 / ASCII bytes of a string (one byte per UTF-16 unit, which must be below 256). */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** How a server frame's length is written: minimal, or forced to a given width. */
export type LengthEncoding = "minimal" | 7 | 16 | 64;

/** Options for {@linkcode serverFrame}. */
export interface FrameOptions {
  /** FIN bit; default true. */
  readonly fin?: boolean;
  /** The three RSV bits as a number 0-7 (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  readonly rsv?: number;
  /** A mask key: sets the MASK bit and masks the payload (servers must not). */
  readonly maskKey?: Uint8Array;
  /** Force the length encoding (for non-minimal-length tests). */
  readonly length?: LengthEncoding;
  /** Write this value as the 64-bit length instead of the payload length (raw hi, lo words). */
  readonly rawLength64?: readonly [number, number];
}

/** A server frame (unmasked unless `maskKey` is given), built byte by byte from RFC 6455 §5.2. */
export function serverFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: FrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? utf8(payload) : payload;
  const fin = options.fin ?? true;
  const rsv = options.rsv ?? 0;
  const head: number[] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  const maskBit = options.maskKey ? 0x80 : 0;
  let width = options.length ?? "minimal";
  if (options.rawLength64) width = 64;
  if (width === "minimal") width = data.length < 126 ? 7 : data.length < 65536 ? 16 : 64;
  if (width === 7) {
    head.push(maskBit | data.length);
  } else if (width === 16) {
    head.push(maskBit | 126, (data.length >>> 8) & 0xff, data.length & 0xff);
  } else {
    const [hi, lo] = options.rawLength64 ?? [Math.floor(data.length / 2 ** 32), data.length >>> 0];
    head.push(
      maskBit | 127,
      (hi >>> 24) & 0xff,
      (hi >>> 16) & 0xff,
      (hi >>> 8) & 0xff,
      hi & 0xff,
      (lo >>> 24) & 0xff,
      (lo >>> 16) & 0xff,
      (lo >>> 8) & 0xff,
      lo & 0xff,
    );
  }
  if (options.maskKey) {
    head.push(...options.maskKey);
    return concat(new Uint8Array(head), xorMask(data, options.maskKey));
  }
  return concat(new Uint8Array(head), data);
}

/** XOR with a 4-byte key (the test's own implementation, independent of the encoder's). */
export function xorMask(data: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i % 4];
  return out;
}

/** A close frame payload: code (big-endian) and reason. */
export function closeBody(code: number, reason: string | Uint8Array = ""): Uint8Array {
  return concat(bytes(code >>> 8, code & 0xff), typeof reason === "string" ? utf8(reason) : reason);
}

/** A parsed client frame, payload already unmasked with the frame's key. */
export interface ParsedFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly key: Uint8Array;
  readonly payload: Uint8Array;
  /** Header length in bytes, mask key included. */
  readonly headerLength: number;
  /** Total frame length in bytes. */
  readonly length: number;
}

/** Parses one client frame at the start of `frame` (which must hold all of it). */
export function parseClientFrame(frame: Uint8Array): ParsedFrame {
  if (frame.length < 2) throw new Error("short frame");
  const b0 = frame[0];
  const b1 = frame[1];
  let len = b1 & 0x7f;
  let p = 2;
  if (len === 126) {
    len = (frame[2] << 8) | frame[3];
    p = 4;
  } else if (len === 127) {
    let n = 0;
    for (let i = 2; i < 10; i++) n = n * 256 + frame[i];
    len = n;
    p = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const key = masked ? frame.slice(p, p + 4) : new Uint8Array(4);
  if (masked) p += 4;
  if (frame.length < p + len) throw new Error(`truncated frame: ${frame.length} < ${p + len}`);
  const raw = frame.subarray(p, p + len);
  return {
    fin: (b0 & 0x80) !== 0,
    rsv: (b0 >> 4) & 7,
    opcode: b0 & 0x0f,
    masked,
    key,
    payload: masked ? xorMask(raw, key) : raw.slice(),
    headerLength: p,
    length: p + len,
  };
}

/** Parses every client frame in `chunks` (concatenated). */
export function parseClientFrames(chunks: readonly Uint8Array[]): ParsedFrame[] {
  let all = concat(...chunks);
  const frames: ParsedFrame[] = [];
  while (all.length > 0) {
    const f = parseClientFrame(all);
    frames.push(f);
    all = all.subarray(f.length);
  }
  return frames;
}

/** An event a decoder sink received (payloads copied, so later chunk reuse cannot change them). */
export type DecoderEvent =
  | { readonly kind: "text"; readonly data: string }
  | { readonly kind: "binary"; readonly data: Uint8Array }
  | { readonly kind: "ping"; readonly data: Uint8Array }
  | { readonly kind: "pong"; readonly data: Uint8Array }
  | { readonly kind: "close"; readonly code: number; readonly reason: string }
  | { readonly kind: "error"; readonly code: number; readonly error: ProtocolError };

/** A decoder with a recording sink. */
export function recordingDecoder(
  limits: ResolvedLimits = DEFAULT_LIMITS,
  copy = true,
): { decoder: FrameDecoder; events: DecoderEvent[] } {
  const events: DecoderEvent[] = [];
  const own = (data: Uint8Array) => copy ? data.slice() : data;
  const decoder = new FrameDecoder(limits, {
    text: (data) => events.push({ kind: "text", data }),
    binary: (data) => events.push({ kind: "binary", data: own(data) }),
    ping: (data) => events.push({ kind: "ping", data: own(data) }),
    pong: (data) => events.push({ kind: "pong", data: own(data) }),
    remoteClose: (code, reason) => events.push({ kind: "close", code, reason }),
    error: (error) => {
      if (!(error instanceof ProtocolError)) throw new Error("sink got a non-ProtocolError");
      events.push({ kind: "error", code: error.code, error });
    },
  });
  return { decoder, events };
}

/** Feeds `chunks` to a fresh recording decoder; returns the events (errors without the object). */
export function decodeChunks(
  chunks: readonly Uint8Array[],
  limits: ResolvedLimits = DEFAULT_LIMITS,
): DecoderEvent[] {
  const { decoder, events } = recordingDecoder(limits);
  for (const c of chunks) decoder.push(c.slice()); // copies: each chunk is a fresh buffer
  return events;
}

/** Events with the error objects dropped, for deepEqual comparisons across chunkings. */
export function comparable(events: readonly DecoderEvent[]): unknown[] {
  return events.map((e) => e.kind === "error" ? { kind: "error", code: e.code } : e);
}

/** Every way to cut `data` in two (including empty pieces), then byte by byte. */
export function* chunkings(data: Uint8Array): Generator<{ label: string; chunks: Uint8Array[] }> {
  for (let i = 0; i <= data.length; i++) {
    yield { label: `split at ${i}`, chunks: [data.subarray(0, i), data.subarray(i)] };
  }
  const single: Uint8Array[] = [];
  for (let i = 0; i < data.length; i++) single.push(data.subarray(i, i + 1));
  yield { label: "byte by byte", chunks: single };
}

/** Splits `data` at the given (sorted or not) cut points. */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) =>
    a - b
  );
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(data.subarray(prev, c));
    prev = c;
  }
  out.push(data.subarray(prev));
  return out;
}

/**
 * Where a strict streaming decoder (a fatal TextDecoder fed one byte at a time) first rejects
 * `data`: the index of the first byte no continuation could make valid, or -1.
 */
export function streamingFailIndex(data: Uint8Array): number {
  const d = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < data.length; i++) {
    try {
      d.decode(data.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return -1;
}

/** A random source that always yields the given bytes, repeated. */
export function fixedRandom(pattern: Uint8Array): RandomSource {
  return (target) => {
    for (let i = 0; i < target.length; i++) target[i] = pattern[i % pattern.length];
  };
}

/** A deterministic random source (xorshift32) for reproducible "random" keys. */
export function seededRandom(seed = 0x9e3779b9): RandomSource {
  let s = seed >>> 0 || 1;
  return (target) => {
    for (let i = 0; i < target.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      target[i] = s & 0xff;
    }
  };
}

/** Limits with some fields overridden. */
export function limits(overrides: Partial<ResolvedLimits>): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/** Asserts two byte arrays are equal (faster than deepEqual on large arrays; names the index). */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, message = ""): void {
  if (actual.length !== expected.length) {
    throw new Error(`${message} length ${actual.length} !== ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${message} byte ${i}: ${actual[i]} !== ${expected[i]}`);
    }
  }
}
