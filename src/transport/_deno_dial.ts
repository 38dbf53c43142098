// Internal: dialling with Deno.connect, Deno.startTls and Deno.connectTls. Used on Deno unless
// the TLS settings ask for what Deno's own TLS cannot do (a TLS 1.3 minimum, no verification, a
// client certificate with a server name): those go through node:tls, which Deno also provides.
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
  type DialTarget,
  stepError,
  type StreamEvents,
} from "./_stream.ts";

/**
 * Reads go into a buffer that starts small, so an idle connection holds little while its read
 * is pending; it grows fourfold each time a read fills it, up to MAX_READ_SIZE, and shrinks to
 * fit when a read uses less than an eighth of it (traffic that calms down, then idles).
 */
const MIN_READ_SIZE = 512;
const MAX_READ_SIZE = 256 * 1024;

/** The smallest read size, from MIN_READ_SIZE up by doubling, that is at least twice `n`. */
function fitting(n: number): number {
  let size = MIN_READ_SIZE;
  while (size < n * 2) size *= 2;
  return size;
}

/** Whether Deno's own API can honour these TLS settings. */
export function denoCanDial(target: DialTarget): boolean {
  const tls = target.tls;
  if (tls === undefined) return true;
  // Deno.startTls takes a server name; Deno.connectTls (for a client certificate) does not.
  const clientCert = tls.cert !== undefined;
  return tls.minVersion === "TLSv1.2" && !tls.insecure &&
    !(clientCert && tls.serverName !== undefined);
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
  const { port, tls } = target;
  // An IPv6 literal comes bracketed from the URL; Deno's TLS takes it bare (so does its TCP).
  const hostname = target.hostname.startsWith("[") ? target.hostname.slice(1, -1) : target.hostname;
  let conn: Deno.Conn;
  if (tls !== undefined && tls.cert !== undefined && tls.key !== undefined) {
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
    if (tls === undefined) conn = tcp;
    else {
      let tlsConn: Deno.TlsConn;
      try {
        // The server name is sent as SNI and checked against the certificate.
        tlsConn = await Deno.startTls(tcp, {
          hostname: tls.serverName ?? hostname,
          caCerts: caCerts(tls.ca),
        });
      } catch (error) {
        close(tcp);
        throw stepError("the TLS handshake", error);
      }
      conn = await handshake(tlsConn, signal);
    }
  }
  if (signal.aborted) {
    close(conn);
    throw abortedError();
  }
  return new DenoStream(conn, events);
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
async function handshake(conn: Deno.TlsConn, signal: AbortSignal): Promise<Deno.TlsConn> {
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
    throw signal.aborted ? abortedError() : stepError("the TLS handshake", error);
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

  constructor(conn: Deno.Conn, events: StreamEvents) {
    this.#conn = conn;
    this.#events = events;
    this.#readLoop = this.#read();
  }

  async #read(): Promise<void> {
    // The buffer is allocated just before a read, so a paused stream holds none.
    let size = MIN_READ_SIZE;
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
        buffer ??= new Uint8Array(size);
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        if (n * 2 > size) {
          // Mostly full: handed over as it is (the decoder may keep views into it), and a new
          // buffer takes its place, larger if this one was filled.
          const full = buffer;
          buffer = undefined;
          if (n === size && size < MAX_READ_SIZE) size *= 4;
          this.#events.data(full.subarray(0, n));
        } else {
          // Mostly empty: one exact-size copy, and the buffer is read into again.
          this.#events.data(buffer.slice(0, n));
          if (n * 8 < size && size > MIN_READ_SIZE) {
            size = fitting(n);
            buffer = undefined;
          }
        }
      }
    } catch (error) {
      this.#reading = false;
      if (!this.#closed) {
        this.#events.error(error as Error);
        this.destroy();
      }
      return;
    }
    this.#reading = false;
    if (this.#closed) return;
    this.#events.end();
    // Once we have ended too and written everything, nothing is left to wait for.
    if (this.#ending && !this.#writing) this.destroy();
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
        this.#queue.splice(0, end);
        let at = 0;
        while (at < bytes.length) {
          const n = await this.#conn.write(bytes.subarray(at));
          // Counted even if the stream was dropped meanwhile: these bytes are out.
          at += n;
          this.#written += n;
          this.#events.written(this.#written);
          if (this.#closed) break;
        }
      }
    } catch (error) {
      this.#writing = false;
      if (!this.#closed) {
        this.#events.error(error as Error);
        this.destroy();
      }
      return;
    }
    this.#writing = false;
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
