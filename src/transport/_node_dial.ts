// Internal: dialling with node:net / node:tls (Node 22+, Bun for TLS and for proxies, and Deno
// for TLS settings its own API lacks, and for TLS inside TLS; plain TCP on Bun goes through
// _bun_dial.ts). The modules are imported on first use, so browsers never load them.

import {
  abortedError,
  type ByteStream,
  coalesce,
  COALESCE_LIMIT,
  type DialProxy,
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";
import { release } from "../protocol/allocate.ts";
import type { ResolvedTls } from "./tls.ts";
import { proxyStep, Tunnel } from "./_tunnel.ts";

// Only the parts of node:net and node:tls used here, to keep Node's types out of the library.
interface NodeSocket {
  setNoDelay(noDelay: boolean): unknown;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  end(): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  unshift(chunk: Uint8Array): void;
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

/**
 * Whether a paused socket stops reading from the network. Deno's node:tls (2.9) reads on into
 * memory while its TLSSocket is paused (its node:net stops), so there the stream cannot pause:
 * on Deno this file serves only TLS settings Deno's own TLS lacks (see _deno_dial.ts).
 */
const canPause = typeof (globalThis as { Deno?: unknown }).Deno === "undefined";

/**
 * Dials with `node:net`, or `node:tls` for TLS targets. Through a proxy: to the proxy (over
 * node:tls for an https: one), the CONNECT exchange, then node:tls over the tunnel for wss:.
 * Aborting `signal` destroys the socket.
 */
export async function nodeDial(
  target: DialTarget,
  events: StreamEvents,
  signal: AbortSignal,
): Promise<ByteStream> {
  const proxy = target.proxy;
  let socket: NodeSocket;
  if (proxy === undefined) {
    socket = await open(target.hostname, target.port, target.tls, undefined, signal);
  } else {
    const toProxy = await open(proxy.hostname, proxy.port, proxy.tls, { proxy }, signal);
    const tunnel = new Tunnel(target, proxy);
    const rest = await exchange(toProxy, tunnel, signal);
    if (target.tls === undefined) {
      socket = toProxy;
      // The tunnel's first bytes, read with the proxy's answer, are read again by the stream.
      if (rest.length > 0) socket.unshift(rest);
    } else {
      if (rest.length > 0) {
        toProxy.destroy();
        throw tunnel.earlyBytes(rest.length);
      }
      try {
        socket = await open(target.hostname, target.port, target.tls, { over: toProxy }, signal);
      } catch (error) {
        toProxy.destroy();
        throw error;
      }
      // TLS inside TLS (an https: proxy) runs over a stream wrapper: release the proxy's socket
      // with the one in its tunnel.
      socket.once("close", () => toProxy.destroy());
    }
  }
  socket.setNoDelay(true);
  const stream = new NodeStream(socket, events);
  // The exchange paused the socket so that nothing after the proxy's answer was read before the
  // stream listened.
  if (proxy !== undefined) socket.resume();
  return stream;
}

/**
 * Connects to `hostname`:`port` with node:net, or node:tls when `tls` is given, and waits until
 * the connection (and the TLS handshake) is done. `via.proxy`: this is the connection to that
 * proxy (the steps name it). `via.over`: TLS over that socket (a tunnel) instead of a new
 * connection.
 */
async function open(
  hostname: string,
  port: number,
  tls: ResolvedTls | undefined,
  via: { proxy?: DialProxy; over?: NodeSocket } | undefined,
  signal: AbortSignal,
): Promise<NodeSocket> {
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
      ...(via?.over === undefined ? { host, port } : { socket: via.over }),
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
  const proxy = via?.proxy;
  const tlsStep = proxy === undefined ? "the TLS handshake" : proxyStep("tls", proxy);
  // Until "connect" the TCP connection is being made; then, for TLS, the handshake.
  let step = via?.over !== undefined
    ? tlsStep
    : proxy === undefined
    ? "the TCP connection"
    : proxyStep("tcp", proxy);
  socket.once("connect", () => {
    if (tls !== undefined) step = tlsStep;
  });
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      signal.removeEventListener("abort", onAbort);
      // Each listener by name: on Node, removeAllListeners here left the socket's table of
      // listeners (a dictionary) at 448 bytes for the connection's life, instead of 256.
      socket.removeListener("error", onError);
      socket.removeListener(ready, onReady);
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
    const onError = (error: Error) => settle(stepError(step, error));
    const onReady = () => settle();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once(ready, onReady);
  });
  return socket;
}

/**
 * Writes the CONNECT request and reads the proxy's answer; resolves with what came after it,
 * leaving the socket paused. Destroys the socket when the exchange fails or `signal` aborts.
 */
function exchange(socket: NodeSocket, tunnel: Tunnel, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | undefined, rest?: Uint8Array) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      socket.removeListener("error", onError);
      if (error === undefined) {
        resolve(rest!);
        return;
      }
      socket.on("error", () => {});
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Uint8Array) => {
      let rest: Uint8Array | undefined;
      try {
        rest = tunnel.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        settle(error as Error);
        return;
      }
      if (rest === undefined) return;
      // Nothing more is read until the stream, or TLS to the server, takes the socket over.
      socket.pause();
      settle(undefined, rest);
    };
    const onEnd = () => {
      try {
        tunnel.end();
      } catch (error) {
        settle(error as Error);
      }
    };
    const onError = (error: Error) => settle(tunnel.ioError(error));
    const onAbort = () => settle(abortedError());
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
    socket.write(tunnel.request);
  });
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

/** Where a socket keeps its stream, for the listeners NodeStream shares (see its constructor). */
const STREAM: unique symbol = Symbol("parley.stream");
type StreamSocket = NodeSocket & { [STREAM]: NodeStream };

/** Chunks under this size that go out together are copied into one buffer first. */
const JOIN_BELOW = 2 * 1024;
/** Chunks from this size on are written alone (the write a callback covers, see NodeStream). */
const ALONE_FROM = 64 * 1024;

/**
 * A node:net or node:tls socket as a byte stream. The socket's write callback says when a write
 * was handed to the operating system, but not how much of it while it is under way; and the
 * socket joins whatever waits behind a slow write into one (`writev`), so one callback would
 * cover every frame queued meanwhile. So the stream gives the socket one write at a time and
 * keeps the rest: then a write that never completes (the stream dropped) holds back what it
 * carries and no more. A write is a large chunk (from ALONE_FROM), or the run of smaller ones
 * that starts the queue, up to COALESCE_LIMIT bytes, as one vectored write (`cork`, `uncork`):
 * the chunks as they are, except runs of tiny ones (under JOIN_BELOW), copied together first,
 * which costs Node less than a vector of them (bench/micro/stream_write.ts).
 */
class NodeStream implements ByteStream {
  #socket: NodeSocket;
  #events: StreamEvents;
  /** The server ended its side (EOF). */
  #peerEnded = false;
  /** `end()` was called: our FIN follows the last write. */
  #ending = false;
  /** Our FIN waits for the server's (the socket cannot half-close, see `end`). */
  #endDeferred = false;
  /** Chunks not given to the socket yet. */
  #queue: Uint8Array[] = [];
  /** The size of the write under way, or -1. */
  #writing = -1;
  /** What the write under way carries, handed back (`release`) once it completed. */
  #pieces: Uint8Array[] | undefined;
  /** Bytes the operating system has taken so far. */
  #written = 0;
  /** The socket's write callback (`#wrote`, bound once). */
  #onWrite: (error?: Error | null) => void;

  constructor(socket: NodeSocket, events: StreamEvents) {
    this.#socket = socket;
    this.#events = events;
    // Bound rather than an arrow function: no context object beside it.
    this.#onWrite = NodeStream.#onWriteOf.bind(this);
    // The listeners are shared by every socket: each finds its stream on the socket it is
    // called on (`this`), so a connection holds no closures for them.
    (socket as StreamSocket)[STREAM] = this;
    socket.on("data", NodeStream.#onData);
    socket.on("end", NodeStream.#onEnd);
    socket.on("error", NodeStream.#onError);
    socket.on("close", NodeStream.#onClose);
  }

  static #onWriteOf(this: NodeStream, error?: Error | null): void {
    this.#wrote(error);
  }

  static #onData(this: StreamSocket, chunk: Uint8Array): void {
    // A plain Uint8Array view: users get no Buffer quirks.
    this[STREAM].#events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  static #onEnd(this: StreamSocket): void {
    const stream = this[STREAM];
    stream.#peerEnded = true;
    if (stream.#endDeferred) this.end();
    stream.#events.end();
  }

  static #onError(this: StreamSocket, error: Error): void {
    this[STREAM].#events.error(error);
  }

  static #onClose(this: StreamSocket): void {
    this[STREAM].#events.done();
  }

  write(chunks: Uint8Array[]): void {
    if (this.#socket.destroyed || this.#ending) return;
    for (const c of chunks) if (c.length > 0) this.#queue.push(c);
    if (this.#writing < 0) this.#next();
  }

  /** Gives the socket the next write, or ends our side once everything is out. */
  #next(): void {
    const queue = this.#queue;
    if (queue.length === 0) {
      if (this.#ending) this.#sendFin();
      return;
    }
    const socket = this.#socket;
    const first = queue[0];
    if (first.length >= ALONE_FROM || queue.length === 1) {
      queue.shift();
      this.#writing = first.length;
      this.#pieces = [first];
      socket.write(first, this.#onWrite);
      return;
    }
    // The pieces of one vectored write (tiny chunks joined).
    const pieces: Uint8Array[] = [];
    let size = 0;
    let at = 0;
    while (at < queue.length) {
      const next = queue[at];
      if (next.length >= ALONE_FROM || size + next.length > COALESCE_LIMIT) break;
      const { bytes, end } = coalesce(queue, at, JOIN_BELOW, COALESCE_LIMIT - size);
      // Frames copied together are handed back at once (see `release`), the others once written.
      if (bytes !== queue[at]) { for (let i = at; i < end; i++) release(queue[i]); }
      pieces.push(bytes);
      size += bytes.length;
      at = end;
    }
    queue.splice(0, at);
    this.#writing = size;
    this.#pieces = pieces;
    const last = pieces.length - 1;
    if (last === 0) {
      socket.write(pieces[0], this.#onWrite);
      return;
    }
    // One callback for the whole write: Node calls every callback of a vectored write at once.
    socket.cork();
    for (let i = 0; i < last; i++) socket.write(pieces[i]);
    socket.write(pieces[last], this.#onWrite);
    socket.uncork();
  }

  #wrote(error: Error | null | undefined): void {
    const size = this.#writing;
    const pieces = this.#pieces;
    this.#writing = -1;
    this.#pieces = undefined;
    // A write refused because the socket is gone: its "error" or "close" event tells. (One
    // that completed is reported even if the stream was dropped meanwhile: its bytes are out.)
    if (error != null) return;
    if (pieces !== undefined) { for (const p of pieces) release(p); }
    this.#written += size;
    this.#events.written(this.#written);
    // (written may have dropped the stream, or started the next write.)
    if (this.#writing < 0 && !this.#socket.destroyed) this.#next();
  }

  /**
   * Ends our side once everything written is flushed. Where the socket cannot half-close (Bun),
   * ending it would stop reading too, so until the server ends its side our FIN waits: the
   * server's EOF or the transport's close timer then releases the stream.
   */
  end(): void {
    if (this.#ending || this.#socket.destroyed) return;
    this.#ending = true;
    if (this.#writing < 0 && this.#queue.length === 0) this.#sendFin();
  }

  #sendFin(): void {
    if (canHalfClose || this.#peerEnded) this.#socket.end();
    else this.#endDeferred = true;
  }

  destroy(): void {
    this.#queue = [];
    this.#socket.destroy();
  }

  pause(): boolean {
    if (!canPause) return false;
    this.#socket.pause();
    return true;
  }

  resume(): void {
    this.#socket.resume();
  }
}
