/**
 * The socket transport: Parley's own RFC 6455 implementation (`src/protocol/`) over
 * `Deno.connect` on Deno and `node:net` / `node:tls` on Node and Bun.
 *
 * @module
 */

import { HandshakeError, UnsupportedError } from "../client/errors.ts";
import type { Frame } from "../client/frame.ts";
import { ClientConnection } from "../protocol/client_connection.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { pooledRandom, type RandomSource } from "../protocol/random.ts";
import type { ByteStream, Dialer, DialTarget, StreamEvents } from "./_stream.ts";
import type { Connector, ConnectParams, Transport, TransportEvents } from "./transport.ts";

/** Whether this runtime has raw sockets (Deno, Node, Bun; not browsers). */
export function socketsAvailable(): boolean {
  const g = globalThis as { Deno?: { connect?: unknown }; process?: { versions?: unknown } };
  return typeof g.Deno?.connect === "function" ||
    (typeof g.process === "object" && typeof g.process?.versions === "object");
}

const defaultRandom = pooledRandom((b) => crypto.getRandomValues(b));

/** Picks the dialer for a target in this runtime. */
const dial: Dialer = async (target, events) => {
  const g = globalThis as { Deno?: { connect?: unknown } };
  if (typeof g.Deno?.connect === "function") {
    const deno = await import("./_deno_dial.ts");
    if (deno.denoCanDial(target)) return deno.denoDial(target, events);
  }
  const node = await import("./_node_dial.ts");
  return node.nodeDial(target, events);
};

/**
 * Creates a socket connector. Tests inject the random source (mask keys, handshake keys) and
 * the dialer.
 */
export function createSocketConnector(
  random: RandomSource = defaultRandom,
  dialer: Dialer = dial,
): Connector {
  return {
    name: "socket",
    capabilities: { controlFrames: true, answersPings: true },
    connect(params: ConnectParams, events: TransportEvents): Transport {
      return new SocketTransport(params, events, random, dialer);
    },
  };
}

/** The socket transport with a pooled cryptographic random source. */
export const socketConnector: Connector = createSocketConnector();

class SocketTransport implements Transport {
  readonly done: Promise<void>;
  #conn: ClientConnection;
  #events: TransportEvents;
  #url: string;
  #closeTimeout: number;
  #stream: ByteStream | undefined;
  /** No more events go to the client (it closed, aborted, or was told the end). */
  #ended = false;
  /** The stream is released (or was never opened). */
  #finished = false;
  #aborted = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushQueued = false;
  #resolveDone!: () => void;

  constructor(
    params: ConnectParams,
    events: TransportEvents,
    random: RandomSource,
    dialer: Dialer,
  ) {
    this.#events = events;
    this.#url = params.url.href;
    this.#closeTimeout = params.closeTimeout;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    const url = params.url;
    this.#conn = new ClientConnection({
      url,
      headers: params.headers,
      subprotocols: params.subprotocols,
      limits: params.limits ?? DEFAULT_LIMITS,
      random,
    }, {
      opened: (upgrade) => {
        if (this.#ended) return;
        events.opened({
          url: this.#url,
          protocol: upgrade.protocol,
          extensions: upgrade.extensions,
          status: upgrade.status,
          headers: upgrade.headers,
        });
      },
      text: (data) => {
        if (!this.#ended) events.frame({ type: "text", data });
      },
      binary: (data) => {
        if (!this.#ended) events.frame({ type: "binary", data });
      },
      ping: (data) => {
        if (!this.#ended) events.ping(data);
      },
      pong: (data) => {
        if (!this.#ended) events.frame({ type: "pong", data });
      },
      closed: (code, reason) => {
        this.#report(() => events.remoteClose(code, reason));
        this.#windDown();
      },
      failed: (error, closeSent) => {
        this.#report(() => events.failed(error));
        // A protocol violation sends its close frame first; anything else ends at once.
        if (closeSent) this.#windDown();
        else this.#destroy();
      },
    });
    const target: DialTarget = {
      hostname: url.hostname,
      port: url.port === "" ? (url.protocol === "wss:" ? 443 : 80) : Number(url.port),
      tls: url.protocol === "wss:" ? (params.tls ?? DEFAULT_TLS) : undefined,
    };
    const streamEvents: StreamEvents = {
      data: (chunk) => {
        this.#conn.receive(chunk);
        this.#flush();
      },
      end: () => {
        // After a complete close handshake the server's EOF is the expected end; before it,
        // the connection reports a failure.
        this.#conn.end();
        this.#destroy();
      },
      error: (error) => {
        if (this.#conn.state === "connecting" || this.#conn.state === "open") {
          this.#report(() =>
            events.failed(
              new Error(`The connection to ${this.#url} failed: ${error.message}`, {
                cause: error,
              }),
            )
          );
        }
        this.#destroy();
      },
      closed: () => this.#finish(),
    };
    dialer(target, streamEvents).then(
      (stream) => {
        if (this.#aborted) {
          stream.destroy();
          return;
        }
        this.#stream = stream;
        this.#flush();
      },
      (error: Error) => {
        this.#report(() =>
          events.failed(
            new HandshakeError(`Cannot connect to ${this.#url} as ${error.message}`, {
              cause: error.cause ?? error,
            }),
          )
        );
        this.#finish();
      },
    );
  }

  send(frame: Frame): void {
    const conn = this.#conn;
    if (this.#stream === undefined || conn.state !== "open") {
      throw new Error(`Cannot send frame as the connection to ${this.#url} is not open`);
    }
    switch (frame.type) {
      case "text":
        conn.sendText(frame.data);
        break;
      case "binary":
        conn.sendBinary(frame.data);
        break;
      case "ping":
        conn.sendPing(frame.data);
        break;
      case "pong":
        conn.sendPong(frame.data);
        break;
      default:
        throw new UnsupportedError(
          `Cannot send a ${(frame as { type: string }).type} frame over the socket transport`,
        );
    }
    // Frames sent in the same turn go out in one write.
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushLater);
    }
  }

  close(code: number, reason: string): void {
    this.#ended = true;
    const state = this.#conn.state;
    if (state === "open") {
      this.#conn.close(code, reason);
      this.#flush();
      this.#armTimer();
    } else if (state === "connecting") {
      this.#conn.close(code, reason);
      this.#destroy();
    }
    // "closing" or "closed": the close handshake is already under way.
  }

  abort(): void {
    this.#ended = true;
    // A connection finishing its close handshake (or failing with a close frame) ends on its
    // own within closeTimeout; anything else is dropped now.
    if (this.#timer !== undefined) return;
    this.#destroy();
  }

  #flushLater = () => {
    this.#flushQueued = false;
    this.#flush();
  };

  #flush(): void {
    const stream = this.#stream;
    if (stream === undefined || !this.#conn.hasOutput) return;
    stream.write(this.#conn.takeOutput());
  }

  /** Reports to the client once; later events are dropped. */
  #report(fn: () => void): void {
    if (this.#ended) return;
    this.#ended = true;
    fn();
  }

  /** Writes what is left (the close frame), ends our side, waits for the server to finish. */
  #windDown(): void {
    this.#flush();
    this.#stream?.end();
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#finished) return;
    if (this.#closeTimeout === Infinity) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#destroy();
    }, this.#closeTimeout);
  }

  #destroy(): void {
    this.#aborted = true;
    if (this.#stream === undefined) {
      // Still dialling (DNS, TCP, TLS): a stream that arrives later is released at once.
      this.#finish();
      return;
    }
    this.#stream.destroy();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolveDone();
  }
}

const DEFAULT_TLS = Object.freeze({
  ca: [],
  cert: undefined,
  key: undefined,
  serverName: undefined,
  minVersion: "TLSv1.2",
  insecure: false,
} as const);
