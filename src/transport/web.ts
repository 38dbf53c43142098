/**
 * The web transport: the runtime's own `WebSocket` (Deno, Node 22+, Bun, browsers), or its
 * `WebSocketStream` where it has one (Chromium; Deno with `--unstable-net`), which can pause
 * reading.
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { redactUrl } from "../vocabulary/redact.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import type { Frame } from "../vocabulary/frame.ts";
import { base64 } from "../protocol/sha1.ts";
import { Heartbeat } from "./_heartbeat.ts";
import { clearTimer, setTimer, type Timed } from "./timers.ts";
import type { ChannelEnd, ChannelEvents, ChannelParams, WebChannel } from "./_web_channel.ts";
import { SocketChannel, webSocketConstructor } from "./_web_socket.ts";
import { StreamChannel, webSocketStreamConstructor } from "./_web_stream.ts";
import type { Connector, ConnectParams, Transport, TransportEvents, Written } from "./transport.ts";

/**
 * Whether this runtime's `WebSocket` accepts a `headers` init (Deno 2.5+, Node 22+, Bun).
 *
 * @example
 * ```ts
 * import { webSocketTakesHeaders } from "./web.ts";
 * const where = webSocketTakesHeaders() ? "a header" : "the URL";
 * ```
 */
export function webSocketTakesHeaders(): boolean {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string } };
  };
  return g.Deno !== undefined || g.Bun !== undefined ||
    typeof g.process?.versions?.node === "string";
}

/**
 * The extensions this runtime's `WebSocket` offers in its upgrade request: Deno's offers none;
 * Node's, Bun's and the browsers' offer permessage-deflate (and check the server's answer
 * themselves, which Deno's does not).
 */
const OFFERED_EXTENSIONS: readonly string[] = isDeno() ? [] : ["permessage-deflate"];

function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno === "object";
}

/**
 * Whether this runtime's socket delivers each message on a turn of its own: Deno's `WebSocket`
 * after an awaited read, Bun's from native code, the browsers' as a task of its own, and a
 * `WebSocketStream`'s read loop. Node's (undici) dispatches every message of a read in one loop;
 * there the client serves them together after it (measured: about 15% less CPU per small echoed
 * message on Node 24 than handling each in its event).
 */
function framesOnTheirOwnTurn(): boolean {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string } };
  };
  return g.Deno !== undefined || g.Bun !== undefined ||
    typeof g.process?.versions?.node !== "string";
}

/**
 * The web transport, built on `globalThis.WebSocketStream` where the runtime has it, else on
 * `globalThis.WebSocket`.
 *
 * @example
 * ```ts
 * import { webConnector } from "./web.ts";
 * webConnector.capabilities.controlFrames; // false: the web API has no ping or pong
 * ```
 */
export const webConnector: Connector = {
  name: "web",
  capabilities: { controlFrames: false, framesOnTheirOwnTurn: framesOnTheirOwnTurn() },
  connect(params: ConnectParams, events: TransportEvents): Transport {
    return new WebTransport(params, events);
  },
};

/**
 * One connection over the runtime's WebSocket API. It is its channel's `ChannelEvents`: it
 * checks what the runtime let through, runs the heartbeat, bounds the close by closeTimeout and
 * reports the connection's end once, with what happened first.
 */
class WebTransport implements Transport, ChannelEvents {
  /** `done`, once asked for (the client asks when it lets the connection go). */
  #done: Promise<void> | undefined;
  #channel: WebChannel | undefined;
  #events: TransportEvents;
  /** The URL connected to (the client's, shared), as `ConnectInfo` reports it. */
  #target: URL;
  #offered: readonly string[];
  #closeTimeout: number;
  #heartbeat: Heartbeat | undefined;
  /** The heartbeat's probe: the application's message, sent after `interval` of silence. */
  #probe: string | Uint8Array | undefined;
  /** When the last probe went out, until the next frame arrives; or -1. */
  #probeAt = -1;
  #opened = false;
  /** Reading is paused (flow control). */
  #paused = false;
  /** No more events go to the client (it closed or released the connection, or heard the end). */
  #ended = false;
  /** `done` is settled. */
  #isDone = false;
  /** Bounds the close handshake (closeTimeout). */
  #timer: Timed | undefined;
  #resolveDone: (() => void) | undefined;

  constructor(params: ConnectParams, events: TransportEvents) {
    this.#events = events;
    this.#target = params.url;
    this.#offered = params.subprotocols;
    this.#closeTimeout = params.closeTimeout;
    const setup = channelParams(params);
    const heartbeat = params.heartbeat;
    if (heartbeat !== undefined) {
      this.#probe = heartbeat.message?.data;
      this.#heartbeat = new Heartbeat(heartbeat, {
        probe: () => this.#sendProbe(),
        timedOut: () => this.#heartbeatTimedOut(),
      });
    }
    try {
      this.#channel = openChannel(setup, this);
    } catch (error) {
      this.#report(() =>
        this.#events.error(
          error instanceof UnsupportedError ? error : new HandshakeError(
            `Cannot connect to ${this.#url} as the runtime's WebSocket refused it`,
            { cause: error },
          ),
        )
      );
      this.#settleDone();
    }
  }

  // ChannelEvents: what the runtime's socket reports.

  open(protocol: string, extensions: string): void {
    this.#opened = true;
    if (this.#ended) return;
    const problem = handshakeProblem(this.#offered, protocol, extensions);
    if (problem !== undefined) {
      // What the socket transport refuses, the runtime let through: fail it the same way.
      this.#report(() =>
        this.#events.error(
          new HandshakeError(`Cannot connect to ${this.#url} as ${problem}`, { status: 101 }),
        )
      );
      this.#channel?.close();
      this.#armCloseTimer();
      return;
    }
    this.#events.opened({
      url: this.#url,
      protocol,
      extensions,
      status: 101,
      headers: undefined,
    });
    this.#heartbeat?.start();
  }

  message(data: string | Uint8Array): void {
    if (this.#ended) return;
    const heartbeat = this.#heartbeat;
    if (heartbeat !== undefined) {
      heartbeat.received();
      if (this.#probeAt >= 0) {
        const ms = performance.now() - this.#probeAt;
        this.#probeAt = -1;
        this.#events.rtt(ms);
      }
    }
    if (typeof data === "string") this.#events.frame({ type: "text", data });
    else this.#events.frame({ type: "binary", data });
  }

  closed(end: ChannelEnd): void {
    this.#report(() => {
      if (!this.#opened) this.#events.error(this.#handshakeFailed(end));
      else if (end.code === 1006 || (!end.clean && end.error !== undefined)) {
        this.#events.error(this.#connectionLost(end));
      } else this.#events.remoteClose(end.code, end.reason);
    });
    this.#settleDone();
  }

  /** The error for a socket closed before it opened. */
  #handshakeFailed(end: ChannelEnd): HandshakeError {
    const { detail, cause } = this.#runtimeError(end);
    return new HandshakeError(
      `Cannot connect to ${this.#url} as the WebSocket handshake failed${
        detail ? `: ${detail}` : ""
      }`,
      { cause, status: statusIn(detail) },
    );
  }

  /** The error for an open socket closed without a close frame. */
  #connectionLost(end: ChannelEnd): Error {
    const { detail, cause } = this.#runtimeError(end);
    return new Error(
      `The connection to ${this.#url} was lost without a close frame (1006)${
        detail ? `: ${detail}` : ""
      }`,
      { cause },
    );
  }

  /** The URL as messages show it: without credentials or query-string values. */
  get #url(): string {
    return redactUrl(this.#target);
  }

  /**
   * What the runtime said about an end, for our message, and the cause to keep. A runtime may
   * quote the URL it was given, query and all (Bun does: "WebSocket connection to '...'
   * failed"): then the URL is shown as in our messages, and the cause is a copy of the
   * runtime's error with that text.
   */
  #runtimeError(end: ChannelEnd): { detail: string; cause: unknown } {
    const text = errorText(end.error);
    // The URL as given, and without the credentials that went as a header.
    const href = this.#target.href;
    const shown = this.#url;
    const detail = [href, withoutCredentials(this.#target)].reduce(
      (t, url) => t.split(url).join(shown),
      text,
    );
    if (detail === text) return { detail, cause: end.error ?? end };
    const copy = new Error(detail);
    copy.name = end.error instanceof Error ? end.error.name : "Error";
    return { detail, cause: copy };
  }

  // Transport: what the client asks.

  get done(): Promise<void> {
    return this.#done ??= this.#isDone
      ? Promise.resolve()
      : new Promise((resolve) => (this.#resolveDone = resolve));
  }

  send(frame: Frame, written?: Written): boolean {
    if (frame.type !== "text" && frame.type !== "binary") {
      throw new UnsupportedError(
        `Cannot send a ${frame.type} frame as the web transport has no API for it`,
      );
    }
    const channel = this.#channel;
    // The connection is ending (the server's close may be arriving): the frame is dropped,
    // and the end is reported once, by the socket's close, with what happened first.
    if (channel === undefined || this.#ended || !channel.writable) return false;
    channel.send(frame.data, written);
    return true;
  }

  pause(): boolean {
    if (this.#channel?.pause() !== true) return false;
    this.#paused = true;
    // The silence is ours now: no heartbeat timeout until resume().
    this.#heartbeat?.pause();
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#channel?.resume();
    this.#heartbeat?.resume();
  }

  close(code: number, reason: string): void {
    this.#end();
    this.#channel?.close(code, reason);
    this.#armCloseTimer();
  }

  release(): void {
    this.#end();
    // The web API cannot drop a socket without a close frame; close is the closest it has.
    this.#channel?.close();
    this.#armCloseTimer();
  }

  // The heartbeat.

  #sendProbe(): void {
    const channel = this.#channel;
    if (this.#probe === undefined || this.#ended || channel === undefined || !channel.writable) {
      return;
    }
    this.#probeAt = performance.now();
    channel.send(this.#probe);
  }

  #heartbeatTimedOut(): void {
    if (!this.#report(() => this.#events.heartbeatTimeout())) return;
    // The runtime cannot drop the socket: it is closed, and done settles within closeTimeout.
    this.#channel?.close();
    this.#armCloseTimer();
  }

  // The end.

  /** No more events go to the client. */
  #end(): void {
    this.#ended = true;
    this.#heartbeat?.stop();
  }

  /** Reports the end to the client once; later events are dropped. Returns whether it did. */
  #report(fn: () => void): boolean {
    if (this.#ended) return false;
    this.#end();
    fn();
    return true;
  }

  /** The runtime finishes the close handshake; `done` does not wait past closeTimeout for it. */
  #armCloseTimer(): void {
    // The runtime may have closed inside close() (Bun has): then nothing is left to wait for.
    if (this.#isDone || this.#timer !== undefined || this.#closeTimeout === Infinity) return;
    this.#timer = setTimer(() => {
      this.#timer = undefined;
      this.#settleDone();
    }, this.#closeTimeout);
  }

  #settleDone(): void {
    this.#end();
    if (this.#isDone) return;
    this.#isDone = true;
    clearTimer(this.#timer);
    this.#timer = undefined;
    this.#resolveDone?.();
  }
}

/** Opens the runtime's socket: a `WebSocketStream` where there is one, else a `WebSocket`. */
function openChannel(params: ChannelParams, events: ChannelEvents): WebChannel {
  const Stream = webSocketStreamConstructor();
  if (Stream !== undefined) return new StreamChannel(Stream, params, events);
  const Socket = webSocketConstructor();
  if (Socket === undefined) {
    throw new UnsupportedError("Cannot connect as this runtime has no global WebSocket");
  }
  return new SocketChannel(Socket, params, events);
}

/**
 * The URL, subprotocols and headers to open the socket with, and the URL for messages. Where
 * the runtime's WebSocket takes headers, credentials in the URL become `Authorization: Basic`
 * (unless the caller set that header) and leave the URL, so they go out once, as the socket
 * transport sends them (Node's WebSocket would drop them); a browser gets the URL as it is.
 */
function channelParams(params: ConnectParams): ChannelParams {
  const url = params.url;
  const username = url.username;
  const password = url.password;
  if (!webSocketTakesHeaders()) {
    return { url: url.href, protocols: params.subprotocols, headers: undefined };
  }
  const shown = withoutCredentials(url);
  let headers: Record<string, string> | undefined;
  for (const [k, v] of params.headers) {
    headers ??= {};
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  const hasAuthorization = params.headers.some(([k]) => k.toLowerCase() === "authorization");
  if ((username !== "" || password !== "") && !hasAuthorization) {
    const credentials = `${decodeUserinfo(username)}:${decodeUserinfo(password)}`;
    headers ??= {};
    headers["Authorization"] = `Basic ${base64(new TextEncoder().encode(credentials))}`;
  }
  return { url: shown, protocols: params.subprotocols, headers };
}

/** `url` without credentials, as messages show it and as it goes where headers carry them. */
function withoutCredentials(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const bare = new URL(url.href);
  bare.username = "";
  bare.password = "";
  return bare.href;
}

/** Percent-decodes a URL's username or password; a malformed escape is sent as written. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * What is wrong with the subprotocol or extensions the server chose, if anything: the socket
 * transport's rules and words (Deno's WebSocket accepts either unoffered).
 */
function handshakeProblem(
  offered: readonly string[],
  protocol: string,
  extensions: string,
): string | undefined {
  for (const extension of extensions.split(",")) {
    const name = extension.split(";")[0].trim().toLowerCase();
    if (name !== "" && !OFFERED_EXTENSIONS.includes(name)) {
      return `the server chose the extension ${
        JSON.stringify(extensions.trim())
      }, which the client did not offer`;
    }
  }
  if (protocol !== "" && !offered.includes(protocol)) {
    return offered.length === 0
      ? `the server chose the subprotocol ${JSON.stringify(protocol)} though none was offered`
      : `the server chose the subprotocol ${JSON.stringify(protocol)}, which was not offered`;
  }
  return undefined;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return "";
}

/** The HTTP status a runtime's handshake error message names, if any (Deno, undici and Bun word it differently). */
function statusIn(text: string): number | undefined {
  const m = /(?:status(?: code)?|HTTP(?: error)?|response)[^0-9]{0,12}\b([1-5][0-9]{2})\b/i.exec(
    text,
  );
  return m ? Number(m[1]) : undefined;
}
