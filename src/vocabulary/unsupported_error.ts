/**
 * The error for what the transport in use cannot do.
 *
 * @module
 */

import { ParleyError } from "./parley_error.ts";

/**
 * The transport in use cannot do what was asked (for example a ping frame through the
 * runtime's `WebSocket`, which has no API for it, or the socket transport in a browser).
 *
 * @example
 * ```ts
 * import { UnsupportedError } from "@parley/client";
 * const err = new UnsupportedError("Cannot send a ping frame as the web transport has no API for it");
 * console.log(err.name); // "UnsupportedError"
 * ```
 */
export class UnsupportedError extends ParleyError {}
