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
 * - `user`: a callback returned `disconnect(reason, state)`; `reason` is what it gave.
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
 *     case "user": return `callback asked: ${String(reason.reason)}`;
 *   }
 * }
 * ```
 */
export type DisconnectReason =
  | { readonly kind: "closed" }
  | { readonly kind: "remote_close"; readonly code: number; readonly reason: string }
  | { readonly kind: "error"; readonly error: Error }
  | { readonly kind: "connect_timeout"; readonly timeout: number }
  | { readonly kind: "user"; readonly reason: unknown };

/**
 * Why a client stopped, as the handle's `stopped` promise resolves. A discriminated union on
 * `kind`:
 *
 * - `normal`: `stop()` was called without a reason, or a callback returned `stop("normal", s)`.
 * - `user`: a callback returned `stop(reason, state)`, or `stop(reason)` was called.
 * - `error`: a callback threw, or returned a value of the wrong shape (a `TypeError`).
 * - `max_retries_exceeded`: reconnection gave up after `maxRetries` retries; `lastReason` is the
 *   last connection's end.
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
