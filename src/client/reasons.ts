/**
 * Why a connection ended, and why a client stopped.
 *
 * @module
 */

/**
 * Why the connection ended, as given to `handleDisconnect`. A discriminated union on `kind`:
 *
 * - `closed`: the client disconnected on request (`disconnect()` on the handle).
 * - `remote_close`: the server sent a close frame with `code` and `reason`.
 * - `error`: the connection failed: refused, handshake rejected, dropped without a close frame,
 *   or a send failed. `error` keeps the cause.
 * - `connect_timeout`: the connection was not up within `connectTimeout` ms.
 * - `heartbeat_timeout`: nothing arrived within the heartbeat's `timeout` after a probe (the
 *   peer went silent); the connection was dropped.
 * - `user`: a callback returned `disconnect(reason, state)`; `reason` is what it gave.
 *
 * `permanent` is `true` when the failure looks like one a retry will not cure: an upgrade
 * refused with 400, 401, 403 or 404, or a close (by the server, or by the client for the
 * server's protocol violation) with 1002, 1003, 1007 or 1008. It is absent otherwise. The
 * `reconnect` option retries them anyway unless `retryPermanent` is `false`; or decide in
 * `handleDisconnect`: `if (reason.permanent) return stayDisconnected(state);`.
 *
 * @example Tell the reasons apart
 * ```ts
 * import type { DisconnectReason } from "@parley/client";
 *
 * function describe(reason: DisconnectReason): string {
 *   switch (reason.kind) {
 *     case "closed": return "closed by us";
 *     case "remote_close": return `server closed: ${reason.code} ${reason.reason}`;
 *     case "error": return `failed: ${reason.error.message}`;
 *     case "connect_timeout": return `no connection within ${reason.timeout} ms`;
 *     case "heartbeat_timeout": return `silent for ${reason.interval + reason.timeout} ms`;
 *     case "user": return `callback asked: ${String(reason.reason)}`;
 *   }
 * }
 * ```
 */
export type DisconnectReason =
  | { readonly kind: "closed"; readonly permanent?: true }
  | {
    readonly kind: "remote_close";
    readonly code: number;
    readonly reason: string;
    readonly permanent?: true;
  }
  | { readonly kind: "error"; readonly error: Error; readonly permanent?: true }
  | { readonly kind: "connect_timeout"; readonly timeout: number; readonly permanent?: true }
  | {
    readonly kind: "heartbeat_timeout";
    /** The heartbeat's `interval`, in ms. */
    readonly interval: number;
    /** The heartbeat's `timeout`, in ms. */
    readonly timeout: number;
    readonly permanent?: true;
  }
  | { readonly kind: "user"; readonly reason: unknown; readonly permanent?: true };

/**
 * Why a client stopped, as the handle's `stopped` promise resolves. A discriminated union on
 * `kind`:
 *
 * - `normal`: `stop()` was called without a reason, or a callback returned `stop("normal", s)`.
 * - `user`: a callback returned `stop(reason, state)`, or `stop(reason)` was called.
 * - `error`: a callback threw, or returned a value of the wrong shape (a `TypeError`).
 * - `max_retries_exceeded`: reconnection gave up after `maxRetries` retries; `lastReason` is the
 *   last connection's end.
 * - `max_elapsed_exceeded`: reconnection gave up after `reconnect.maxElapsed` ms without a
 *   stable connection.
 * - `permanent_failure`: with `reconnect.retryPermanent: false`, a failure that looks permanent
 *   (`lastReason.permanent`).
 * - `aborted`: the `signal` option was aborted; `reason` is the signal's reason.
 *
 * Only `normal` and `aborted` count as normal for supervision.
 *
 * @example
 * ```ts
 * import type { StopReason } from "@parley/client";
 *
 * function isNormal(reason: StopReason): boolean {
 *   return reason.kind === "normal" || reason.kind === "aborted";
 * }
 * ```
 */
export type StopReason =
  | { readonly kind: "normal" }
  | { readonly kind: "user"; readonly reason: unknown }
  | { readonly kind: "error"; readonly error: unknown }
  | {
    readonly kind: "max_retries_exceeded";
    readonly retries: number;
    readonly lastReason: DisconnectReason;
  }
  | {
    readonly kind: "max_elapsed_exceeded";
    /** The `reconnect.maxElapsed` that passed, in ms. */
    readonly elapsed: number;
    readonly retries: number;
    readonly lastReason: DisconnectReason;
  }
  | { readonly kind: "permanent_failure"; readonly lastReason: DisconnectReason }
  | { readonly kind: "aborted"; readonly reason: unknown };

/**
 * Whether a stop reason counts as normal (`normal` or `aborted`); supervisors restart clients
 * whose reason is not normal.
 *
 * @example
 * ```ts
 * import { isNormalStop } from "@parley/client";
 * console.log(isNormalStop({ kind: "normal" })); // true
 * console.log(isNormalStop({ kind: "user", reason: "done" })); // false
 * ```
 */
export function isNormalStop(reason: StopReason): boolean {
  return reason.kind === "normal" || reason.kind === "aborted";
}
