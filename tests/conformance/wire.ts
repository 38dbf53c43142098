// RFC 6455 framing for the fuzzing server: server frames (unmasked, any bits the case wants, even
// illegal ones) and an incremental reader of client frames that reports every violation it sees.
// Runtime-neutral (web APIs only), written for this server: the project's src/protocol is the code
// under test, so it is not used here.

export const CONTINUATION = 0x0;
export const TEXT = 0x1;
export const BINARY = 0x2;
export const CLOSE = 0x8;
export const PING = 0x9;
export const PONG = 0xa;

const encoder = new TextEncoder();

/** Bytes of a string (UTF-8) or the bytes themselves. */
export function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Joins byte arrays. */
export function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes from hex pairs, spaces ignored. */
export function hex(s: string): Uint8Array {
  const digits = s.replace(/\s+/g, "");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex of `b`. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** What a server frame is made of; `fin` defaults to true, `rsv` to 0. */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  readonly fin?: boolean;
  readonly rsv?: number;
}

/** One unmasked frame, with the shortest length encoding. */
export function encodeFrame(spec: FrameSpec): Uint8Array {
  const data = bytesOf(spec.payload ?? new Uint8Array(0));
  const n = data.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + n);
  out[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  out.set(data, head);
  return out;
}

/** A close frame's payload: nothing, a code, or a code and a reason (bytes allow invalid UTF-8). */
export function closePayload(code?: number, reason?: Uint8Array | string): Uint8Array {
  const r = reason === undefined ? new Uint8Array(0) : bytesOf(reason);
  if (code === undefined) return r;
  return join(new Uint8Array([code >>> 8, code & 0xff]), r);
}

/** A frame as read from the client (payload unmasked). */
export interface ClientFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Uint8Array;
}

/**
 * Reads client frames from a byte stream: `push` chunks, then `next()` until it returns
 * `undefined`. Frames are returned raw: judging them is the connection's job.
 */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0);
  #at = 0;

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    // A plain view: node's Buffer#slice does not copy, and payloads are unmasked in place.
    chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const rest = this.#buf.subarray(this.#at);
    this.#buf = rest.length === 0 ? chunk : join(rest, chunk);
    this.#at = 0;
  }

  /** The next whole frame, or undefined while it is incomplete. */
  next(): ClientFrame | undefined {
    const b = this.#buf;
    const at = this.#at;
    if (b.length - at < 2) return undefined;
    const b0 = b[at];
    const b1 = b[at + 1];
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) head = 4;
    else if (length === 127) head = 10;
    if (b.length - at < head) return undefined;
    if (length === 126) length = (b[at + 2] << 8) | b[at + 3];
    else if (length === 127) {
      length = Number(new DataView(b.buffer, b.byteOffset + at + 2, 8).getBigUint64(0));
    }
    const keyLength = masked ? 4 : 0;
    if (b.length - at < head + keyLength + length) return undefined;
    const start = at + head + keyLength;
    const payload = b.slice(start, start + length);
    if (masked) unmaskInPlace(payload, b.subarray(at + head, at + head + 4));
    this.#at = start + length;
    return { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload };
  }
}

/** XORs `payload` (a fresh, aligned array) with the 4-byte key, 32 bits at a time. */
function unmaskInPlace(payload: Uint8Array, key: Uint8Array): void {
  const words = payload.length >>> 2;
  if (words > 0) {
    const k = new Uint32Array(Uint8Array.from(key).buffer)[0];
    const w = new Uint32Array(payload.buffer, payload.byteOffset, words);
    for (let i = 0; i < words; i++) w[i] ^= k;
  }
  for (let i = words << 2; i < payload.length; i++) payload[i] ^= key[i & 3];
}
