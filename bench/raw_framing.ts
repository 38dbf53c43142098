// What the raw TCP ceiling clients and the server's raw port exchange: no WebSocket masking,
// opcodes or handshake. A connection's first byte chooses its mode:
//
// - `E` (echo, round trips, idle): a pure byte stream. The server writes back the bytes it receives
//   as they come; the client knows the message size (every message of a scenario has the same
//   size), so boundaries are implicit and `MessageSplitter` cuts the stream without a header.
// - `F` (the floods, which need text commands and acks): each message framed as a 4-byte
//   big-endian payload length, one type byte (1 binary, 2 text) and the payload.

/** A message as the bench clients and server see it: bytes, or a text command. */
export type Message = Uint8Array | string;

/** The first byte of a connection in byte-stream (echo) mode. */
export const ECHO_MODE = 0x45; // "E"
/** The first byte of a connection in framed mode. */
export const FRAMED_MODE = 0x46; // "F"

const HEADER = 5;
const BINARY = 1;
const TEXT = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Framed copies of messages sent again and again (the pools'), made once. */
const framedCache = new WeakMap<Uint8Array, Uint8Array>();

/** One framed message, ready to write (binary ones cached: the bench resends pool messages). */
export function frame(message: Message): Uint8Array {
  if (typeof message !== "string") {
    const cached = framedCache.get(message);
    if (cached) return cached;
  }
  const payload = typeof message === "string" ? encoder.encode(message) : message;
  const out = new Uint8Array(HEADER + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out[4] = typeof message === "string" ? TEXT : BINARY;
  out.set(payload, HEADER);
  if (typeof message !== "string") framedCache.set(message, out);
  return out;
}

/** Joins byte chunks into one (for batching small writes). */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let length = 0;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Messages below this size queued together are joined into one write of up to JOIN_LIMIT. */
const SMALL = 16 * 1024;
const JOIN_LIMIT = 256 * 1024;

/**
 * Takes the next write off `queue`: a large message as it is (never copied), or a run of small
 * ones joined into one buffer (one syscall instead of one each; Deno has no vectored write and
 * Bun.connect's write takes one buffer).
 */
export function nextWrite(queue: Uint8Array[]): Uint8Array {
  let count = 0;
  let size = 0;
  while (
    count < queue.length && queue[count].length < SMALL && size + queue[count].length <= JOIN_LIMIT
  ) {
    size += queue[count++].length;
  }
  if (count <= 1) return queue.shift()!;
  return concat(queue.splice(0, count));
}

/**
 * Cuts a byte stream of `size`-byte messages. A message lying whole in a chunk is handed over as
 * a view of it (valid only during the call: readers reuse their buffers); one split across
 * chunks is copied once into a buffer reused for every such message.
 */
export class MessageSplitter {
  readonly #size: number;
  readonly #onMessage: (message: Uint8Array) => void;
  readonly #partial: Uint8Array;
  #have = 0;

  constructor(size: number, onMessage: (message: Uint8Array) => void) {
    this.#size = size;
    this.#onMessage = onMessage;
    this.#partial = new Uint8Array(size);
  }

  /** Feeds bytes read from the socket. */
  push(chunk: Uint8Array): void {
    const size = this.#size;
    let at = 0;
    if (this.#have > 0) {
      at = Math.min(size - this.#have, chunk.length);
      this.#partial.set(chunk.subarray(0, at), this.#have);
      this.#have += at;
      if (this.#have < size) return;
      this.#have = 0;
      this.#onMessage(this.#partial);
    }
    for (; chunk.length - at >= size; at += size) this.#onMessage(chunk.subarray(at, at + size));
    if (at < chunk.length) {
      this.#partial.set(chunk.subarray(at), 0);
      this.#have = chunk.length - at;
    }
  }
}

/**
 * Splits a framed byte stream into messages. A binary message lying whole in a chunk is a view of
 * it, one split across chunks is copied once into a buffer reused for every such message: either
 * is valid only during the `onMessage` call.
 */
export class FrameReader {
  /** The header or message being completed across chunks. */
  #partial: Uint8Array | undefined;
  #have = 0;
  readonly #header = new Uint8Array(HEADER);
  #spare = new Uint8Array(0);
  readonly #onMessage: (message: Message) => void;

  constructor(onMessage: (message: Message) => void) {
    this.#onMessage = onMessage;
  }

  /** Feeds bytes read from the socket. */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#partial !== undefined) {
        at = this.#complete(chunk, at);
        continue;
      }
      if (chunk.length - at < HEADER) {
        this.#header.set(chunk.subarray(at), 0);
        this.#have = chunk.length - at;
        this.#partial = this.#header;
        return;
      }
      const length = lengthAt(chunk, at);
      const end = at + HEADER + length;
      if (end > chunk.length) {
        this.#partial = this.#buffer(HEADER + length);
        this.#partial.set(chunk.subarray(at), 0);
        this.#have = chunk.length - at;
        return;
      }
      this.#deliver(chunk[at + 4], chunk.subarray(at + HEADER, end));
      at = end;
    }
  }

  /** Adds bytes from `at` to the partial header or message; returns where it stopped. */
  #complete(chunk: Uint8Array, at: number): number {
    let partial = this.#partial!;
    const take = Math.min(partial.length - this.#have, chunk.length - at);
    partial.set(chunk.subarray(at, at + take), this.#have);
    this.#have += take;
    at += take;
    if (this.#have < partial.length) return at;
    if (partial === this.#header) {
      // The header is whole: go on with a buffer for the whole message.
      partial = this.#buffer(HEADER + lengthAt(this.#header, 0));
      partial.set(this.#header, 0);
      this.#partial = partial;
      if (this.#have < partial.length) return at;
    }
    this.#partial = undefined;
    this.#have = 0;
    this.#deliver(partial[4], partial.subarray(HEADER));
    return at;
  }

  /** A buffer of `length` bytes, reused across messages (each is handed over synchronously). */
  #buffer(length: number): Uint8Array {
    if (this.#spare.length < length) this.#spare = new Uint8Array(length);
    return this.#spare.subarray(0, length);
  }

  #deliver(type: number, payload: Uint8Array): void {
    this.#onMessage(type === TEXT ? decoder.decode(payload) : payload);
  }
}

function lengthAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * The client's side of the raw exchange, the same in every runtime: the first message sent picks
 * the mode (text: framed, for the floods; bytes: pure echo, cut by the message's size) and tells
 * the server with one mode byte; `send` frames or passes each message to `write`; `receive` cuts
 * what arrives into messages for `onMessage`.
 */
export class RawExchange {
  #mode = 0;
  #write: (bytes: Uint8Array) => void;
  #onMessage: (message: Message) => void;
  #feed: (chunk: Uint8Array) => void;

  constructor(
    write: (bytes: Uint8Array) => void,
    onMessage: (message: Message) => void,
    onError: (error: Error) => void,
  ) {
    this.#write = write;
    this.#onMessage = onMessage;
    // Nothing arrives before the first send, which chooses the mode.
    this.#feed = () => onError(new Error("bytes before the first send"));
  }

  send(message: Message): void {
    if (this.#mode === 0) this.#choose(message);
    if (this.#mode === FRAMED_MODE) return this.#write(frame(message));
    if (typeof message === "string") throw new Error("text on a byte-stream connection");
    this.#write(message);
  }

  receive(chunk: Uint8Array): void {
    this.#feed(chunk);
  }

  #choose(message: Message): void {
    const onMessage = this.#onMessage;
    if (typeof message === "string") {
      this.#mode = FRAMED_MODE;
      const reader = new FrameReader(onMessage);
      this.#feed = (chunk) => reader.push(chunk);
    } else {
      this.#mode = ECHO_MODE;
      const splitter = new MessageSplitter(message.length, onMessage);
      this.#feed = (chunk) => splitter.push(chunk);
    }
    this.#write(Uint8Array.of(this.#mode));
  }
}
