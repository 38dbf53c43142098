/**
 * `@parley/client`: a WebSocket client with callbacks, reconnection with backoff, names and
 * supervision, after Elixir's Parley.
 *
 * Describe a client with {@linkcode defineClient}: each callback gets the user state and
 * answers with {@linkcode ok}, {@linkcode push}, {@linkcode disconnect} or {@linkcode stop}
 * (and {@linkcode reconnect} or {@linkcode stayDisconnected} from `handleDisconnect`). Each
 * started client is one serialized actor: its callbacks never run concurrently.
 *
 * @example Echo
 * ```ts ignore
 * import { defineClient, ok } from "@parley/client";
 *
 * const Echo = defineClient({
 *   handleFrame(frame, state: null) {
 *     if (frame.type === "text") console.log("echoed:", frame.data);
 *     return ok(state);
 *   },
 * });
 *
 * await using conn = await Echo.start(null, { url: "ws://127.0.0.1:8080/", reconnect: true });
 * await conn.sendFrame({ type: "text", data: "hello" });
 * ```
 *
 * @module
 */

export * from "./src/vocabulary/mod.ts";
export * from "./src/client/mod.ts";
export { ProtocolError } from "./src/protocol/protocol_error.ts";
export type { Limits } from "./src/protocol/limits.ts";
export type { CompressionOptions } from "./src/protocol/permessage_deflate.ts";
export type { TlsOptions, TransportOptions } from "./src/transport/tls.ts";
export type { HeartbeatOptions } from "./src/transport/heartbeat.ts";
