/**
 * The interface between the client and whatever carries its bytes.
 *
 * @module
 */

// One name per fact, in every layer from the socket up to the actor (the decoder's sink,
// `ConnectionHandler`, the stream's events, `TransportEvents`, the machine's events and effects):
//
// - `remoteClose`: the server's close frame arrived (the disconnect reason `remote_close`).
// - `error`: the connection failed (the disconnect reason `{ kind: "error", error }`); also the
//   handshake parser's result and the stream's event.
// - `release`: the client is done with a connection (`Transport.release()`, the machine's
//   `release` effect); the transport then finishes on its own.
// - `close`: start the close handshake with a code and a reason.
// - `sendOwedClose`: write the close frame owed after the server's close or a protocol violation
//   (`ClientConnection.sendOwedClose()`, the socket transport's `#sendOwedClose`).
// - `destroy`: drop a byte stream at once, without a close frame.
// - `done`: every resource of a connection or stream is released (`Transport.done`, the
//   stream's `done` event).

import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { Frame, ReceivedFrame } from "../vocabulary/frame.ts";
import type { ResolvedLimits } from "../protocol/limits.ts";
import type { DeflateSettings } from "../protocol/permessage_deflate.ts";
import type { ResolvedHeartbeat } from "./heartbeat.ts";
import type { ResolvedTls } from "./tls.ts";
import type { ProxySetting } from "./proxy.ts";

/** What a transport can do; the client refuses what it cannot. */
export interface TransportCapabilities {
  /** Whether ping and pong frames can be sent (and pings observed). */
  readonly controlFrames: boolean;
  /**
   * Whether each `TransportEvents.frame` comes on a turn of its own (one message per dispatch of
   * the runtime's event loop), never from inside a call the client made to the transport nor from
   * the middle of the transport's own work: the client then handles the frame at once, in that
   * call, rather than from a microtask, as no other frame of that turn could share the work.
   * Where several frames come in one turn (the socket transport's decoder, Node's `WebSocket`),
   * the client serves them together, from a microtask.
   */
  readonly framesOnTheirOwnTurn?: boolean;
}

/**
 * Where a transport reports what happens on its connection: nothing after `remoteClose` or
 * `error`, nor after the client closed or released the connection.
 */
export interface TransportEvents {
  /** The handshake completed. */
  opened(info: ConnectInfo): void;
  /** A text, binary or pong frame arrived. */
  frame(frame: ReceivedFrame): void;
  /**
   * A ping arrived, and the transport has answered it with a pong already. Transports that
   * cannot see pings never call it.
   */
  ping(payload: Uint8Array): void;
  /** The server closed the connection with a close frame. */
  remoteClose(code: number, reason: string): void;
  /** The connection failed, before or after the handshake. */
  error(error: Error): void;
  /**
   * Nothing arrived within the heartbeat's timeout after a probe: the transport has dropped the
   * connection. Only with `ConnectParams.heartbeat`.
   */
  heartbeatTimeout(): void;
  /**
   * A heartbeat round trip took `ms` milliseconds (socket transport: ping to pong; web
   * transport: the probe message to the next frame received). Not an end of the connection.
   */
  rtt(ms: number): void;
}

/**
 * Called once per frame given to `Transport.send` with a callback: without an argument when
 * the frame's bytes were handed to the operating system (the socket transport) or to the
 * runtime's `WebSocket` (the web transport); with an error when they never will be, because the
 * connection ended first.
 */
export type Written = (error?: Error) => void;

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
  /** The proxy setting (socket transport); no proxy when absent. */
  readonly proxy?: ProxySetting;
  /** The heartbeat, when it is on. */
  readonly heartbeat?: ResolvedHeartbeat;
  /** permessage-deflate to offer (socket transport); none when undefined. */
  readonly compression?: DeflateSettings;
}

/** One connection. */
export interface Transport {
  /**
   * Sends one frame. Returns false, and drops the frame without calling `written`, when the
   * connection is ending (its end is reported, or will be, by an event: the reason is what
   * happened first, never this send); throws only for a frame type the transport cannot send.
   * `written`, when given, hears once whether the bytes of a frame it took went out.
   */
  send(frame: Frame, written?: Written): boolean;
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
   * the client sent meanwhile, and finishes within closeTimeout; one whose close handshake is
   * under way finishes it within closeTimeout; any other is dropped at once.
   */
  release(): void;
  /**
   * Inbound flow control: stops reading from the network until `resume()` (frames already read
   * may still be reported). Returns false when this transport cannot pause (the client then
   * fails the connection rather than buffer without bound).
   */
  pause(): boolean;
  /** Reads from the network again after `pause()`. */
  resume(): void;
  /** Settles once every resource of this connection is released. Never rejects. */
  readonly done: Promise<void>;
}

/** Opens connections. */
export interface Connector {
  /** Which transport this is, as `conn.transport` reports it and messages name it. */
  readonly name: "web" | "socket";
  readonly capabilities: TransportCapabilities;
  /** Starts connecting; events arrive through `events`. Must not throw for network failures. */
  connect(params: ConnectParams, events: TransportEvents): Transport;
}
