/**
 * What happens to a client, as `conn.events()` reports it.
 *
 * @module
 */

import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { DisconnectReason, StopReason } from "./reasons.ts";

/**
 * One thing that happened to a client. A discriminated union on `type`; `at` is `Date.now()`
 * when it happened.
 *
 * - `connecting`: attempt number `attempt` (1 for the first since start) begins.
 * - `connected`: the handshake completed and `handleConnect` ran; `info` as it got it.
 * - `disconnected`: the connection ended or the attempt failed; `reason` as
 *   `handleDisconnect` gets it.
 * - `reconnecting`: attempt `attempt` will begin in `delay` ms; `retry` counts the retries of
 *   this outage (1 for the first).
 * - `stopped`: the client stopped (the last event).
 * - `missed`: this reader fell behind and lost the `count` oldest events before the next one.
 *
 * @example Log every state change
 * ```ts
 * import type { ClientEvent } from "@parley/client";
 * function line(e: ClientEvent): string {
 *   switch (e.type) {
 *     case "connecting": return `attempt ${e.attempt}`;
 *     case "connected": return `connected to ${e.info.url}`;
 *     case "disconnected": return `lost: ${e.reason.kind}`;
 *     case "reconnecting": return `retry ${e.retry} in ${e.delay} ms`;
 *     case "stopped": return `stopped: ${e.reason.kind}`;
 *     case "missed": return `${e.count} events missed`;
 *   }
 * }
 * ```
 */
export type ClientEvent =
  | { readonly type: "connecting"; readonly attempt: number; readonly at: number }
  | { readonly type: "connected"; readonly info: ConnectInfo; readonly at: number }
  | { readonly type: "disconnected"; readonly reason: DisconnectReason; readonly at: number }
  | {
    readonly type: "reconnecting";
    readonly attempt: number;
    readonly retry: number;
    readonly delay: number;
    readonly at: number;
  }
  | { readonly type: "stopped"; readonly reason: StopReason; readonly at: number }
  | { readonly type: "missed"; readonly count: number; readonly at: number };

/**
 * Options for `conn.events()`.
 *
 * @example
 * ```ts
 * import type { EventsOptions } from "@parley/client";
 * const options: EventsOptions = { buffer: 16 };
 * ```
 */
export interface EventsOptions {
  /**
   * How many events this reader may fall behind by; past that the oldest are dropped and the
   * reader gets a `missed` event saying how many. Default `100`.
   */
  readonly buffer?: number;
}

/**
 * Options for `conn.ready()`.
 *
 * @example
 * ```ts
 * import type { ReadyOptions } from "@parley/client";
 * const options: ReadyOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export interface ReadyOptions {
  /** Gives up waiting: `ready()` then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}
