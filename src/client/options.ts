/**
 * The options a client starts with.
 *
 * @module
 */

import type { Logger } from "./logger.ts";
import type { DisconnectReason } from "./reasons.ts";
import type { ClientName } from "./name.ts";
import type { Limits } from "../protocol/limits.ts";
import type { HeartbeatOptions } from "../transport/heartbeat.ts";
import type { CompressionOptions } from "../protocol/permessage_deflate.ts";
import type { TransportOptions } from "../transport/tls.ts";

/**
 * Reconnection with backoff. Every field is optional; the defaults are Parley's.
 *
 * @example
 * ```ts
 * import type { ReconnectOptions } from "@parley/client";
 * const reconnect: ReconnectOptions = { baseDelay: 500, maxDelay: 10_000, maxRetries: 20 };
 * ```
 */
export interface ReconnectOptions {
  /** The first delay's ceiling in ms. Default `1000`. */
  readonly baseDelay?: number;
  /** The largest delay ceiling in ms. Default `30000`. */
  readonly maxDelay?: number;
  /**
   * How many reconnect attempts follow one another without a successful connection before the
   * client stops with `{ kind: "max_retries_exceeded" }`. Default `Infinity`.
   */
  readonly maxRetries?: number;
  /** The random source for jitter, returning numbers in `[0, 1)`. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Milliseconds a connection must stay up before the retry count starts afresh. A server that
   * accepts and then drops at once is thus retried with a growing delay, not hammered at
   * `baseDelay`. `0` resets the count on every successful handshake. Default `5000`.
   */
  readonly minUptime?: number;
  /**
   * Milliseconds of reconnecting without a stable connection (see `minUptime`) after which the
   * client gives up and stops with `{ kind: "max_elapsed_exceeded" }`, counted from the first
   * failure. Default `Infinity`.
   */
  readonly maxElapsed?: number;
  /**
   * The longest delay honoured from a refused upgrade's `Retry-After` header (429, 503), in ms;
   * a longer one is cut to it. Default: `maxDelay`.
   */
  readonly maxRetryAfter?: number;
  /**
   * Whether to retry failures that look permanent (the reason's `permanent` is true: an upgrade
   * refused with 400, 401, 403 or 404; a close with 1002, 1003, 1007 or 1008). With `false`, the
   * client stops with `{ kind: "permanent_failure" }` on the first one instead of retrying.
   * Default `true`.
   */
  readonly retryPermanent?: boolean;
}

/**
 * Headers for the upgrade request: a record, an iterable of `[name, value]` pairs, or a
 * `Headers` object.
 *
 * @example
 * ```ts
 * import type { HeadersOption } from "@parley/client";
 * const headers: HeadersOption = { authorization: "Bearer abc" };
 * ```
 */
export type HeadersOption =
  | Readonly<Record<string, string>>
  | Iterable<readonly [string, string]>
  | Headers;

/**
 * What a connection parameter given as a function gets before each connection attempt.
 *
 * @example
 * ```ts
 * import type { AttemptContext } from "@parley/client";
 * const describe = (ctx: AttemptContext) =>
 *   `attempt ${ctx.attempt}${ctx.lastReason ? ` after ${ctx.lastReason.kind}` : ""}`;
 * ```
 */
export interface AttemptContext {
  /** The attempt's number: 1 for the first since start. */
  readonly attempt: number;
  /** How the last connection or attempt ended, or `undefined` before the first. */
  readonly lastReason: DisconnectReason | undefined;
  /** Aborted when the attempt is abandoned (the client stops, the connect timeout passes). */
  readonly signal: AbortSignal;
}

/**
 * A connection parameter computed before each attempt (the first included), sync or async: a
 * fresh token, a rotated URL. Its time counts in `connectTimeout`. If it throws or rejects, the
 * attempt fails with a `HandshakeError` whose `cause` is that error, and the reconnect policy
 * goes on as for any failed connect; what it returns is checked like the static option.
 *
 * @example A fresh token for every attempt
 * ```ts
 * import type { AttemptFunction, HeadersOption } from "@parley/client";
 * declare function freshToken(signal: AbortSignal): Promise<string>;
 * const headers: AttemptFunction<HeadersOption> = async ({ signal }) => ({
 *   authorization: `Bearer ${await freshToken(signal)}`,
 * });
 * ```
 */
export type AttemptFunction<T> = (context: AttemptContext) => T | Promise<T>;

/**
 * Options for `start`. Only `url` is required; unknown keys are rejected.
 *
 * @example
 * ```ts
 * import type { ClientOptions } from "@parley/client";
 * const options: ClientOptions = {
 *   url: "wss://example.com/ws",
 *   headers: { authorization: "Bearer abc" },
 *   reconnect: { baseDelay: 500 },
 *   name: "ticker",
 * };
 * ```
 */
export interface ClientOptions {
  /**
   * The server's URL: `ws:` or `wss:` (`http:` and `https:` are accepted and mean the same, as
   * in the web's `WebSocket`). A fragment is refused. Or a function giving it before each
   * attempt ({@linkcode AttemptFunction}).
   */
  readonly url: string | URL | AttemptFunction<string | URL>;
  /** Registers the client under a name; see {@linkcode ClientName}. */
  readonly name?: ClientName;
  /**
   * Extra headers for the upgrade request. Names and values may not contain CR or LF. Or a
   * function giving them before each attempt ({@linkcode AttemptFunction}).
   */
  readonly headers?: HeadersOption | AttemptFunction<HeadersOption>;
  /**
   * WebSocket subprotocols to offer (`Sec-WebSocket-Protocol`). Default none. Or a function
   * giving them before each attempt ({@linkcode AttemptFunction}).
   */
  readonly subprotocols?: readonly string[] | AttemptFunction<readonly string[]>;
  /** Milliseconds the whole connect (DNS, TCP, TLS, upgrade) may take. Default `10000`. */
  readonly connectTimeout?: number;
  /**
   * Milliseconds to wait for the server's close frame after ours before the socket is
   * dropped. Default `5000`.
   */
  readonly closeTimeout?: number;
  /**
   * Automatic reconnection: `false` (default), `true` (defaults 1000/30000/Infinity), or
   * {@linkcode ReconnectOptions}.
   */
  readonly reconnect?: boolean | ReconnectOptions;
  /** The most frames `sendFrame` may queue while connecting. Default `1024`. */
  readonly maxQueuedFrames?: number;
  /** The most payload bytes `sendFrame` may queue while connecting. Default `16 MiB`. */
  readonly maxQueuedBytes?: number;
  /** Where warnings go: any object with `debug`/`info`/`warn`/`error`. Default: `console` without debug messages. */
  readonly logger?: Logger;
  /** Stops the client when aborted (its stop reason is `{ kind: "aborted" }`). */
  readonly signal?: AbortSignal;
  /**
   * Which transport carries the connection:
   *
   * - `"web"`: the runtime's web-standard `WebSocket` (every runtime and browsers);
   * - `"socket"`: Parley's own RFC 6455 over TCP/TLS sockets (Deno, Node 22+, Bun): pings and
   *   pongs, `handlePing`, TLS settings, receive limits, response headers, custom headers
   *   everywhere;
   * - `"auto"` (default): `"web"` unless the options or callbacks ask for something only the
   *   socket transport can do (headers the runtime's `WebSocket` cannot send,
   *   `transportOptions.tls`, `limits`, a `handlePing` callback), then `"socket"`.
   *
   * Asking `"web"` for what it cannot do fails at start with an `UnsupportedError`.
   */
  readonly transport?: "auto" | "web" | "socket";
  /** Socket transport settings: TLS for `wss:`. Implies the socket transport. */
  readonly transportOptions?: TransportOptions;
  /**
   * Receive limits (frame size, message size, fragment count); a server exceeding them fails
   * the connection with close code 1009. The socket transport applies the defaults (64 MiB,
   * 64 MiB, 131,072) when this is omitted; giving it implies the socket transport.
   */
  readonly limits?: Limits;
  /**
   * Notices a silent, dead peer (a NAT that forgot the connection, a sleeping laptop, a dead
   * load balancer): after `interval` ms without anything received the client probes, and when
   * nothing arrives within `timeout` ms it drops the connection (`handleDisconnect` gets
   * `{ kind: "heartbeat_timeout" }`). `true` for the defaults (20 s and 20 s), `false` for none,
   * or {@linkcode HeartbeatOptions}. Default: on with the defaults for the socket transport,
   * which probes with pings; off for the web transport, which cannot ping (set it to get an idle
   * timeout, and `message` to probe with your own frame).
   */
  readonly heartbeat?: boolean | HeartbeatOptions;
  /**
   * Bytes of received messages that may wait for the application (for `handleFrame` to run)
   * before the client stops reading from the socket, so a server faster than the application
   * is slowed down by TCP instead of filling memory; reading resumes once half of it is handled.
   * Nothing is dropped. The web transport cannot pause a `WebSocket`: there the connection fails
   * when the bound is passed. Default 4 MiB; `Infinity` turns the bound off.
   */
  readonly receiveBuffer?: number;
  /**
   * The HTTP(S) proxy the socket transport reaches the server through, with a `CONNECT` tunnel:
   *
   * - `"env"` (default): the proxy environment variables, read as curl reads them:
   *   `https_proxy` or `HTTPS_PROXY` for `wss:`, `http_proxy` or `HTTP_PROXY` for `ws:`, else
   *   `all_proxy` or `ALL_PROXY` (the lowercase name first, an empty value counts as unset);
   *   `no_proxy` or `NO_PROXY` lists the hosts reached directly (names, which include the
   *   names below them, with or without a leading dot; `host:port`; IP addresses and CIDR
   *   ranges; `*` for all). On Deno they are read only with the env permission
   *   (`--allow-env`): without it the default connects directly, and an explicit `"env"` fails
   *   the connection with a `HandshakeError` that names `--allow-env`.
   * - a proxy URL, `"http://proxy.corp:3128"` or `https:` for TLS to the proxy (a missing
   *   scheme means `http:`, a missing port the scheme's): always this proxy, whatever the
   *   environment says. Credentials in it (`http://user:pass@proxy:3128`, percent-encoded)
   *   are sent as `Proxy-Authorization: Basic`, and never appear in messages.
   * - `false`: no proxy.
   *
   * A proxy that refuses the tunnel (407, 403, 502...) fails the connection with a
   * `HandshakeError` that says it was the proxy, with the proxy's `status`; `connectTimeout`
   * covers the way through the proxy. TLS to an `https:` proxy trusts
   * `transportOptions.tls.ca` besides the runtime's roots, and is always verified.
   */
  readonly proxy?: "env" | string | URL | false;
  /**
   * permessage-deflate (RFC 7692) on the socket transport: `true` (the default) offers it with
   * the defaults of {@linkcode CompressionOptions}, `false` does not offer it, an object offers
   * it with those settings (and implies the socket transport). It is used only if the server
   * accepts; `handleConnect`'s `info.extensions` then says so. The web transport compresses as
   * its runtime's `WebSocket` does, whatever this says.
   */
  readonly compression?: boolean | CompressionOptions;
}
