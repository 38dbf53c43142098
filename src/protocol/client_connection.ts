/**
 * One client connection as a sans-I/O state machine: bytes from the server go in through
 * {@linkcode ClientConnection.receive}, events come out through a handler, and the bytes to
 * write wait in {@linkcode ClientConnection.takeOutput}. It owns the handshake, framing, pings,
 * the close handshake and failing the connection; it has no sockets, timers or randomness of its
 * own.
 *
 * @module
 */

import type { HandshakeError } from "../client/errors.ts";
import { NO_STATUS } from "./close_codes.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { closePayload, encodeFrame } from "./frame_encoder.ts";
import { buildRequest, handshakeKey, ResponseParser, type Upgrade } from "./handshake.ts";
import type { ResolvedLimits } from "./limits.ts";
import { BINARY, CLOSE, PING, PONG, TEXT } from "./opcodes.ts";
import type { ProtocolError } from "./protocol_error.ts";
import type { RandomSource } from "./random.ts";

/** What a connection reports. Called synchronously from `receive` and `end`. */
export interface ConnectionHandler {
  /** The server accepted the upgrade. */
  opened(upgrade: Upgrade): void;
  /** A text message. */
  text(data: string): void;
  /** A binary message. */
  binary(data: Uint8Array): void;
  /** A ping; its pong is already in the output. */
  ping(data: Uint8Array): void;
  /** A pong. */
  pong(data: Uint8Array): void;
  /**
   * The server's close frame arrived: it started the close (`initiatedByServer`, and the echo
   * is in the output) or answered ours. The socket may be closed once the output is written.
   */
  closed(code: number, reason: string, initiatedByServer: boolean): void;
  /**
   * The handshake was refused, the server broke the protocol, or the connection ended without
   * a close frame. `closeSent` tells whether a close frame with the error's code is in the
   * output (write it, then end the socket) or the socket should be dropped now.
   */
  failed(error: HandshakeError | ProtocolError | Error, closeSent: boolean): void;
}

/** What a connection needs. */
export interface ConnectionParams {
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
  readonly limits: ResolvedLimits;
  /** Mask keys and the handshake key. */
  readonly random: RandomSource;
}

/** Where a connection is. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

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
 *   opened() {}, text() {}, binary() {}, ping() {}, pong() {}, closed() {}, failed() {},
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

  /**
   * Creates the connection; the upgrade request is the first output.
   * @param params URL, headers, subprotocols, limits and the random source.
   * @param handler Receives events.
   */
  constructor(params: ConnectionParams, handler: ConnectionHandler) {
    this.#handler = handler;
    this.#random = params.random;
    const key = handshakeKey(params.random);
    this.#parser = new ResponseParser(key, params.subprotocols, params.url.href);
    this.#out.push(new TextEncoder().encode(buildRequest({ ...params, key })));
    this.#decoder = new FrameDecoder(params.limits, {
      text: (data) => handler.text(data),
      binary: (data) => handler.binary(data),
      ping: (data) => {
        if (this.#state === "open") this.#write(PONG, data);
        handler.ping(data);
      },
      pong: (data) => handler.pong(data),
      close: (code, reason) => {
        const byServer = this.#state === "open";
        if (byServer) this.#write(CLOSE, closePayload(code === NO_STATUS ? undefined : code, ""));
        this.#state = "closed";
        handler.closed(code, reason, byServer);
      },
      error: (error) => {
        const open = this.#state === "open";
        if (open) this.#write(CLOSE, closePayload(error.code, ""));
        this.#state = "closed";
        handler.failed(error, open);
      },
    });
  }

  /** Where the connection is. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Whether bytes are waiting to be written. */
  get hasOutput(): boolean {
    return this.#out.length > 0;
  }

  /** The bytes to write, in order, and forgets them; empty when there are none. */
  takeOutput(): Uint8Array[] {
    const out = this.#out;
    if (out.length > 0) this.#out = [];
    return out;
  }

  /** Feeds bytes read from the socket. */
  receive(chunk: Uint8Array): void {
    if (this.#state === "connecting") {
      const result = this.#parser!.push(chunk);
      if (result.kind === "more") return;
      this.#parser = undefined;
      if (result.kind === "failed") {
        this.#state = "closed";
        this.#handler.failed(result.error, false);
        return;
      }
      this.#state = "open";
      this.#handler.opened(result.upgrade);
      // Frames that came with the 101 are the server's first messages.
      const rest = result.upgrade.rest;
      // (opened may have closed it.)
      if (rest.length > 0 && (this.#state as ConnectionState) !== "closed") this.#decoder.push(rest);
      return;
    }
    if (this.#state !== "closed") this.#decoder.push(chunk);
  }

  /** The server ended the byte stream. */
  end(): void {
    if (this.#state === "connecting") {
      const result = this.#parser!.end();
      this.#parser = undefined;
      this.#state = "closed";
      if (result.kind === "failed") this.#handler.failed(result.error, false);
      return;
    }
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#handler.failed(
      new Error("The server ended the connection without a close frame (1006)"),
      false,
    );
  }

  /** Queues a text message. Throws when the connection is not open. */
  sendText(data: string): void {
    this.#checkOpen("text");
    this.#write(TEXT, data);
  }

  /** Queues a binary message. Throws when the connection is not open. */
  sendBinary(data: Uint8Array): void {
    this.#checkOpen("binary");
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
   * Does nothing unless the connection is open.
   */
  close(code: number, reason: string): void {
    if (this.#state !== "open") {
      if (this.#state === "connecting") this.#state = "closed";
      return;
    }
    this.#write(CLOSE, closePayload(code, reason));
    this.#state = "closing";
  }

  #write(opcode: number, payload: Uint8Array | string): void {
    this.#out.push(encodeFrame(opcode, payload, this.#random));
  }

  #checkOpen(what: string): void {
    if (this.#state !== "open") {
      throw new Error(`Cannot send a ${what} frame as the connection is ${this.#state}`);
    }
  }

  #checkControl(what: string, data: Uint8Array): void {
    if (data.length > 125) {
      throw new RangeError(`Cannot send a ${what} frame with ${data.length} bytes (limit 125)`);
    }
  }
}
