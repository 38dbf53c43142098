/**
 * What a connection reports about itself once it is up.
 *
 * @module
 */

/**
 * What `handleConnect` learns about the connection.
 *
 * @example
 * ```ts
 * import type { ConnectInfo } from "@parley/client";
 * function describe(info: ConnectInfo): string {
 *   return `${info.url} (subprotocol ${info.protocol || "none"})`;
 * }
 * ```
 */
export interface ConnectInfo {
  /**
   * The URL connected to, as messages and logs show it: its user name, password, query-string
   * values and fragment are `***` (`wss://***@host/feed?token=***`), so it can be logged, and
   * `events()` and `diagnostics_channel` subscribers never see a credential.
   */
  readonly url: string;
  /** The subprotocol the server chose, or `""`. */
  readonly protocol: string;
  /** The extensions the server chose, or `""`. */
  readonly extensions: string;
  /** The upgrade response's HTTP status: 101. */
  readonly status: number;
  /**
   * The upgrade response's headers. The socket transport sees them; the web transport cannot,
   * and gives `undefined`.
   */
  readonly headers: Headers | undefined;
}
