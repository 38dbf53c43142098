/**
 * The options a client starts with.
 *
 * @module
 */

import type { Logger } from "./logger.ts";
import type { ClientName } from "./name.ts";
import type { Limits } from "../protocol/limits.ts";
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
   * in the web's `WebSocket`). A fragment is refused.
   */
  readonly url: string | URL;
  /** Registers the client under a name; see {@linkcode ClientName}. */
  readonly name?: ClientName;
  /** Extra headers for the upgrade request. Names and values may not contain CR or LF. */
  readonly headers?: HeadersOption;
  /** WebSocket subprotocols to offer (`Sec-WebSocket-Protocol`). Default none. */
  readonly subprotocols?: readonly string[];
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
}
