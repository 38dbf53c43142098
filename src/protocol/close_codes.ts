/**
 * Close status codes (RFC 6455 §7.4) and the rules for which may appear on the wire.
 *
 * @module
 */

/** Normal closure. */
export const NORMAL = 1000;
/** A protocol error: malformed frames, bad handshake use of frames. */
export const PROTOCOL_ERROR = 1002;
/** No status code was present (never sent on the wire). */
export const NO_STATUS = 1005;
/** The connection dropped without a close frame (never sent on the wire). */
export const ABNORMAL = 1006;
/** Text that is not valid UTF-8. */
export const INVALID_DATA = 1007;
/** A frame or message larger than the configured limits. */
export const TOO_BIG = 1009;

/**
 * Whether `code` may be sent in a close frame: 1000-1003, 1007-1014 (registered with IANA)
 * and 3000-4999 (libraries and applications).
 *
 * @example
 * ```ts
 * import { isValidCloseCode } from "./close_codes.ts";
 * isValidCloseCode(1000); // true
 * isValidCloseCode(1005); // false: reserved for "no code"
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}
