// Internal: the permessage-deflate codec of the socket transport, on node:zlib's raw DEFLATE
// streams (Deno, Node and Bun all have them), driven synchronously.
//
// node:zlib's one-shot functions (deflateRawSync, inflateRawSync) start from an empty window on
// every call, and its streams are asynchronous; Web's CompressionStream is asynchronous too and
// has no flush, so it cannot end a message without ending the stream. The protocol core is
// synchronous, so this codec writes to each stream's native handle with `writeSync`, the call
// node:zlib's own one-shot functions are built on, which keeps the stream's window from one call
// to the next. The handle is not a documented API: `nodeZlibCodec` checks once that it is there
// and works (a round trip through a deflater and an inflater), and gives nothing otherwise, so a
// runtime without it offers no compression rather than failing.
//
// `node:zlib` is reached through `process.getBuiltinModule` on first use, not imported, so the
// module graph a browser loads holds no `node:` import.

import type {
  DeflateCodec,
  Deflater,
  DeflaterOptions,
  Inflater,
} from "../protocol/deflate_codec.ts";

// The parts of node:zlib used here, to keep Node's types out of the library.
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  /** Called synchronously from `writeSync` when zlib reports an error (replaced here). */
  onerror: (message: string, errno: number) => void;
}
interface ZlibStream {
  readonly _handle: ZlibHandle | null;
  /** After `writeSync`: [output bytes left unwritten, input bytes left unread]. */
  readonly _writeState: Uint32Array;
  close(): void;
}
interface NodeZlib {
  createDeflateRaw(options: Record<string, number>): ZlibStream;
  createInflateRaw(options: Record<string, number>): ZlibStream;
  readonly constants: { readonly Z_SYNC_FLUSH: number };
}

/** The output buffer every call writes into first (calls are synchronous and never nest). */
const SCRATCH_SIZE = 64 * 1024;
let scratch: Uint8Array | undefined;

/** node:zlib's raw DEFLATE on one stream's native handle. */
class ZlibStreamCodec {
  readonly #stream: ZlibStream;
  readonly #handle: ZlibHandle;
  readonly #state: Uint32Array;
  readonly #flush: number;
  /** zlib's message, once it reported an error: the handle is never written again. */
  #error: string | undefined;

  constructor(stream: ZlibStream, flush: number) {
    const handle = stream._handle;
    if (handle === null || typeof handle.writeSync !== "function") {
      stream.close();
      throw new Error("node:zlib's stream has no native handle to write to");
    }
    this.#stream = stream;
    this.#handle = handle;
    this.#state = stream._writeState;
    this.#flush = flush;
    // Reported synchronously, instead of node:zlib destroying the stream on a later tick.
    handle.onerror = (message) => {
      this.#error = message;
    };
  }

  /**
   * Writes `input[from, from + length)` with a sync flush into `output[at, at + room)`; returns
   * [output bytes written, input bytes read].
   */
  write(
    input: Uint8Array,
    from: number,
    length: number,
    output: Uint8Array,
    at: number,
    room: number,
  ): [number, number] {
    if (this.#error !== undefined) throw new Error(this.#error);
    this.#handle.writeSync(this.#flush, input, from, length, output, at, room);
    if (this.#error !== undefined) throw new Error(this.#error);
    return [room - this.#state[0], length - this.#state[1]];
  }

  reset(): void {
    if (this.#error === undefined) this.#handle.reset();
  }

  close(): void {
    this.#error ??= "closed";
    this.#stream.close();
  }
}

class ZlibDeflater implements Deflater {
  readonly #codec: ZlibStreamCodec;

  constructor(codec: ZlibStreamCodec) {
    this.#codec = codec;
  }

  deflate(data: Uint8Array): Uint8Array {
    let out = scratch ??= new Uint8Array(SCRATCH_SIZE);
    let written = 0;
    let read = 0;
    for (;;) {
      const room = out.length - written;
      const [w, r] = this.#codec.write(data, read, data.length - read, out, written, room);
      written += w;
      read += r;
      // Room left over: the input is read and the flush is complete.
      if (w < room) return out.subarray(0, written);
      // The output is full: go on in a buffer twice as large (the scratch buffer stays as it is).
      const larger = new Uint8Array(out.length * 2);
      larger.set(out.subarray(0, written));
      out = larger;
    }
  }

  reset(): void {
    this.#codec.reset();
  }

  close(): void {
    this.#codec.close();
  }
}

class ZlibInflater implements Inflater {
  readonly #codec: ZlibStreamCodec;
  #ended = false;

  constructor(codec: ZlibStreamCodec) {
    this.#codec = codec;
  }

  get ended(): boolean {
    return this.#ended;
  }

  inflate(data: Uint8Array, limit: number, out: Uint8Array[]): number {
    const buffer = scratch ??= new Uint8Array(SCRATCH_SIZE);
    let produced = 0;
    let read = 0;
    for (;;) {
      // Never more than one byte past the limit: a bomb stops here, not once it is inflated.
      const room = Math.min(buffer.length, limit + 1 - produced);
      const [w, r] = this.#codec.write(data, read, data.length - read, buffer, 0, room);
      if (w > 0) {
        out.push(buffer.slice(0, w));
        produced += w;
      }
      read += r;
      if (produced > limit) return produced;
      if (w < room) {
        // Room left over and input unread: zlib stopped at the stream's end.
        if (read < data.length) this.#ended = true;
        return produced;
      }
    }
  }

  reset(): void {
    this.#ended = false;
    this.#codec.reset();
  }

  close(): void {
    this.#codec.close();
  }
}

/** The codec, once made (or `null`: this runtime cannot run it). */
let codec: DeflateCodec | null | undefined;

/**
 * The codec on node:zlib, or `undefined` when this runtime has no node:zlib whose streams can be
 * written synchronously (then the socket transport offers no compression).
 */
export function nodeZlibCodec(): DeflateCodec | undefined {
  if (codec === undefined) codec = makeCodec();
  return codec ?? undefined;
}

function makeCodec(): DeflateCodec | null {
  const process = (globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  }).process;
  let zlib: NodeZlib;
  try {
    zlib = process?.getBuiltinModule?.("node:zlib") as NodeZlib;
  } catch {
    return null;
  }
  if (typeof zlib?.createDeflateRaw !== "function") return null;
  const flush = zlib.constants.Z_SYNC_FLUSH;
  const candidate: DeflateCodec = {
    deflater(options: DeflaterOptions): Deflater {
      return new ZlibDeflater(
        new ZlibStreamCodec(
          zlib.createDeflateRaw({
            windowBits: options.windowBits,
            level: options.level,
            memLevel: options.memLevel,
          }),
          flush,
        ),
      );
    },
    inflater(windowBits: number): Inflater {
      return new ZlibInflater(new ZlibStreamCodec(zlib.createInflateRaw({ windowBits }), flush));
    },
  };
  return works(candidate) ? candidate : null;
}

/** Whether `candidate` round-trips two messages with the window carried over. */
function works(candidate: DeflateCodec): boolean {
  let deflater: Deflater | undefined;
  let inflater: Inflater | undefined;
  try {
    deflater = candidate.deflater({ windowBits: 15, level: 6, memLevel: 8 });
    inflater = candidate.inflater(15);
    const message = new TextEncoder().encode("permessage-deflate permessage-deflate");
    for (let i = 0; i < 2; i++) {
      const out: Uint8Array[] = [];
      const n = inflater.inflate(deflater.deflate(message).slice(), message.length, out);
      if (
        n !== message.length ||
        new TextDecoder().decode(concat(out, n)) !== "permessage-deflate permessage-deflate"
      ) {
        return false;
      }
    }
    return true;
  } catch {
    return false;
  } finally {
    deflater?.close();
    inflater?.close();
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
