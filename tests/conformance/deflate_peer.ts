// The server's side of permessage-deflate (RFC 7692 §7.2) for the fuzzing server and the tests:
// node:zlib's raw DEFLATE streams used the documented, asynchronous way (write, then flush with
// Z_SYNC_FLUSH, read the 'data' events). Independent of the client's codec
// (src/transport/_deflate_codec.ts), which writes to the streams' native handles synchronously.

import { Buffer } from "node:buffer";
import zlib from "node:zlib";

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** One zlib stream, written and flushed one call at a time (calls queue up in order). */
class SerialStream {
  readonly #make: () => zlib.DeflateRaw | zlib.InflateRaw;
  #stream: zlib.DeflateRaw | zlib.InflateRaw | undefined;
  #chunks: Uint8Array[] = [];
  #error: Error | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(make: () => zlib.DeflateRaw | zlib.InflateRaw) {
    this.#make = make;
  }

  /** Writes `data` and flushes; resolves to everything the stream gave for it. */
  run(data: Uint8Array, fresh: boolean): Promise<Uint8Array> {
    const next = this.#queue.then(() => this.#run(data, fresh));
    this.#queue = next.catch(() => {});
    return next;
  }

  #run(data: Uint8Array, fresh: boolean): Promise<Uint8Array> {
    if (fresh || this.#stream === undefined) {
      this.#stream?.close();
      const stream = this.#stream = this.#make();
      this.#error = undefined;
      stream.on("data", (chunk: Uint8Array) => this.#chunks.push(chunk));
      stream.on("error", (error: Error) => this.#error = error);
    }
    const stream = this.#stream;
    return new Promise((resolve, reject) => {
      if (this.#error !== undefined) return reject(this.#error);
      stream.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.#error !== undefined) return reject(this.#error);
        const chunks = this.#chunks;
        this.#chunks = [];
        resolve(concatAll(chunks));
      });
    });
  }

  close(): void {
    this.#stream?.close();
    this.#stream = undefined;
  }
}

/** Compresses messages as a permessage-deflate sender does. */
export class PeerCompressor {
  readonly #stream: SerialStream;
  readonly #noContextTakeover: boolean;

  /** `windowBits` 8-15 (8 compresses with 9, as zlib must), and whether to keep the window. */
  constructor(windowBits = 15, noContextTakeover = false) {
    this.#stream = new SerialStream(() =>
      zlib.createDeflateRaw({ windowBits: Math.max(9, windowBits) })
    );
    this.#noContextTakeover = noContextTakeover;
  }

  /** A message's compressed payload: deflate with a sync flush, minus `00 00 ff ff`. */
  async compress(data: Uint8Array): Promise<Uint8Array> {
    const out = await this.#stream.run(data, this.#noContextTakeover);
    if (!endsWithTail(out)) throw new Error("zlib's sync flush did not end with 00 00 ff ff");
    return out.subarray(0, out.length - 4);
  }

  close(): void {
    this.#stream.close();
  }
}

/** Decompresses messages as a permessage-deflate receiver does. */
export class PeerDecompressor {
  readonly #stream: SerialStream;
  readonly #noContextTakeover: boolean;

  /** `windowBits` 8-15, and whether the sender keeps its window between messages. */
  constructor(windowBits = 15, noContextTakeover = false) {
    this.#stream = new SerialStream(() => zlib.createInflateRaw({ windowBits }));
    this.#noContextTakeover = noContextTakeover;
  }

  /** A compressed message's payload, inflated (`00 00 ff ff` put back first). */
  decompress(payload: Uint8Array): Promise<Uint8Array> {
    return this.#stream.run(concatAll([payload, TAIL]), this.#noContextTakeover);
  }

  close(): void {
    this.#stream.close();
  }
}

function endsWithTail(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 4 && b[n - 4] === 0 && b[n - 3] === 0 && b[n - 2] === 0xff && b[n - 1] === 0xff;
}

function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
