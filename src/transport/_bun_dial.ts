// Internal: dialling plain TCP with Bun's own `Bun.connect` (TLS stays on node:tls, see
// _node_dial.ts). Bun's node:net concatenates everything it buffers on each write while the
// socket is backed up, which costs large messages most of their throughput; `Bun.connect` writes
// what the kernel takes and leaves the rest to us, so the rest waits here as views, uncopied.
//
// What Bun 1.3.14's sockets do on closing (checked against a node:net server under Node):
// - With `allowHalfOpen: true`, the server's FIN calls the `end` handler and the socket stays
//   writable: a close frame we still owe goes out, and our FIN after it. Without it Bun closes
//   the socket right after `end`.
// - `shutdown()` sends our FIN (SHUT_WR) and reading goes on; the server's FIN then calls the
//   `close` handler without an error, and `end` is never called.
// - `shutdown(true)` is SHUT_RD, not a half-close: no FIN goes out, our own `end` handler fires
//   at once, and the socket stays open (the process with it) until something closes it.
// - `end()` closes the socket at once (the `close` handler runs before it returns), and so does
//   `terminate()`.
// - A reset arrives as the `close` handler's error argument; the `error` handler is not called.
// - Each `data` chunk is a fresh buffer of its own (a plain Uint8Array with `binaryType:
//   "uint8array"` in the handlers, a Buffer by default).
//
// Known limit: `Bun.connect` cannot be cancelled. An abandoned dial rejects at once and a socket
// that connects later is closed as it opens, but a connect the server never answers (a host
// that drops SYNs) stays pending, and keeps the process alive, until the kernel gives up on it
// (about two minutes on Linux). node:net on Bun closes it at once.

import {
  abortedError,
  type ByteStream,
  coalesce,
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";
import { release } from "../protocol/allocate.ts";

// Only the parts of Bun's socket API used here, to keep Bun's types out of the library.
interface BunSocket {
  readonly data: BunStream;
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  shutdown(halfClose?: boolean): void;
  end(): void;
  setNoDelay(noDelay?: boolean): boolean;
  pause(): void;
  resume(): void;
}
interface BunHandlers {
  /** What `data` is given: a plain Uint8Array rather than Bun's default Buffer. */
  readonly binaryType: "uint8array";
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  error(socket: BunSocket, error: Error): void;
  close(socket: BunSocket, error?: Error): void;
}
interface BunApi {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    data: BunStream;
    socket: BunHandlers;
  }): Promise<BunSocket>;
}

/**
 * Whether `Bun.connect` dials this target: plain TCP on Bun (TLS stays on node:tls, and so does
 * a dial through a proxy, whose CONNECT exchange runs before the stream takes the socket).
 */
export function bunCanDial(target: DialTarget): boolean {
  const bun = (globalThis as { Bun?: { connect?: unknown } }).Bun;
  return target.tls === undefined && target.proxy === undefined &&
    typeof bun?.connect === "function";
}

/**
 * Dials plain TCP with `Bun.connect`. `Bun.connect` takes no signal: once `signal` aborts the
 * dial rejects at once, and a socket that connects after that is closed as it opens.
 */
export function bunDial(
  target: DialTarget,
  events: StreamEvents,
  signal: AbortSignal,
): Promise<ByteStream> {
  if (signal.aborted) return Promise.reject(abortedError());
  const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const hostname = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname;
  const stream = new BunStream(events);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stream.abandon();
      reject(abortedError());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    let connecting: Promise<BunSocket>;
    try {
      // Half-open: after the server's FIN, a close frame we still owe can go out.
      connecting = bun.connect({
        hostname,
        port: target.port,
        allowHalfOpen: true,
        data: stream,
        socket: BunStream.handlers,
      });
    } catch (error) {
      signal.removeEventListener("abort", onAbort);
      reject(connectFailed(error));
      return;
    }
    connecting.then((socket) => {
      signal.removeEventListener("abort", onAbort);
      // Abandoned meanwhile: the socket is closed, and the dial has rejected.
      if (stream.attach(socket)) resolve(stream);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      if (!signal.aborted) reject(connectFailed(error));
    });
  });
}

/** The dial's rejection; Bun's message ("Failed to connect") leaves the reason to its code. */
function connectFailed(cause: unknown): Error {
  const error = stepError("the TCP connection", cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && !error.message.includes(code)) error.message += ` (${code})`;
  return error;
}

class BunStream implements ByteStream {
  /**
   * One set of handlers for every socket; each finds its stream in `socket.data`, so a
   * connection holds no closures of its own.
   */
  static readonly handlers: BunHandlers = {
    binaryType: "uint8array",
    open(socket) {
      const stream = socket.data;
      if (stream.#abandoned) {
        socket.end();
        return;
      }
      stream.#socket = socket;
      // Frames go out as they are written, not after the server's delayed ACK.
      socket.setNoDelay(true);
      if (stream.#paused) socket.pause();
    },
    data(socket, chunk) {
      const stream = socket.data;
      if (stream.#closed) return;
      // Bun gives each chunk its own buffer, so it is the transport's to keep. It is a plain
      // Uint8Array (`binaryType`), so users get no Buffer quirks, without the `.buffer` view the
      // default Buffer chunk needed (a few µs per chunk: the getter makes its ArrayBuffer); a
      // Bun that ignores `binaryType` gets that view.
      stream.#events.data(
        chunk.constructor === Uint8Array
          ? chunk
          : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    },
    drain(socket) {
      socket.data.#flush();
    },
    end(socket) {
      const stream = socket.data;
      if (stream.#closed) return;
      stream.#peerEnded = true;
      // Our FIN was held back only by unwritten bytes: the flush sends it when they are out.
      stream.#events.end();
    },
    error(socket, error) {
      const stream = socket.data;
      if (stream.#closed) return;
      stream.#events.error(error);
      stream.destroy();
    },
    close(socket, error) {
      const stream = socket.data;
      if (stream.#abandoned || stream.#closed && stream.#reported) return;
      const byUs = stream.#closed;
      stream.#dropUnwritten();
      if (!byUs) {
        if (error !== undefined) stream.#events.error(error);
        // After our FIN, Bun reports the server's as `close` alone: it is still the end.
        else if (!stream.#peerEnded) {
          stream.#peerEnded = true;
          stream.#events.end();
        }
      }
      stream.#reported = true;
      stream.#events.done();
    },
  };

  #events: StreamEvents;
  #socket: BunSocket | undefined;
  /** Bytes the kernel has not taken yet, in order; the first from `#offset` on. */
  #queue: Uint8Array[] = [];
  #offset = 0;
  /** Bytes the kernel has taken so far. */
  #written = 0;
  /** Reading is paused (`pause()`). */
  #paused = false;
  /** `end()` was called: our FIN goes out once the queue is written. */
  #ending = false;
  /** Our FIN went out. */
  #finSent = false;
  /** The server's FIN arrived. */
  #peerEnded = false;
  /** The stream is released (the socket closed, or being closed by us). */
  #closed = false;
  /** `done` was reported. */
  #reported = false;
  /** The dial was given up: nothing is reported, and the socket is closed as it opens. */
  #abandoned = false;

  constructor(events: StreamEvents) {
    this.#events = events;
  }

  /** Takes the connected socket; false (and closes it) if the dial was given up. */
  attach(socket: BunSocket): boolean {
    if (this.#abandoned) {
      socket.end();
      return false;
    }
    if (this.#socket === undefined) BunStream.handlers.open(socket);
    return true;
  }

  /** Gives up the dial: the socket, if it opens, is closed at once. */
  abandon(): void {
    this.#abandoned = true;
    this.#closed = true;
    this.#socket?.end();
  }

  write(chunks: Uint8Array[]): void {
    if (this.#closed || this.#ending) return;
    const backedUp = this.#queue.length > 0;
    let i = 0;
    while (i < chunks.length) {
      // A run of small chunks becomes one buffer (one syscall); a large chunk goes as it is.
      const { bytes, end } = coalesce(chunks, i);
      // Frames copied together are handed back at once (see `release`), the others once written.
      if (bytes !== chunks[i]) { for (let j = i; j < end; j++) release(chunks[j]); }
      i = end;
      if (bytes.length === 0) continue;
      this.#queue.push(bytes);
    }
    // While backed up, `drain` continues the flush.
    if (!backedUp) this.#flush();
  }

  /** Writes queued bytes until the kernel takes no more; sends our FIN once all are out. */
  #flush(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#closed) return;
    const queue = this.#queue;
    let taken = 0;
    let i = 0;
    while (i < queue.length) {
      const chunk = queue[i];
      const left = chunk.length - this.#offset;
      const n = socket.write(chunk, this.#offset, left);
      if (n < 0) break; // Closed: the close handler reports it.
      taken += n;
      if (n < left) {
        this.#offset += n;
        break;
      }
      this.#offset = 0;
      release(chunk);
      i++;
    }
    if (i > 0) queue.splice(0, i);
    if (taken > 0) {
      this.#written += taken;
      this.#events.written(this.#written);
    }
    // (written may have closed the stream.)
    if (this.#queue.length === 0 && this.#ending && !this.#finSent && !this.#closed) {
      this.#sendFin();
    }
  }

  #sendFin(): void {
    this.#finSent = true;
    // Both sides done: close. Otherwise half-close, and the server's FIN closes the socket.
    if (this.#peerEnded) this.#socket!.end();
    else this.#socket!.shutdown();
  }

  pause(): boolean {
    this.#paused = true;
    this.#socket?.pause();
    return true;
  }

  resume(): void {
    this.#paused = false;
    this.#socket?.resume();
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (this.#queue.length === 0 && this.#socket !== undefined) this.#sendFin();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#dropUnwritten();
    // The close handler runs within `end()` and reports `done`.
    this.#socket?.end();
  }

  /** Drops what is unwritten. */
  #dropUnwritten(): void {
    this.#closed = true;
    this.#queue = [];
    this.#offset = 0;
  }
}
