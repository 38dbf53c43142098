// Internal: starting a client. Tests call `startClient` with a scripted connector or a fake clock.

import { Actor, type Clock, systemClock } from "./_actor.ts";
import { ClientHandle } from "./client.ts";
import { handleKey } from "./_handle_key.ts";
import { ClientStoppedError } from "./errors.ts";
import { describe } from "./_frame_check.ts";
import { type Config, dropsDebug, parseOptions } from "./_options.ts";
import { nameText, register, unregister } from "./_registry.ts";
import type { StopReason } from "./reasons.ts";
import type { Connector } from "../transport/transport.ts";
import { webConnector, webSocketTakesHeaders } from "../transport/web.ts";
import { socketConnector, socketsAvailable } from "../transport/socket.ts";
import { proxyFor } from "../transport/proxy.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import { redactUrl } from "../vocabulary/redact.ts";
import { DEFAULT_DEFLATE } from "../protocol/permessage_deflate.ts";

/** Overrides for tests. */
export interface StartInternals {
  readonly connector?: Connector;
  readonly clock?: Clock;
}

// deno-lint-ignore no-explicit-any
type AnyCallbacks = Record<string, ((...args: any[]) => unknown) | undefined>;

/** Starts a client from its callbacks; see `ClientDefinition.start`. */
export async function startClient(
  callbacks: object,
  initArg: unknown,
  options: unknown,
  internals: StartInternals = {},
): Promise<ClientHandle<unknown, unknown>> {
  const config = parseOptions(options);
  const connector = internals.connector ?? chooseConnector(config, callbacks as AnyCallbacks);
  warnAboutTls(config);
  noteProxy(config, connector);
  config.signal?.throwIfAborted();
  const name = config.name;
  const label = name === undefined ? "[parley]" : `[parley ${nameText(name)}]`;
  const signal = config.signal;
  // Closures only for what the client has: a name to free, a signal to listen to.
  const onAbort = signal === undefined
    ? undefined
    : () => actor.post({ type: "stop", reason: { kind: "aborted", reason: signal.reason } });
  const actor: Actor = new Actor(
    callbacks as AnyCallbacks,
    config,
    connector,
    internals.clock ?? systemClock,
    label,
    name === undefined && signal === undefined ? undefined : (_reason: StopReason) => {
      if (name !== undefined) unregister(name, handle);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    },
  );
  const handle = new ClientHandle(handleKey, actor, name);
  actor.handle = handle;
  if (name !== undefined) register(name, handle);

  const state = await runInit(callbacks as AnyCallbacks, initArg, actor);
  if (signal?.aborted) {
    actor.abandon({ kind: "aborted", reason: signal.reason });
    throw signal.reason;
  }
  if (onAbort !== undefined) signal?.addEventListener("abort", onAbort, { once: true });
  actor.run(state);
  return handle;
}

/** Warns about TLS settings that do nothing, or that turn verification off. */
function warnAboutTls(config: Config): void {
  const url = typeof config.url === "function" ? undefined : config.url;
  if (config.tls !== undefined && url?.protocol === "ws:") {
    // TLS to an https: proxy trusts transportOptions.tls.ca: then it does have an effect.
    if (throughHttpsProxy(url, config)) return;
    config.logger.warn(
      `[parley] transportOptions.tls has no effect on ${redactUrl(url)}, which is not a wss: URL`,
    );
  } else if (config.tls?.insecure) {
    config.logger.warn(
      `[parley] TLS certificate verification is OFF for ${
        url === undefined ? "this client" : redactUrl(url)
      } (dangerouslyAcceptInvalidCertificates): anyone on the path can read and change this connection`,
    );
  }
}

/** Whether the socket transport reaches the server through an https: proxy. */
function throughHttpsProxy(url: URL, config: Config): boolean {
  try {
    return proxyFor(url, config.proxy).proxy?.secure === true;
  } catch {
    return false;
  }
}

/**
 * Says in a debug message how the socket transport reaches the server: through which proxy
 * (and where it was configured), or directly and why (no proxy variable set, NO_PROXY, Deno
 * without --allow-env). A setting that cannot be honoured is left to the connection to report.
 */
function noteProxy(config: Config, connector: Connector): void {
  // A url function's URL is known at each attempt only.
  if (connector.name !== "socket" || typeof config.url === "function") return;
  if (dropsDebug(config.logger)) return;
  let route;
  try {
    route = proxyFor(config.url, config.proxy);
  } catch {
    return;
  }
  const url = redactUrl(config.url);
  config.logger.debug(
    route.proxy === undefined
      ? `[parley] ${url} is reached without a proxy: ${route.why}`
      : `[parley] ${url} is reached through the proxy ${route.proxy.label} (${route.why})`,
  );
}

/**
 * Runs `init` (the argument is the state without one) and returns the state it gave. When it
 * stops, throws or returns something else, the actor is stopped and the error thrown.
 */
async function runInit(callbacks: AnyCallbacks, initArg: unknown, actor: Actor): Promise<unknown> {
  try {
    const init = callbacks.init;
    let result = init === undefined
      ? { action: "ok", state: initArg }
      : init.call(callbacks, initArg);
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === "function") {
      result = await result;
    }
    const r = result as { action?: unknown; state?: unknown; reason?: unknown } | null;
    if (r !== null && typeof r === "object" && r.action === "ok" && "state" in r) {
      return r.state;
    }
    if (r !== null && typeof r === "object" && r.action === "stop") {
      const reason: StopReason = { kind: "user", reason: r.reason };
      actor.abandon(reason);
      throw new ClientStoppedError(
        reason,
        `Cannot start the client as init returned stop(${describe(r.reason)})`,
      );
    }
    const error = new TypeError(
      `init returned an invalid result: expected ok(state) or stop(reason), got ${
        describe(result)
      }`,
    );
    actor.abandon({ kind: "error", error });
    throw error;
  } catch (error) {
    if (actor.phase !== "stopped") actor.abandon({ kind: "error", error });
    throw error;
  }
}

/**
 * Picks the transport: see `ClientOptions.transport`. `auto` takes the socket transport
 * wherever there are sockets (Deno, Node, Bun): it can ping, pause reading, let go of a dead
 * connection and tell why a connect failed, which the runtimes' `WebSocket` cannot. Browsers get
 * the web transport.
 */
function chooseConnector(config: Config, callbacks: AnyCallbacks): Connector {
  const needs: string[] = [];
  if (
    (typeof config.headers === "function" || config.headers.length > 0) &&
    !webSocketTakesHeaders()
  ) {
    needs.push("custom headers (this runtime's WebSocket cannot send them)");
  }
  if (config.tls !== undefined) needs.push("transportOptions.tls");
  if (config.limits !== undefined) needs.push("limits");
  // Compression settings (not `compression: true`, which is the default) are the socket's.
  if (config.compression !== undefined && config.compression !== DEFAULT_DEFLATE) {
    needs.push("compression settings");
  }
  if (typeof callbacks.handlePing === "function") needs.push("a handlePing callback");
  if (config.proxy.kind === "url") needs.push("a proxy");
  const hasWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";
  switch (config.transport) {
    case "web":
      if (needs.length > 0) {
        throw new UnsupportedError(
          `Cannot start the client as the web transport cannot honour ${
            needs.join(", ")
          }; use transport: "socket" or "auto"`,
        );
      }
      if (!hasWebSocket) {
        throw new UnsupportedError(
          'Cannot start the client as this runtime has no global WebSocket for the web transport; use transport: "socket" or "auto"',
        );
      }
      return webConnector;
    case "socket":
      if (!socketsAvailable()) {
        throw new UnsupportedError(
          "Cannot start the client as the socket transport needs Deno, Node or Bun, and this runtime (a browser?) has no sockets",
        );
      }
      return socketConnector;
    default:
      if (socketsAvailable()) return socketConnector;
      if (needs.length > 0) {
        throw new UnsupportedError(
          `Cannot start the client as ${needs.join(", ")} ${
            needs.length === 1 ? "needs" : "need"
          } the socket transport, and this runtime (a browser?) has no sockets`,
        );
      }
      if (!hasWebSocket) {
        throw new UnsupportedError(
          "Cannot start the client as this runtime has neither sockets nor a global WebSocket",
        );
      }
      return webConnector;
  }
}
