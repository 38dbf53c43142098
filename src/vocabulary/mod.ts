/**
 * The shared vocabulary, the bottom layer: frames, what a connection reports, and the errors
 * every layer raises. It imports nothing else from the library.
 *
 * @module
 */

export * from "./frame.ts";
export * from "./connect_info.ts";
export * from "./parley_error.ts";
export * from "./handshake_error.ts";
export * from "./unsupported_error.ts";
