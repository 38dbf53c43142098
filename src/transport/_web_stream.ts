// Internal: the web transport's channel over the runtime's `WebSocketStream` (Chromium; Deno
// with --unstable-net). Messages are read from its readable one at a time, so `pause()` stops
// reading and the runtime stops reading the socket: the server is slowed by TCP itself.
// `written` hears when the writer's write promise settles.

import type { ChannelEvents, ChannelParams, WebChannel } from "./_web_channel.ts";
import type { Written } from "./transport.ts";

/** A message either way (binary ones are read as Uint8Array on Deno, ArrayBuffer in Chromium). */
type Chunk = string | Uint8Array | ArrayBuffer;

/** The opened connection, as `WebSocketStream.opened` resolves it. */
interface Opened {
  readonly readable: ReadableStream<Chunk>;
  readonly writable: WritableStream<string | Uint8Array>;
  readonly protocol?: string;
  readonly extensions?: string;
}

/** How a `WebSocketStream` closed (`closed` resolves with it, or rejects with a WebSocketError). */
interface CloseInfo {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** The part of `WebSocketStream` this channel uses. */
interface WebSocketStreamLike {
  readonly opened: Promise<Opened>;
  readonly closed: Promise<CloseInfo>;
  close(info?: CloseInfo): void;
}

/** The constructor of the runtime's `WebSocketStream` (`headers` is Deno's own). */
export type WebSocketStreamConstructor = new (
  url: string,
  options?: { protocols?: string[]; headers?: Record<string, string> },
) => WebSocketStreamLike;

/** The runtime's `WebSocketStream`, if it has one. */
export function webSocketStreamConstructor(): WebSocketStreamConstructor | undefined {
  const Ctor = (globalThis as { WebSocketStream?: WebSocketStreamConstructor }).WebSocketStream;
  return typeof Ctor === "function" ? Ctor : undefined;
}

const CONNECTING = 0;
const OPEN = 1;
/** Our close started, or the server's close was read. */
const CLOSING = 2;
/** `closed` was reported. */
const CLOSED = 3;

/** A channel over a `WebSocketStream`. Throws what the runtime's constructor throws. */
export class StreamChannel implements WebChannel {
  #wss: WebSocketStreamLike;
  #events: ChannelEvents;
  #state = CONNECTING;
  #reader: ReadableStreamDefaultReader<Chunk> | undefined;
  #writer: WritableStreamDefaultWriter<string | Uint8Array> | undefined;
  #paused = false;
  #reading = false;
  /** The end is being collected (`closed` awaited): reported once. */
  #ending = false;

  constructor(Ctor: WebSocketStreamConstructor, params: ChannelParams, events: ChannelEvents) {
    this.#events = events;
    const wss = new Ctor(params.url, {
      protocols: [...params.protocols],
      ...(params.headers === undefined ? {} : { headers: params.headers }),
    });
    this.#wss = wss;
    // Read when the end is collected (#end); never left unhandled.
    wss.closed.catch(() => {});
    wss.opened.then((opened) => this.#onOpened(opened), (error) => this.#end(error));
  }

  #onOpened(opened: Opened): void {
    this.#reader = opened.readable.getReader();
    const writer = opened.writable.getWriter();
    this.#writer = writer;
    writer.closed.catch(() => {});
    // Closed while connecting: the runtime finishes that; nothing is reported but the end.
    if (this.#state !== CONNECTING) {
      this.#read();
      return;
    }
    this.#state = OPEN;
    this.#events.open(opened.protocol ?? "", opened.extensions ?? "");
    this.#read();
  }

  /** Reads messages until paused or the readable ends. */
  async #read(): Promise<void> {
    const reader = this.#reader;
    if (this.#reading || reader === undefined) return;
    this.#reading = true;
    try {
      while (!this.#paused) {
        const { done, value } = await reader.read();
        if (done) {
          this.#end(undefined);
          return;
        }
        this.#events.message(
          typeof value === "string" || value instanceof Uint8Array ? value : new Uint8Array(value),
        );
      }
    } catch (error) {
      this.#end(error);
    } finally {
      this.#reading = false;
    }
  }

  /** The readable ended (or the handshake failed): reports how, from `closed`. */
  #end(readError: unknown): void {
    if (this.#ending) return;
    this.#ending = true;
    if (this.#state < CLOSING) this.#state = CLOSING;
    this.#wss.closed.then(
      (info) => this.#report(info?.closeCode ?? 1005, info?.reason ?? "", true, readError),
      (error: unknown) => {
        // A WebSocketError. With a close code other than 1006 the server's close frame did
        // arrive: Chromium rejects `closed` with it when a write raced that close (about one
        // close in twenty with a reply in flight; the bytes on the wire were a clean close, and
        // its WebSocket reports one). The server's close came first: that is the end.
        const e = error as CloseInfo | undefined;
        const code = e?.closeCode ?? 1006;
        this.#report(code, e?.reason ?? "", code !== 1006, error);
      },
    );
  }

  #report(code: number, reason: string, clean: boolean, error: unknown): void {
    this.#state = CLOSED;
    this.#events.closed({ code, reason, clean, error });
  }

  get writable(): boolean {
    return this.#state === OPEN;
  }

  send(data: string | Uint8Array, written?: Written): void {
    // Writes queue inside the writer: the bytes are read later, so the caller's buffer is copied.
    const chunk = typeof data === "string" ? data : data.slice();
    const writing = this.#writer!.write(chunk);
    if (written === undefined) writing.catch(() => {});
    else {
      writing.then(
        () => written(),
        (error: unknown) =>
          written(error instanceof Error ? error : new Error(String(error), { cause: error })),
      );
    }
  }

  close(code?: number, reason?: string): void {
    if (this.#state >= CLOSING) return;
    this.#state = CLOSING;
    try {
      this.#wss.close(code === undefined ? undefined : { closeCode: code, reason });
    } catch {
      // A code or reason the API refuses: close without them.
      this.#wss.close();
    }
    // Read on to the end, so the runtime takes the server's close; what arrives now is dropped.
    this.#paused = false;
    this.#read();
  }

  pause(): boolean {
    this.#paused = true;
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#read();
  }
}
