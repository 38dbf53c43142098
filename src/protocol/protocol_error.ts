/**
 * The error a protocol violation by the server becomes.
 *
 * @module
 */

import { ParleyError } from "../vocabulary/parley_error.ts";

/**
 * The server broke RFC 6455: the client failed the connection and sent `code` in its close
 * frame. `handleDisconnect` receives it as `{ kind: "error", error }`.
 *
 * - `1002`: a malformed or forbidden frame (reserved bits, unknown opcodes, masked server
 *   frames, bad fragmentation, an invalid close code).
 * - `1007`: text that is not valid UTF-8.
 * - `1009`: a frame, message or fragment count above the client's limits.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "@parley/client";
 * function explain(error: Error): string {
 *   return error instanceof ProtocolError ? `protocol violation (${error.code})` : error.message;
 * }
 * ```
 */
export class ProtocolError extends ParleyError {
  /** The close code sent to the server: 1002, 1007 or 1009. */
  readonly code: number;
  /**
   * Creates the error.
   * @param code The close code the connection is failed with.
   * @param message What the server did wrong.
   * @param options `cause`, when there is one.
   */
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
