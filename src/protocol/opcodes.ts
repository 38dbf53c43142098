/**
 * RFC 6455 opcodes (§5.2).
 *
 * @module
 */

/** Continuation frame. */
export const CONTINUATION = 0x0;
/** Text frame. */
export const TEXT = 0x1;
/** Binary frame. */
export const BINARY = 0x2;
/** Connection close. */
export const CLOSE = 0x8;
/** Ping. */
export const PING = 0x9;
/** Pong. */
export const PONG = 0xa;
