// Internal: dialling with node:net / node:tls (Node 22+, Bun for TLS, and Deno for TLS settings
// its own API lacks; plain TCP on Bun goes through _bun_dial.ts). The modules are imported on
// first use, so browsers never load them.

import {
  abortedError,
  type ByteStream,
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";

// Only the parts of node:net and node:tls used here, to keep Node's types out of the library.
interface NodeSocket {
  setNoDelay(noDelay: boolean): unknown;
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  readonly destroyed: boolean;
}
interface NodeNet {
  connect(options: Record<string, unknown>): NodeSocket;
}

let netModule: Promise<NodeNet> | undefined;
let tlsModule: Promise<NodeNet> | undefined;

/**
 * Whether `end()` half-closes the socket. Bun's node:net and node:tls (1.3.14) close the whole
 * connection instead, `allowHalfOpen` or not: "end" fires at once, whatever the server sends
 * after it (its close frame) is lost, and the server's next write is answered with a reset.
 */
const canHalfClose = typeof (globalThis as { Bun?: unknown }).Bun === "undefined";

/** Dials with `node:net`, or `node:tls` for TLS targets. Aborting `signal` destroys the socket. */
export async function nodeDial(
  target: DialTarget,
  events: StreamEvents,
  signal: AbortSignal,
): Promise<ByteStream> {
  const { hostname, port, tls } = target;
  const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  let socket: NodeSocket;
  let ready: string;
  if (tls === undefined) {
    const net = await (netModule ??= import("node:net") as unknown as Promise<NodeNet>);
    if (signal.aborted) throw abortedError();
    // Half-open: after the server's FIN, a close frame we still owe can go out.
    socket = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    ready = "connect";
  } else {
    const mod = await (tlsModule ??= import("node:tls") as unknown as Promise<NodeNet>);
    if (signal.aborted) throw abortedError();
    const isIp = /^[0-9.]+$|:/.test(host);
    socket = mod.connect({
      host,
      port,
      allowHalfOpen: true,
      // SNI carries names, never addresses; node:tls checks the certificate against it.
      servername: tls.serverName ?? (isIp ? undefined : host),
      // Without verification no roots are consulted.
      ca: tls.ca.length > 0 && !tls.insecure ? [...tls.ca, ...defaultRoots(mod)] : undefined,
      cert: tls.cert,
      key: tls.key,
      minVersion: tls.minVersion,
      rejectUnauthorized: !tls.insecure,
      noDelay: true,
    });
    ready = "secureConnect";
  }
  // Until "connect" the TCP connection is being made; then, for TLS, the handshake.
  let step = "the TCP connection";
  socket.once("connect", () => {
    if (tls !== undefined) step = "the TLS handshake";
  });
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      socket.removeAllListeners(ready);
      if (error === undefined) {
        resolve();
        return;
      }
      // Whatever the socket reports while it goes away is already decided.
      socket.on("error", () => {});
      socket.destroy();
      reject(error);
    };
    const onAbort = () => settle(abortedError());
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (error: Error) => settle(stepError(step, error)));
    socket.once(ready, () => settle());
  });
  socket.setNoDelay(true);
  return new NodeStream(socket, events);
}

/**
 * `ca` replaces the default roots in node:tls (Deno's included); ours add to them, so the
 * defaults are passed along. On Deno, reading them needs `--allow-sys`: without it the dial
 * fails with an error that says so, rather than trust fewer roots than asked.
 */
function defaultRoots(mod: unknown): string[] {
  try {
    return [...((mod as { rootCertificates?: readonly string[] }).rootCertificates ?? [])];
  } catch (cause) {
    throw new Error(
      "the TLS settings need Deno's node:tls here (a TLS 1.3 minimum, or a client certificate with a server name), which can add the ca to the default roots only with --allow-sys",
      { cause },
    );
  }
}

/**
 * A node:net or node:tls socket as a byte stream. The socket's write callback says when a chunk
 * was handed to the operating system; the stream asks for it on the last chunk of each batch
 * only, and keeps the batches' end totals in order (callbacks come in the order of the writes).
 */
class NodeStream implements ByteStream {
  #socket: NodeSocket;
  #events: StreamEvents;
  /** The server ended its side (EOF). */
  #peerEnded = false;
  /** `end()` was called on a socket that cannot half-close: our FIN waits for the server's. */
  #endDeferred = false;
  /** Bytes given to the socket so far. */
  #handed = 0;
  /** The totals the batches given to the socket end at, from `#head` on, in order. */
  #batchEnds: number[] = [];
  #head = 0;
  /** The socket's write callback, one for every batch (`#written`, bound once). */
  #onWritten: (error?: Error | null) => void;

  constructor(socket: NodeSocket, events: StreamEvents) {
    this.#socket = socket;
    this.#events = events;
    this.#onWritten = (error) => this.#written(error);
    socket.on("data", (chunk: Uint8Array) => {
      // A plain Uint8Array view: users get no Buffer quirks.
      events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("end", () => {
      this.#peerEnded = true;
      if (this.#endDeferred) socket.end();
      events.end();
    });
    socket.on("error", (error: Error) => events.error(error));
    socket.on("close", () => events.done());
  }

  write(chunks: Uint8Array[]): void {
    const s = this.#socket;
    if (s.destroyed) return;
    const last = chunks.length - 1;
    if (last < 0) return;
    for (const c of chunks) this.#handed += c.length;
    this.#batchEnds.push(this.#handed);
    if (last === 0) {
      s.write(chunks[0], this.#onWritten);
      return;
    }
    s.cork();
    for (let i = 0; i < last; i++) s.write(chunks[i]);
    s.write(chunks[last], this.#onWritten);
    s.uncork();
  }

  /** A batch's last chunk was handed to the operating system (or never will be: `error`). */
  #written(error: Error | null | undefined): void {
    const ends = this.#batchEnds;
    const total = ends[this.#head++];
    if (this.#head === ends.length) {
      ends.length = 0;
      this.#head = 0;
    }
    // A write refused because the socket is gone: its "error" or "close" event tells.
    if (error == null) this.#events.written(total);
  }

  /**
   * Ends our side once everything written is flushed. Where the socket cannot half-close (Bun),
   * ending it would stop reading too, so until the server ends its side our FIN waits: the
   * server's EOF or the transport's close timer then releases the stream.
   */
  end(): void {
    if (canHalfClose || this.#peerEnded) this.#socket.end();
    else this.#endDeferred = true;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }
}
