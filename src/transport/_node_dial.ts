// Internal: dialling with node:net / node:tls (Node 22+, Bun for TLS and for proxies, and Deno
// for TLS settings its own API lacks, and for TLS inside TLS; plain TCP on Bun goes through
// _bun_dial.ts). The modules are imported on first use, so browsers never load them.

import {
  abortedError,
  type ByteStream,
  type DialProxy,
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";
import type { ResolvedTls } from "./tls.ts";
import { proxyStep, Tunnel } from "./_tunnel.ts";

// Only the parts of node:net and node:tls used here, to keep Node's types out of the library.
interface NodeSocket {
  setNoDelay(noDelay: boolean): unknown;
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  unshift(chunk: Uint8Array): void;
  readonly destroyed: boolean;
  readonly writableLength: number;
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

class NodeStream implements ByteStream {
  #socket: NodeSocket;
  /** The server ended its side (EOF). */
  #peerEnded = false;
  /** The pending wait for "drain", shared by every waiter. */
  #drain: Promise<void> | undefined;
  /** `end()` was called on a socket that cannot half-close: our FIN waits for the server's. */
  #endDeferred = false;

  constructor(socket: NodeSocket, events: StreamEvents) {
    this.#socket = socket;
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
    if (chunks.length === 1) {
      s.write(chunks[0]);
      return;
    }
    s.cork();
    for (const c of chunks) s.write(c);
    s.uncork();
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

  get buffered(): number {
    return this.#socket.destroyed ? 0 : this.#socket.writableLength;
  }

  drained(low: number): Promise<void> {
    const s = this.#socket;
    if (s.destroyed || s.writableLength <= low) return Promise.resolve();
    // "drain" fires once the buffer is empty, "close" when the socket is gone; every waiter
    // shares one pair of listeners.
    return this.#drain ??= new Promise((resolve) => {
      const done = () => {
        s.removeListener("drain", done);
        s.removeListener("close", done);
        this.#drain = undefined;
        resolve();
      };
      s.on("drain", done);
      s.on("close", done);
    });
  }
}
