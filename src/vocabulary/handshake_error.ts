/**
 * The error a failed connection attempt becomes.
 *
 * @module
 */

import { ParleyError } from "./parley_error.ts";

/**
 * The WebSocket handshake or the connection to the server failed. `cause` keeps what the
 * runtime reported; `status`, `headers` and `body` are what the server answered, when it did
 * and the transport could see it (the socket transport always can; the web transport only
 * learns the status from the runtime's message).
 *
 * @example
 * ```ts
 * import { HandshakeError } from "@parley/client";
 * const err = new HandshakeError("Cannot connect to ws://127.0.0.1:1/ as the connection was refused");
 * console.log(err.status); // undefined
 * ```
 */
export class HandshakeError extends ParleyError {
  /** The HTTP status of the refused upgrade, when known. */
  readonly status?: number;
  /** The response headers, when the transport could see them (the socket transport). */
  readonly headers?: Headers;
  /** The start of the response body of a refused upgrade (at most 16 KiB), when seen. */
  readonly body?: string;
  /**
   * Creates the error.
   * @param message What failed and why.
   * @param options `cause`, and what the server answered, when it did.
   */
  constructor(
    message: string,
    options?: ErrorOptions & { status?: number; headers?: Headers; body?: string },
  ) {
    super(message, options);
    if (options?.status !== undefined) this.status = options.status;
    if (options?.headers !== undefined) this.headers = options.headers;
    if (options?.body !== undefined) this.body = options.body;
  }
}
