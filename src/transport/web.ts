/**
 * The web transport: the runtime's own `WebSocket` (Deno, Node 22+, Bun, browsers).
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import type { Frame } from "../vocabulary/frame.ts";
import type { Connector, ConnectParams, Transport, TransportEvents } from "./transport.ts";

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
  #ended = false;
  #finished = false;
  #error: unknown;
  #closeTimeout: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #resolveDone!: () => void;
  readonly done: Promise<void>;

  constructor(params: ConnectParams, events: TransportEvents) {
    this.#events = events;
    this.#url = params.url.href;
    this.#closeTimeout = params.closeTimeout;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    const Ctor = (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
    if (Ctor === undefined) {
      this.#fail(new UnsupportedError("Cannot connect as this runtime has no global WebSocket"));
      this.#finish();
      return;
    }
    const protocols = [...params.subprotocols];
    let ws: WebSocket;
    try {
      if (params.headers.length > 0) {
        const headers: Record<string, string> = {};
        for (const [k, v] of params.headers) {
          headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
        }
        ws = new Ctor(this.#url, { protocols, headers });
      } else {
        ws = new Ctor(this.#url, protocols);
      }
    } catch (cause) {
      this.#fail(
        new HandshakeError(`Cannot connect to ${this.#url} as the runtime's WebSocket refused it`, {
          cause,
        }),
      );
      this.#finish();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      this.#opened = true;
      if (!this.#ended) {
        this.#events.opened({
          url: this.#url,
          protocol: ws.protocol,
          extensions: ws.extensions,
          status: 101,
          headers: undefined,
        });
      }
    };
    ws.onmessage = (e: MessageEvent) => {
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
    };
    ws.onerror = (e: Event) => {
      this.#error = (e as ErrorEvent).error ?? (e as ErrorEvent).message ?? e;
    };
    ws.onclose = (e: CloseEvent) => {
      if (!this.#ended) {
        if (!this.#opened) {
          const detail = errorText(this.#error);
          this.#fail(
            new HandshakeError(
              `Cannot connect to ${this.#url} as the WebSocket handshake failed${
                detail ? `: ${detail}` : ""
              }`,
              { cause: this.#error ?? e, status: statusIn(detail) },
            ),
          );
        } else if (e.code === 1006 || (!e.wasClean && this.#error !== undefined)) {
          const detail = errorText(this.#error);
          this.#fail(
            new Error(
              `The connection to ${this.#url} was lost without a close frame (1006)${
                detail ? `: ${detail}` : ""
              }`,
              { cause: this.#error ?? e },
            ),
          );
        } else {
          this.#ended = true;
          this.#events.remoteClose(e.code, e.reason);
        }
      }
      this.#finish();
    };
  }

  send(frame: Frame): void {
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== 1) {
      throw new Error(`Cannot send frame as the WebSocket to ${this.#url} is no longer open`);
    }
    if (frame.type === "text") ws.send(frame.data);
    else if (frame.type === "binary") ws.send(frame.data);
    else {throw new UnsupportedError(
        `Cannot send a ${frame.type} frame as the web transport has no API for it`,
      );}
  }

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

  abort(): void {
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
    if (this.#finished || this.#closeTimeout === Infinity) return;
    this.#timer = setTimeout(() => this.#finish(), this.#closeTimeout);
  }

  #fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#events.failed(error);
  }

  #finish(): void {
    this.#finished = true;
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
