/**
 * The web transport: the runtime's own `WebSocket` (Deno, Node 22+, Bun, browsers).
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import type { Frame } from "../vocabulary/frame.ts";
import type { Connector, ConnectParams, Transport, TransportEvents, Written } from "./transport.ts";

type WebSocketCtor = new (
  url: string,
  init?: string[] | { protocols?: string[]; headers?: Record<string, string> },
) => WebSocket;

/** Whether this runtime's `WebSocket` accepts a `headers` init (Deno 2.5+, Node 22+, Bun). */
export function webSocketTakesHeaders(): boolean {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string } };
  };
  return g.Deno !== undefined || g.Bun !== undefined ||
    typeof g.process?.versions?.node === "string";
}

/** The web transport, built on `globalThis.WebSocket`. */
export const webConnector: Connector = {
  name: "web",
  capabilities: { controlFrames: false },
  connect(params: ConnectParams, events: TransportEvents): Transport {
    return new WebTransport(params, events);
  },
};

class WebTransport implements Transport {
  #ws: WebSocket | undefined;
  #events: TransportEvents;
  #url: string;
  #opened = false;
  /** No more events go to the client (it closed or released the connection, or heard the end). */
  #ended = false;
  /** `done` is settled. */
  #isDone = false;
  /** What the runtime's `error` event carried, kept as the cause of the error reported. */
  #runtimeError: unknown;
  #closeTimeout: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(params: ConnectParams, events: TransportEvents) {
    this.#events = events;
    this.#url = params.url.href;
    this.#closeTimeout = params.closeTimeout;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    const ws = this.#open(params);
    if (ws === undefined) {
      this.#settleDone();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => this.#onOpen(ws);
    ws.onmessage = (e: MessageEvent) => this.#onMessage(e);
    ws.onerror = (e: Event) => {
      this.#runtimeError = (e as ErrorEvent).error ?? (e as ErrorEvent).message ?? e;
    };
    ws.onclose = (e: CloseEvent) => this.#onClose(e);
  }

  /** Creates the runtime's `WebSocket`; reports the error and gives `undefined` when it cannot. */
  #open(params: ConnectParams): WebSocket | undefined {
    const Ctor = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (Ctor === undefined) {
      this.#reportError(
        new UnsupportedError("Cannot connect as this runtime has no global WebSocket"),
      );
      return undefined;
    }
    const protocols = [...params.subprotocols];
    try {
      if (params.headers.length === 0) return new Ctor(this.#url, protocols);
      const headers: Record<string, string> = {};
      for (const [k, v] of params.headers) {
        headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      }
      return new Ctor(this.#url, { protocols, headers });
    } catch (cause) {
      this.#reportError(
        new HandshakeError(`Cannot connect to ${this.#url} as the runtime's WebSocket refused it`, {
          cause,
        }),
      );
      return undefined;
    }
  }

  #onOpen(ws: WebSocket): void {
    this.#opened = true;
    if (this.#ended) return;
    this.#events.opened({
      url: this.#url,
      protocol: ws.protocol,
      extensions: ws.extensions,
      status: 101,
      headers: undefined,
    });
  }

  #onMessage(e: MessageEvent): void {
    if (this.#ended) return;
    const data = e.data;
    if (typeof data === "string") this.#events.frame({ type: "text", data });
    else if (data instanceof ArrayBuffer) {
      this.#events.frame({ type: "binary", data: new Uint8Array(data) });
    } else if (ArrayBuffer.isView(data)) {
      this.#events.frame({
        type: "binary",
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      });
    }
  }

  /** The socket is closed: reports how the connection ended, unless the client knows already. */
  #onClose(e: CloseEvent): void {
    if (!this.#ended) {
      if (!this.#opened) this.#reportError(this.#handshakeFailed(e));
      else if (e.code === 1006 || (!e.wasClean && this.#runtimeError !== undefined)) {
        this.#reportError(this.#connectionLost(e));
      } else {
        this.#ended = true;
        this.#events.remoteClose(e.code, e.reason);
      }
    }
    this.#settleDone();
  }

  /** The error for a socket closed before it opened. */
  #handshakeFailed(e: CloseEvent): HandshakeError {
    const detail = errorText(this.#runtimeError);
    return new HandshakeError(
      `Cannot connect to ${this.#url} as the WebSocket handshake failed${
        detail ? `: ${detail}` : ""
      }`,
      { cause: this.#runtimeError ?? e, status: statusIn(detail) },
    );
  }

  /** The error for an open socket closed without a close frame. */
  #connectionLost(e: CloseEvent): Error {
    const detail = errorText(this.#runtimeError);
    return new Error(
      `The connection to ${this.#url} was lost without a close frame (1006)${
        detail ? `: ${detail}` : ""
      }`,
      { cause: this.#runtimeError ?? e },
    );
  }

  send(frame: Frame, written?: Written): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== 1) {
      throw new Error(`Cannot send frame as the WebSocket to ${this.#url} is no longer open`);
    }
    if (frame.type === "text") ws.send(frame.data);
    else if (frame.type === "binary") ws.send(frame.data);
    else {throw new UnsupportedError(
        `Cannot send a ${frame.type} frame as the web transport has no API for it`,
      );}
    written?.();
  }

  pause(): boolean {
    return false;
  }

  resume(): void {}

  close(code: number, reason: string): void {
    this.#ended = true;
    const ws = this.#ws;
    if (ws === undefined || ws.readyState >= 2) return;
    try {
      ws.close(code, reason);
    } catch {
      ws.close();
    }
    this.#armCloseTimer();
  }

  release(): void {
    this.#ended = true;
    const ws = this.#ws;
    if (ws === undefined || ws.readyState >= 2) return;
    // The web API cannot drop a socket without a close frame; close is the closest it has.
    try {
      ws.close();
    } catch { /* already closing */ }
    this.#armCloseTimer();
  }

  /** The runtime finishes the close handshake; do not wait past closeTimeout for it. */
  #armCloseTimer(): void {
    // Bun fires "close" inside ws.close(): then there is nothing left to wait for.
    if (this.#isDone || this.#closeTimeout === Infinity) return;
    this.#timer = setTimeout(() => this.#settleDone(), this.#closeTimeout);
  }

  /** Reports the error to the client, once; nothing is reported after it. */
  #reportError(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#events.error(error);
  }

  #settleDone(): void {
    this.#isDone = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolveDone();
  }
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
