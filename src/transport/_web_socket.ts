// Internal: the web transport's channel over the runtime's `WebSocket` (Deno, Node 22+, Bun,
// browsers). It cannot pause reading: the web-standard `WebSocket` delivers every message as it
// arrives.

import type { ChannelEnd, ChannelEvents, ChannelParams, WebChannel } from "./_web_channel.ts";
import type { Written } from "./transport.ts";

/** The runtime's `WebSocket` constructor, with the `headers` init Deno, Node and Bun take. */
export type WebSocketConstructor = new (
  url: string,
  init?: string[] | { protocols?: string[]; headers?: Record<string, string> },
) => WebSocket;

/** The runtime's `WebSocket`, if it has one. */
export function webSocketConstructor(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/**
 * A channel over a `WebSocket`. Throws what the runtime's constructor throws. It is the socket's
 * listener itself (`handleEvent`), for all four events: no closure per connection.
 */
export class SocketChannel implements WebChannel, EventListenerObject {
  #ws: WebSocket;
  #events: ChannelEvents;
  /** What the runtime's `error` event carried: the cause of the error the transport reports. */
  #error: unknown;
  #opened = false;
  /** `closed` was reported. */
  #closed = false;

  constructor(Ctor: WebSocketConstructor, params: ChannelParams, events: ChannelEvents) {
    this.#events = events;
    const protocols = [...params.protocols];
    const ws = params.headers === undefined
      ? new Ctor(params.url, protocols)
      : new Ctor(params.url, { protocols, headers: params.headers });
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("open", this);
    ws.addEventListener("message", this);
    ws.addEventListener("error", this);
    ws.addEventListener("close", this);
  }

  /** The socket's events. */
  handleEvent(e: Event): void {
    switch (e.type) {
      case "message":
        this.#onMessage((e as MessageEvent).data);
        return;
      case "open":
        this.#opened = true;
        this.#events.open(this.#ws.protocol, this.#ws.extensions);
        return;
      case "error":
        this.#error = (e as ErrorEvent).error ?? (e as ErrorEvent).message ?? e;
        // An error before open is a failed handshake, whose close event may never come: Node
        // 22's WebSocket (22.23) fires none and stays CONNECTING. The end is reported now, as
        // the close event would report it (1006); a close event that does follow is ignored.
        if (!this.#opened) {
          this.#reportClosed({ code: 1006, reason: "", clean: false, error: this.#error });
        }
        return;
      case "close": {
        const c = e as CloseEvent;
        this.#reportClosed({
          code: c.code,
          reason: c.reason,
          clean: c.wasClean,
          error: this.#error,
        });
      }
    }
  }

  #reportClosed(end: ChannelEnd): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.closed(end);
  }

  #onMessage(data: unknown): void {
    if (typeof data === "string") this.#events.message(data);
    else if (data instanceof ArrayBuffer) this.#events.message(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) {
      this.#events.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }

  get writable(): boolean {
    return this.#ws.readyState === 1;
  }

  send(data: string | Uint8Array, written?: Written): void {
    try {
      this.#ws.send(data);
    } catch (error) {
      written?.(error instanceof Error ? error : new Error(String(error), { cause: error }));
      return;
    }
    // Handed to the runtime: the web API tells no more.
    written?.();
  }

  close(code?: number, reason?: string): void {
    const ws = this.#ws;
    if (ws.readyState >= 2) return;
    try {
      if (code === undefined) ws.close();
      else ws.close(code, reason);
    } catch {
      // A code or reason the API refuses (it takes 1000 and 3000-4999, and 123 bytes of
      // reason): close without them.
      ws.close();
    }
  }

  pause(): boolean {
    return false;
  }

  resume(): void {}
}
