// Internal: dialling with Deno.connect, Deno.startTls and Deno.connectTls. Used on Deno unless
// the TLS settings ask for what Deno's own TLS cannot do (a TLS 1.3 minimum, no verification, a
// client certificate with a server name): those go through node:tls, which Deno also provides.
// Through a proxy: Deno.connect to the proxy, Deno.startTls to an https: proxy, the CONNECT
// exchange (_tunnel.ts), then Deno.startTls to the server over the tunnel for wss:. TLS inside
// TLS (wss: through an https: proxy) and a client certificate through a tunnel go through
// node:tls: Deno.startTls takes a TCP connection only, and Deno.connectTls dials by itself.
//
// Known limits (Deno 2.9): a TlsConn closed while its handshake is pending rejects the handshake
// but keeps the TCP connection open until the server closes it, so an attempt abandoned during
// a TLS handshake the server never answers (a connect timeout) holds a socket that long. node:tls
// on Deno closes it at once. And `Deno.connectTls`, used only to present a client certificate,
// has no way to set TCP_NODELAY: on that path Nagle's algorithm stays on.

import {
  abortedError,
  type ByteStream,
  coalesce,
  type DialProxy,
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";
import type { ResolvedTls } from "./tls.ts";
import { release } from "../protocol/allocate.ts";
import { proxyStep, Tunnel, TunnelError } from "./_tunnel.ts";

/**
 * Reads go into a buffer that starts small, so an idle connection holds little while its read
 * is pending; it grows fourfold each time a read fills it, up to MAX_READ_SIZE, and shrinks to
 * fit when a read uses less than an eighth of it (traffic that calms down, then idles).
 */
const MIN_READ_SIZE = 256;
const MAX_READ_SIZE = 256 * 1024;

/**
 * A large message's remaining bytes are read straight into its buffer (`StreamEvents.readInto`)
 * when at least this many remain; fewer go through the read buffer, with the next frame's.
 */
const MIN_INTO = 16 * 1024;

/** The smallest read size, from MIN_READ_SIZE up by doubling, that is at least twice `n`. */
function fitting(n: number): number {
  let size = MIN_READ_SIZE;
  while (size < n * 2) size *= 2;
  return size;
}

/** Whether Deno's own API can honour these TLS settings (and the proxy's). */
export function denoCanDial(target: DialTarget): boolean {
  const { tls, proxy } = target;
  if (proxy !== undefined) {
    // Deno.startTls wraps TCP connections only, so not TLS to the server inside TLS to the
    // proxy; and Deno.connectTls (for a client certificate) cannot go through a tunnel.
    if (proxy.tls !== undefined && (tls !== undefined || !denoTlsCan(proxy.tls))) return false;
    if (tls?.cert !== undefined) return false;
  }
  return tls === undefined || denoTlsCan(tls);
}

function denoTlsCan(tls: ResolvedTls): boolean {
  // Deno.startTls takes a server name; Deno.connectTls (for a client certificate) does not.
  const clientCert = tls.cert !== undefined;
  return tls.minVersion === "TLSv1.2" && !tls.insecure &&
    !(clientCert && tls.serverName !== undefined);
}

/** A host as Deno's TCP and TLS take it: an IPv6 literal without the URL's brackets. */
function bare(hostname: string): string {
  return hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
}

/**
 * Dials with `Deno.connect`, then TLS with `Deno.startTls`; with a client certificate (which
 * `Deno.startTls` cannot present) with `Deno.connectTls`. Aborting `signal` closes what is open.
 */
export async function denoDial(
  target: DialTarget,
  events: StreamEvents,
  signal: AbortSignal,
): Promise<ByteStream> {
  const { port, tls, proxy } = target;
  // An IPv6 literal comes bracketed from the URL; Deno's TLS takes it bare (so does its TCP).
  const hostname = bare(target.hostname);
  let conn: Deno.Conn;
  if (proxy !== undefined) conn = await dialThrough(proxy, target, signal);
  else if (tls !== undefined && tls.cert !== undefined && tls.key !== undefined) {
    const options = { hostname, port, caCerts: caCerts(tls.ca), cert: tls.cert, key: tls.key };
    let tlsConn: Deno.TlsConn;
    try {
      tlsConn = await unlessAborted(Deno.connectTls(options), signal);
    } catch (error) {
      throw signal.aborted ? abortedError() : stepError("the TCP connection", error);
    }
    conn = await handshake(tlsConn, signal);
  } else {
    let tcp: Deno.TcpConn;
    try {
      tcp = await Deno.connect({ hostname, port, signal });
    } catch (error) {
      throw signal.aborted ? abortedError() : stepError("the TCP connection", error);
    }
    // Frames go out as they are written: without TCP_NODELAY (Deno.connect leaves it off) a
    // write made while an earlier one is unacknowledged waits for the server's delayed ACK,
    // about 40 ms.
    tcp.setNoDelay(true);
    conn = tls === undefined
      ? tcp
      : await startTls(tcp, tls, hostname, "the TLS handshake", signal);
  }
  if (signal.aborted) {
    close(conn);
    throw abortedError();
  }
  return new DenoStream(conn, events);
}

/**
 * Dials `proxy`, opens a tunnel through it to `target` and, for wss:, starts TLS to the server
 * in it. Errors name the proxy for each step on the way to it.
 */
async function dialThrough(
  proxy: DialProxy,
  target: DialTarget,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  let tcp: Deno.TcpConn;
  try {
    tcp = await Deno.connect({ hostname: bare(proxy.hostname), port: proxy.port, signal });
  } catch (error) {
    throw signal.aborted ? abortedError() : stepError(proxyStep("tcp", proxy), error);
  }
  tcp.setNoDelay(true);
  const toProxy = proxy.tls === undefined
    ? tcp
    : await startTls(tcp, proxy.tls, bare(proxy.hostname), proxyStep("tls", proxy), signal);
  const tunnel = new Tunnel(target, proxy);
  const rest = await exchange(toProxy, tunnel, signal);
  if (target.tls === undefined) {
    return rest.length === 0 ? toProxy : new PrefixedConn(toProxy, rest) as unknown as Deno.Conn;
  }
  if (rest.length > 0) {
    close(toProxy);
    throw tunnel.earlyBytes(rest.length);
  }
  // denoCanDial leaves TLS inside TLS to node:tls: this is the TCP connection to the proxy.
  return await startTls(tcp, target.tls, bare(target.hostname), "the TLS handshake", signal);
}

/**
 * Writes the CONNECT request and reads the proxy's answer; returns what came after it. Closes
 * the connection when it fails or `signal` aborts.
 */
async function exchange(conn: Deno.Conn, tunnel: Tunnel, signal: AbortSignal): Promise<Uint8Array> {
  if (signal.aborted) {
    close(conn);
    throw abortedError();
  }
  // Closing the connection ends a read or write the proxy never answers.
  const onAbort = () => close(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const request = tunnel.request;
    for (let at = 0; at < request.length;) at += await conn.write(request.subarray(at));
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      const rest = n === null ? tunnel.end() : tunnel.push(buffer.subarray(0, n));
      if (rest !== undefined) return rest;
    }
  } catch (error) {
    close(conn);
    if (signal.aborted) throw abortedError();
    throw error instanceof TunnelError ? error : tunnel.ioError(error);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Starts TLS on `tcp` for `hostname` (unless `tls` names the server) and runs the handshake. */
async function startTls(
  tcp: Deno.TcpConn,
  tls: ResolvedTls,
  hostname: string,
  step: string,
  signal: AbortSignal,
): Promise<Deno.TlsConn> {
  let tlsConn: Deno.TlsConn;
  try {
    // The server name is sent as SNI and checked against the certificate.
    tlsConn = await Deno.startTls(tcp, {
      hostname: tls.serverName ?? hostname,
      caCerts: caCerts(tls.ca),
    });
  } catch (error) {
    close(tcp);
    throw stepError(step, error);
  }
  return await handshake(tlsConn, signal, step);
}

/**
 * A connection whose first reads return bytes read from it before (what a proxy passed on
 * after its answer to CONNECT). It has what DenoStream uses of a Deno.Conn: read, write,
 * close and closeWrite.
 */
class PrefixedConn {
  #conn: Deno.Conn;
  #prefix: Uint8Array | undefined;

  constructor(conn: Deno.Conn, prefix: Uint8Array) {
    this.#conn = conn;
    this.#prefix = prefix;
  }

  read(p: Uint8Array): Promise<number | null> {
    const prefix = this.#prefix;
    if (prefix === undefined) return this.#conn.read(p);
    const n = Math.min(p.length, prefix.length);
    p.set(prefix.subarray(0, n));
    this.#prefix = n < prefix.length ? prefix.subarray(n) : undefined;
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  close(): void {
    this.#conn.close();
  }

  closeWrite(): Promise<void> {
    return (this.#conn as Deno.TcpConn).closeWrite();
  }
}

function caCerts(ca: readonly string[]): string[] | undefined {
  return ca.length > 0 ? [...ca] : undefined;
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Runs the TLS handshake, so certificate problems surface here rather than on the first read. */
async function handshake(
  conn: Deno.TlsConn,
  signal: AbortSignal,
  step = "the TLS handshake",
): Promise<Deno.TlsConn> {
  if (signal.aborted) {
    close(conn);
    throw abortedError();
  }
  // Closing the connection ends a handshake the server never answers.
  const onAbort = () => close(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.handshake();
  } catch (error) {
    close(conn);
    throw signal.aborted ? abortedError() : stepError(step, error);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return conn;
}

/**
 * `connecting`, or a rejection as soon as `signal` aborts (`Deno.connectTls` takes no signal): a
 * connection that arrives after the abort is closed at once.
 */
function unlessAborted(
  connecting: Promise<Deno.TlsConn>,
  signal: AbortSignal,
): Promise<Deno.TlsConn> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    connecting.then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) close(conn);
      else resolve(conn);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/** A settled promise, shared. */
const SETTLED = Promise.resolve();

/**
 * A `Deno.Conn` as a byte stream. One read is pending at a time, except while paused: then none
 * is issued, and no read buffer is held. Writes go out one `conn.write` at a time, and each one
 * that resolves reports the new total of bytes written.
 */
class DenoStream implements ByteStream {
  #conn: Deno.Conn;
  #events: StreamEvents;
  #queue: Uint8Array[] = [];
  /** Bytes the operating system has taken so far. */
  #written = 0;
  #writing = false;
  /** The write loop under way (`#flush`), if any. */
  #writeLoop: Promise<void> = SETTLED;
  #ending = false;
  #closed = false;
  #reading = true;
  #readLoop: Promise<void>;
  #paused = false;
  /** Wakes the read loop that waits while paused. */
  #wakeReader: (() => void) | undefined;
  /** The size of the next read buffer: see MIN_READ_SIZE. */
  #readSize = MIN_READ_SIZE;
  /** A large message's buffer the read under way fills (see `#readsInto`). */
  #into: Uint8Array | undefined;

  constructor(conn: Deno.Conn, events: StreamEvents) {
    this.#conn = conn;
    this.#events = events;
    this.#readLoop = this.#read();
  }

  async #read(): Promise<void> {
    // The buffer is allocated just before a read, so a paused stream holds none. What a read
    // brought is handed on by `#deliver`, outside this loop: a suspended async function keeps
    // all of its locals, and an idle connection would keep its last chunk alive with them.
    let buffer: Uint8Array | undefined;
    try {
      for (;;) {
        if (this.#paused) {
          buffer = undefined;
          await new Promise<void>((resolve) => (this.#wakeReader = resolve));
          this.#wakeReader = undefined;
          if (this.#closed) break;
          continue;
        }
        // A large message's remaining bytes go straight into its own buffer.
        if (this.#readsInto()) {
          const n = await this.#conn.read(this.#into!);
          if (n === null) break;
          this.#deliverInto(n);
          continue;
        }
        buffer ??= new Uint8Array(this.#readSize);
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        buffer = this.#deliver(buffer, n);
      }
    } catch (error) {
      this.#reading = false;
      this.#into = undefined;
      if (!this.#closed) {
        this.#events.error(error as Error);
        this.destroy();
      }
      return;
    }
    this.#reading = false;
    this.#into = undefined;
    if (this.#closed) return;
    this.#events.end();
    // Once we have ended too and written everything, nothing is left to wait for.
    if (this.#ending && !this.#writing) this.destroy();
  }

  /** Whether the next read goes into a large message's own buffer (then kept in `#into`). */
  #readsInto(): boolean {
    const into = this.#events.readInto?.();
    if (into === undefined || into.length < MIN_INTO) return false;
    this.#into = into;
    return true;
  }

  /** Hands on the `n` bytes read into `#into`. */
  #deliverInto(n: number): void {
    const into = this.#into!;
    this.#into = undefined;
    this.#events.data(into.subarray(0, n));
  }

  /**
   * Hands on the `n` bytes read into `buffer`; returns the buffer to read into next, or
   * undefined for a new one of `#readSize` bytes.
   */
  #deliver(buffer: Uint8Array, n: number): Uint8Array | undefined {
    const size = buffer.length;
    if (n * 2 > size) {
      // Mostly full: handed over as it is (the decoder may keep views into it), and a new
      // buffer takes its place, larger if this one was filled.
      if (n === size) this.#readSize = Math.min(size * 4, MAX_READ_SIZE);
      this.#events.data(buffer.subarray(0, n));
      return undefined;
    }
    // Mostly empty: one exact-size copy, and the buffer is read into again.
    this.#events.data(buffer.slice(0, n));
    if (n * 8 < size && size > MIN_READ_SIZE) {
      this.#readSize = fitting(n);
      return undefined;
    }
    return buffer;
  }

  write(chunks: Uint8Array[]): void {
    if (this.#closed || this.#ending) return;
    for (const c of chunks) this.#queue.push(c);
    if (!this.#writing) this.#writeLoop = this.#flush();
  }

  pause(): boolean {
    this.#paused = true;
    return true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeReader?.();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        // Runs of small chunks go out as one write; large ones as they are.
        const { bytes, end } = coalesce(this.#queue, 0);
        const taken = this.#queue.splice(0, end);
        // Frames are handed back once their last use is over: copied, or written.
        if (bytes !== taken[0]) { for (const c of taken) release(c); }
        let at = 0;
        while (at < bytes.length) {
          const n = await this.#conn.write(bytes.subarray(at));
          // Counted even if the stream was dropped meanwhile: these bytes are out.
          at += n;
          this.#written += n;
          this.#events.written(this.#written);
          if (this.#closed) break;
        }
        if (at === bytes.length && bytes === taken[0]) release(bytes);
      }
    } catch (error) {
      this.#writing = false;
      this.#writeLoop = SETTLED;
      if (!this.#closed) {
        this.#events.error(error as Error);
        this.destroy();
      }
      return;
    }
    this.#writing = false;
    // This loop's promise is not kept once it is done: an idle stream holds the shared one.
    this.#writeLoop = SETTLED;
    if (!this.#ending || this.#closed) return;
    if (!this.#reading) {
      this.destroy();
      return;
    }
    try {
      // A promise: a failure (the peer already gone) must not become an unhandled rejection.
      (this.#conn as Deno.TcpConn).closeWrite().catch(() => {});
    } catch { /* TLS without half-close: the peer's EOF or the close timer ends it */ }
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) this.#writeLoop = this.#flush();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    // A paused read loop ends now; `done` once the pending read and write (if any) have
    // settled, so no operation outlives the stream, and a write that completed meanwhile is
    // reported before it.
    this.#wakeReader?.();
    Promise.all([this.#readLoop, this.#writeLoop]).then(() => this.#events.done());
  }
}
