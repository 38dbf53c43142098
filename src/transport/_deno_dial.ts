// Internal: dialling with Deno.connect / Deno.connectTls. Used on Deno unless the TLS settings
// ask for what Deno's own TLS cannot do (a server name other than the host, a TLS 1.3 minimum,
// no verification): those go through node:tls, which Deno also provides.

import { type ByteStream, type DialTarget, stepError, type StreamEvents } from "./_stream.ts";

const READ_SIZE = 64 * 1024;

/** Whether Deno's own API can honour these TLS settings. */
export function denoCanDial(target: DialTarget): boolean {
  const tls = target.tls;
  return tls === undefined ||
    (tls.serverName === undefined && tls.minVersion === "TLSv1.2" && !tls.insecure);
}

/** Dials with `Deno.connect`, then TLS with `Deno.startTls` or `Deno.connectTls`. */
export async function denoDial(target: DialTarget, events: StreamEvents): Promise<ByteStream> {
  const { hostname, port, tls } = target;
  let conn: Deno.Conn;
  if (tls === undefined) {
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (error) {
      throw stepError("the TCP connection", error);
    }
  } else {
    let tlsConn: Deno.TlsConn;
    try {
      const options = { hostname, port, caCerts: tls.ca.length > 0 ? [...tls.ca] : undefined };
      tlsConn = tls.cert !== undefined && tls.key !== undefined
        ? await Deno.connectTls({ ...options, cert: tls.cert, key: tls.key })
        : await Deno.connectTls(options);
    } catch (error) {
      throw stepError("the TCP connection", error);
    }
    try {
      // Certificate problems surface here rather than on the first read.
      await tlsConn.handshake();
    } catch (error) {
      try {
        tlsConn.close();
      } catch { /* already closed */ }
      throw stepError("the TLS handshake", error);
    }
    conn = tlsConn;
  }
  return new DenoStream(conn, events);
}

class DenoStream implements ByteStream {
  #conn: Deno.Conn;
  #events: StreamEvents;
  #queue: Uint8Array[] = [];
  #writing = false;
  #ending = false;
  #closed = false;
  #reading = true;
  #readLoop: Promise<void>;

  constructor(conn: Deno.Conn, events: StreamEvents) {
    this.#conn = conn;
    this.#events = events;
    this.#readLoop = this.#read();
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        // One exact-size copy per read: the decoder may keep views into it.
        this.#events.data(buffer.slice(0, n));
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
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batch = this.#queue;
        this.#queue = [];
        let bytes: Uint8Array;
        if (batch.length === 1) bytes = batch[0];
        else {
          let size = 0;
          for (const c of batch) size += c.length;
          bytes = new Uint8Array(size);
          let at = 0;
          for (const c of batch) {
            bytes.set(c, at);
            at += c.length;
          }
        }
        let at = 0;
        while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
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
      (this.#conn as Deno.TcpConn).closeWrite();
    } catch { /* TLS without half-close: the peer's EOF or the close timer ends it */ }
  }

  end(): void {
    if (this.#ending || this.#closed) return;
    this.#ending = true;
    if (!this.#writing) this.#flush();
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    // Report once the pending read has settled, so no operation outlives the stream.
    this.#readLoop.then(() => this.#events.closed());
  }
}
