/**
 * One client connection as a sans-I/O state machine: bytes from the server go in through
 * {@linkcode ClientConnection.receive}, events come out through a handler, and the bytes to
 * write wait in {@linkcode ClientConnection.takeOutput}. It owns the handshake, framing, pings,
 * the close handshake and failing the connection; it has no sockets, timers or randomness of its
 * own.
 *
 * @module
 */

import { NO_STATUS } from "./close_codes.ts";
import { type DecoderSink, FrameDecoder } from "./frame_decoder.ts";
import { closePayload, encodeFrame } from "./frame_encoder.ts";
import { buildRequest, handshakeKey, ResponseParser, type Upgrade } from "./handshake.ts";
import type { ResolvedLimits } from "./limits.ts";
import { type Allocate, packed, zeroFilled } from "./allocate.ts";
import type { DeflateCodec } from "./deflate_codec.ts";
import { BINARY, CLOSE, PING, PONG, TEXT } from "./opcodes.ts";
import {
  deflateOffer,
  type DeflateSettings,
  PerMessageDeflate,
  RSV1,
} from "./permessage_deflate.ts";
import type { ProtocolError } from "./protocol_error.ts";
import type { RandomSource } from "./random.ts";
import type { HandshakeError } from "../vocabulary/handshake_error.ts";

const encoder = new TextEncoder();

/** What a connection reports. Called synchronously from `receive` and `end`. */
export interface ConnectionHandler {
  /** The server accepted the upgrade. */
  opened(upgrade: Upgrade): void;
  /** A text message. */
  text(data: string): void;
  /** A binary message. */
  binary(data: Uint8Array): void;
  /** A ping; its pong is already in the output (unless the connection is winding down). */
  ping(data: Uint8Array): void;
  /** A pong. */
  pong(data: Uint8Array): void;
  /**
   * The server's close frame arrived. Either it answered ours (`initiatedByServer` false: the
   * socket may be closed), or it started the close: then our echo is owed, and is written by
   * {@linkcode ClientConnection.sendOwedClose} once the messages that came before the close have
   * been handled (their replies still go out before it).
   */
  remoteClose(code: number, reason: string, initiatedByServer: boolean): void;
  /**
   * The handshake was refused, the server broke the protocol, or the connection ended without
   * a close frame. `closeOwed` is true for a protocol violation on an open connection: a close
   * frame with the error's code is owed, written by {@linkcode ClientConnection.sendOwedClose}
   * once the messages before the violation have been handled. Otherwise drop the socket now.
   */
  error(error: HandshakeError | ProtocolError | Error, closeOwed: boolean): void;
}

/** What a connection needs. */
export interface ConnectionParams {
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
  readonly limits: ResolvedLimits;
  /** Mask keys and the handshake key. */
  readonly random: RandomSource;
  /** Buffers for joined messages and encoded frames (default: zero-filled arrays). */
  readonly allocate?: Allocate;
  /** permessage-deflate to offer, and the codec that runs it if the server agrees. */
  readonly compression?: {
    readonly settings: DeflateSettings;
    readonly codec: DeflateCodec;
  };
}

/**
 * Where a connection is:
 *
 * - `connecting`: the upgrade request is out, the response is awaited;
 * - `open`: messages flow both ways;
 * - `closing`: our close frame is out, the server's is awaited;
 * - `closeReceived`: the server's close arrived, our echo is owed ({@linkcode ClientConnection.sendOwedClose});
 * - `failing`: the server broke the protocol, our close with the error's code is owed;
 * - `closed`: nothing more is read or written.
 *
 * Messages may still be sent while `closeReceived` or `failing`: replies to the messages that
 * came before the close go out before it.
 */
export type ConnectionState =
  | "connecting"
  | "open"
  | "closing"
  | "closeReceived"
  | "failing"
  | "closed";

/**
 * A client connection, from the upgrade request to the end of the close handshake.
 *
 * @example
 * ```ts
 * import { ClientConnection } from "./client_connection.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * const conn = new ClientConnection({
 *   url: new URL("ws://example.com/"),
 *   headers: [],
 *   subprotocols: [],
 *   limits: DEFAULT_LIMITS,
 *   random: (b) => crypto.getRandomValues(b),
 * }, {
 *   opened() {}, text() {}, binary() {}, ping() {}, pong() {}, remoteClose() {}, error() {},
 * });
 * const request = conn.takeOutput(); // the upgrade request, to write to the socket
 * ```
 */
export class ClientConnection {
  #handler: ConnectionHandler;
  #random: RandomSource;
  #parser: ResponseParser | undefined;
  #decoder: FrameDecoder;
  #state: ConnectionState = "connecting";
  #out: Uint8Array[] = [];
  #outBytes = 0;
  /**
   * The frames written since the last of #out, when they lie next to each other in one buffer
   * (frames below 72 KiB are cut from shared blocks, see `packed`): the first of them, and where the
   * last ends in their buffer. They go out as one piece.
   */
  #run: Uint8Array | undefined;
  #runEnd = 0;
  /** Where encoded frames come from: see `packed`. */
  #frameAllocate: Allocate;
  /** The close payload owed in `closeReceived` and `failing`. */
  #owed: Uint8Array | undefined;
  /** What compression was offered with, until the handshake says whether it is used. */
  #compression: ConnectionParams["compression"];
  /** Compression, once the handshake agreed on it. */
  #deflate: PerMessageDeflate | undefined;

  /**
   * Creates the connection; the upgrade request is the first output.
   * @param params URL, headers, subprotocols, limits and the random source.
   * @param handler Receives events.
   */
  constructor(params: ConnectionParams, handler: ConnectionHandler) {
    this.#handler = handler;
    this.#random = params.random;
    const allocate = params.allocate ?? zeroFilled;
    this.#frameAllocate = packedFor(allocate);
    const key = handshakeKey(params.random);
    const compression = params.compression;
    this.#compression = compression;
    this.#parser = new ResponseParser(
      key,
      params.subprotocols,
      // The URL for messages (redacted there, and only if one is made).
      params.url,
      undefined,
      compression?.settings,
    );
    const request = encoder.encode(buildRequest({
      ...params,
      key,
      extensions: compression === undefined ? undefined : deflateOffer(compression.settings),
    }));
    this.#out.push(request);
    this.#outBytes = request.length;
    this.#decoder = new FrameDecoder(
      params.limits,
      new ClientConnection.#Sink(this),
      allocate,
    );
  }

  /**
   * What the decoder reports, handled by the connection: a class rather than an object of
   * closures, so an idle connection costs one small object here.
   */
  static #Sink = class implements DecoderSink {
    #c: ClientConnection;

    constructor(c: ClientConnection) {
      this.#c = c;
    }

    text(data: string): void {
      this.#c.#handler.text(data);
    }

    binary(data: Uint8Array): void {
      this.#c.#handler.binary(data);
    }

    ping(data: Uint8Array): void {
      const c = this.#c;
      // A pong is owed until the server's close arrives, also after ours went out.
      if (c.#state === "open" || c.#state === "closing") c.#write(PONG, data);
      c.#handler.ping(data);
    }

    pong(data: Uint8Array): void {
      this.#c.#handler.pong(data);
    }

    remoteClose(code: number, reason: string): void {
      const c = this.#c;
      const byServer = c.#state === "open";
      if (byServer) {
        // The server's code is echoed; a codeless close gets a codeless answer.
        c.#owed = closePayload(code === NO_STATUS ? undefined : code, "");
        c.#state = "closeReceived";
      } else c.#closed();
      c.#handler.remoteClose(code, reason, byServer);
    }

    error(error: ProtocolError): void {
      const c = this.#c;
      const open = c.#state === "open";
      if (open) {
        c.#owed = closePayload(error.code, "");
        c.#state = "failing";
      } else c.#closed();
      c.#handler.error(error, open);
    }
  };

  /** Where the connection is. */
  get state(): ConnectionState {
    return this.#state;
  }

  /**
   * While connecting: does now what checking the server's answer needs and the request does not
   * (the `Sec-WebSocket-Accept` value), so that a caller that has just written the request gets
   * it done while the server answers. Does nothing otherwise; the answer is checked the same way
   * whether it is called or not.
   */
  prepareForResponse(): void {
    this.#parser?.prepareForResponse();
  }

  /**
   * Whether the server refused the upgrade and the rest of its answer's body is still
   * arriving; {@linkcode ClientConnection.end} reports the refusal with what came so far.
   */
  get awaitingRefusalBody(): boolean {
    return this.#parser?.awaitingBody ?? false;
  }

  /** Whether bytes are waiting to be written. */
  get hasOutput(): boolean {
    return this.#outBytes > 0;
  }

  /** How many bytes are waiting to be written. */
  get outputBytes(): number {
    return this.#outBytes;
  }

  /** The bytes to write, in order, and forgets them; empty when there are none. */
  takeOutput(): Uint8Array[] {
    this.#endRun();
    const out = this.#out;
    if (out.length > 0) {
      this.#out = [];
      this.#outBytes = 0;
    }
    return out;
  }

  /**
   * Where the next bytes read from the socket may go, if anywhere: part of a large message's own
   * buffer, which {@linkcode ClientConnection.receive} then takes where it lies (no copy). Read
   * at most its length, and pass what was read (`subarray(0, n)`) to `receive` next.
   */
  readInto(): Uint8Array | undefined {
    return this.#state === "open" || this.#state === "closing"
      ? this.#decoder.readInto()
      : undefined;
  }

  /** Feeds bytes read from the socket. */
  receive(chunk: Uint8Array): void {
    if (this.#state === "connecting") {
      const result = this.#parser!.push(chunk);
      if (result.kind === "more") return;
      this.#parser = undefined;
      if (result.kind === "error") {
        this.#closed();
        this.#handler.error(result.error, false);
        return;
      }
      this.#state = "open";
      const agreement = result.upgrade.deflate;
      const compression = this.#compression;
      if (agreement !== undefined && compression !== undefined) {
        this.#deflate = new PerMessageDeflate(agreement, compression.settings, compression.codec);
        this.#decoder.useDeflate(this.#deflate);
      }
      this.#compression = undefined;
      this.#handler.opened(result.upgrade);
      // Frames that came with the 101 are the server's first messages.
      const rest = result.upgrade.rest;
      // (opened may have closed it.)
      if (rest.length > 0 && (this.#state as ConnectionState) !== "closed") {
        this.#decoder.push(rest);
      }
      return;
    }
    if (this.#state === "open" || this.#state === "closing") this.#decoder.push(chunk);
  }

  /**
   * Writes the close frame owed after the server's close (`closeReceived`) or a violation
   * (`failing`); the connection is then closed. Returns whether a close frame was written.
   */
  sendOwedClose(): boolean {
    if (this.#state !== "closeReceived" && this.#state !== "failing") return false;
    this.#write(CLOSE, this.#owed!);
    this.#owed = undefined;
    this.#closed();
    return true;
  }

  /** The server ended the byte stream. */
  end(): void {
    if (this.#state === "connecting") {
      const result = this.#parser!.end();
      this.#parser = undefined;
      this.#closed();
      if (result.kind === "error") this.#handler.error(result.error, false);
      return;
    }
    const state = this.#state;
    this.#closed();
    this.#owed = undefined;
    // After a close or a violation the end was reported already; while closing it is expected.
    if (state !== "open") return;
    this.#handler.error(
      new Error("The server ended the connection without a close frame (1006)"),
      false,
    );
  }

  /**
   * Queues a text message, compressed if permessage-deflate is on and it is long enough.
   * Throws unless the connection is open (or owes its close).
   */
  sendText(data: string): void {
    this.#checkOpen("text");
    const deflate = this.#deflate;
    // Up to 3 UTF-8 bytes per UTF-16 unit: shorter text stays below the threshold.
    if (deflate !== undefined && data.length * 3 >= deflate.threshold) {
      const bytes = encoder.encode(data);
      if (bytes.length >= deflate.threshold) this.#write(TEXT | RSV1, deflate.compress(bytes));
      else this.#write(TEXT, bytes);
      return;
    }
    this.#write(TEXT, data);
  }

  /**
   * Queues a binary message, compressed if permessage-deflate is on and it is long enough.
   * Throws unless the connection is open (or owes its close).
   */
  sendBinary(data: Uint8Array): void {
    this.#checkOpen("binary");
    const deflate = this.#deflate;
    if (deflate !== undefined && data.length >= deflate.threshold) {
      this.#write(BINARY | RSV1, deflate.compress(data));
      return;
    }
    this.#write(BINARY, data);
  }

  /** Queues a ping (payload at most 125 bytes). Throws when the connection is not open. */
  sendPing(data: Uint8Array = new Uint8Array(0)): void {
    this.#checkOpen("ping");
    this.#checkControl("ping", data);
    this.#write(PING, data);
  }

  /** Queues a pong (payload at most 125 bytes). Throws when the connection is not open. */
  sendPong(data: Uint8Array = new Uint8Array(0)): void {
    this.#checkOpen("pong");
    this.#checkControl("pong", data);
    this.#write(PONG, data);
  }

  /**
   * Starts the close handshake with `code` and `reason` (already validated by the caller).
   * When a close is owed (`closeReceived`, `failing`), writes that one instead. While
   * connecting, gives up the connection.
   */
  close(code: number, reason: string): void {
    switch (this.#state) {
      case "open":
        this.#write(CLOSE, closePayload(code, reason));
        this.#state = "closing";
        return;
      case "closeReceived":
      case "failing":
        this.sendOwedClose();
        return;
      case "connecting":
        this.#closed();
    }
  }

  /**
   * Releases what the connection holds beyond its own objects (compression's zlib memory): for
   * a transport whose connection ends without the connection seeing it end (its stream was
   * dropped). The connection is closed afterwards.
   */
  dispose(): void {
    this.#closed();
  }

  /** Closes the connection: nothing more is read or written, compression is released. */
  #closed(): void {
    this.#state = "closed";
    this.#compression = undefined;
    this.#deflate?.close();
  }

  #write(opcode: number, payload: Uint8Array | string): void {
    const frame = encodeFrame(opcode, payload, this.#random, true, this.#frameAllocate);
    this.#outBytes += frame.length;
    const run = this.#run;
    if (run !== undefined && frame.byteOffset === this.#runEnd && frame.buffer === run.buffer) {
      this.#runEnd += frame.length;
      return;
    }
    this.#endRun();
    this.#run = frame;
    this.#runEnd = frame.byteOffset + frame.length;
  }

  /** Moves the run of frames (if any) to #out as one piece. */
  #endRun(): void {
    const run = this.#run;
    if (run === undefined) return;
    this.#run = undefined;
    const start = run.byteOffset;
    this.#out.push(
      this.#runEnd === start + run.length
        ? run
        : new Uint8Array(run.buffer, start, this.#runEnd - start),
    );
  }

  #checkOpen(what: string): void {
    const state = this.#state;
    if (state !== "open" && state !== "closeReceived" && state !== "failing") {
      throw new Error(`Cannot send a ${what} frame as the connection is ${this.#state}`);
    }
  }

  #checkControl(what: string, data: Uint8Array): void {
    if (data.length > 125) {
      throw new RangeError(`Cannot send a ${what} frame with ${data.length} bytes (limit 125)`);
    }
  }
}

/** The frame allocator for each buffer allocator, made once (not one closure per connection). */
const packedAllocators = new WeakMap<Allocate, Allocate>();

function packedFor(allocate: Allocate): Allocate {
  let frames = packedAllocators.get(allocate);
  if (frames === undefined) packedAllocators.set(allocate, frames = packed(allocate));
  return frames;
}
