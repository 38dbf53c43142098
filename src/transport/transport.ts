/**
 * The interface between the client and whatever carries its bytes.
 *
 * @module
 */

import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { Frame, ReceivedFrame } from "../vocabulary/frame.ts";
import type { ResolvedLimits } from "../protocol/limits.ts";
import type { ResolvedTls } from "./tls.ts";

/** What a transport can do; the client refuses what it cannot. */
export interface TransportCapabilities {
  /** Whether ping and pong frames can be sent (and pings observed). */
  readonly controlFrames: boolean;
  /** Whether the transport answers pings itself, at once (the client then sends no pong). */
  readonly answersPings?: boolean;
}

/** Where a transport reports what happens on its connection. Called at most until `closed`. */
export interface TransportEvents {
  /** The handshake completed. */
  opened(info: ConnectInfo): void;
  /** A text, binary or pong frame arrived. */
  frame(frame: ReceivedFrame): void;
  /** A ping arrived (the client answers it). Transports that cannot see pings never call it. */
  ping(payload: Uint8Array): void;
  /** The server closed the connection with a close frame. */
  remoteClose(code: number, reason: string): void;
  /** The connection failed, before or after the handshake. */
  failed(error: Error): void;
}

/** What a transport needs to connect. */
export interface ConnectParams {
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
  /** Milliseconds to wait for the server's close frame after ours. */
  readonly closeTimeout: number;
  /** Receive limits (socket transport). */
  readonly limits?: ResolvedLimits;
  /** TLS settings for wss: (socket transport). */
  readonly tls?: ResolvedTls;
}

/** One connection. */
export interface Transport {
  /** Sends one frame; throws (or rejects) when it cannot be written. */
  send(frame: Frame): void | Promise<void>;
  /**
   * Writes out frames the transport holds back to batch them. The client calls it whenever it
   * has nothing more to send for now (its mailbox is empty, or a callback is about to await);
   * a transport without batching leaves it out.
   */
  flush?(): void;
  /** Starts the closing handshake; the transport finishes it on its own. */
  close(code: number, reason: string): void;
  /**
   * Releases the connection: the client is done with it. A connection that owes the server a
   * close frame (after the server's close, or a protocol violation) writes it now, after what
   * the client sent meanwhile, and finishes within closeTimeout; any other is dropped at once.
   */
  abort(): void;
  /** Settles once every resource of this connection is released. Never rejects. */
  readonly done: Promise<void>;
}

/** Opens connections. */
export interface Connector {
  /** A short name for messages: "web", "socket". */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Starts connecting; events arrive through `events`. Must not throw for network failures. */
  connect(params: ConnectParams, events: TransportEvents): Transport;
}
