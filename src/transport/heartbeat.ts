/**
 * Heartbeat settings: how a client notices a peer that went silent.
 *
 * @module
 */

import type { BinaryFrame, TextFrame } from "../vocabulary/frame.ts";

/**
 * When to probe a quiet connection, and how long to wait for a sign of life.
 *
 * After `interval` ms in which nothing arrived, the client sends a probe: a ping on the socket
 * transport, or `message` on the web transport (which cannot send pings). When nothing at all
 * arrives within `timeout` ms of the probe, the connection is dead: it is dropped and
 * `handleDisconnect` gets `{ kind: "heartbeat_timeout" }`. Any received frame counts as a sign
 * of life, not only the pong. A dead peer is therefore noticed within `interval + timeout` ms of
 * the last thing it sent.
 *
 * @example Probe after 10 s of silence, give up 5 s later
 * ```ts
 * import type { HeartbeatOptions } from "@parley/client";
 * const heartbeat: HeartbeatOptions = { interval: 10_000, timeout: 5_000 };
 * ```
 */
export interface HeartbeatOptions {
  /** Milliseconds of inbound silence before a probe. Default `20000`. */
  readonly interval?: number;
  /** Milliseconds to wait after a probe for anything to arrive. Default `20000`. */
  readonly timeout?: number;
  /**
   * Web transport only: the frame to send as a probe (an application-level ping your server
   * answers, e.g. `{ type: "text", data: "ping" }`). Without it the web transport sends
   * nothing, and the heartbeat is an idle timeout: the connection is dropped after
   * `interval + timeout` ms without any frame from the server.
   */
  readonly message?: TextFrame | BinaryFrame;
}

/** Heartbeat settings after validation. */
export interface ResolvedHeartbeat {
  readonly interval: number;
  readonly timeout: number;
  readonly message: TextFrame | BinaryFrame | undefined;
}
