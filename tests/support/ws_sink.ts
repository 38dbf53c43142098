// A ws:// or wss:// server on Deno.listen / Deno.listenTls (127.0.0.1, port 0) that reads only
// when the test says so: it answers the upgrade and then issues no read until asked, so TCP's
// window fills and the client is held back; and it writes what the test gives it, each write
// awaited, so what it has written is what TCP took. (node:tls on Deno keeps reading from the
// socket while a TLSSocket is paused, so the raw server's TLS mode cannot hold a client back; and
// node:net on Deno's write() may take more than TCP does.) It counts the bytes that arrive after
// the upgrade request; it does not parse them.

import { response101 } from "./raw_ws_server.ts";
import type { KeyPair } from "./certs.ts";
import { closedAtEnd } from "./disposable.ts";

const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** One accepted connection. */
export class SinkConnection {
  readonly conn: Deno.Conn;
  /** Bytes received after the upgrade request. */
  received = 0;
  /** The client ended or dropped the connection (EOF or an error on read). */
  ended = false;
  #reading: Promise<void> | undefined;
  #buffer = new Uint8Array(64 * 1024);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Reads once (up to 64 KiB) unless a read is under way. */
  readSome(): void {
    if (this.#reading !== undefined || this.ended) return;
    this.#reading = this.#read().finally(() => (this.#reading = undefined));
  }

  /** Reads everything from now on; resolves once the client ended the connection. */
  async readAll(): Promise<void> {
    for (;;) {
      if (this.ended) return;
      if (this.#reading !== undefined) await this.#reading;
      else await (this.#reading = this.#read().finally(() => (this.#reading = undefined)));
    }
  }

  async #read(): Promise<void> {
    try {
      const n = await this.conn.read(this.#buffer);
      if (n === null) this.ended = true;
      else this.received += n;
    } catch {
      this.ended = true;
    }
    if (this.ended) this.#close();
  }

  /** Writes all of `bytes`; resolves once they are handed to the operating system. */
  async write(bytes: Uint8Array): Promise<void> {
    while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  /** Closes the connection; with bytes unread, the kernel answers the client with a reset. */
  close(): void {
    this.ended = true;
    this.#close();
  }

  #close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** A running sink; `await using` closes it. */
export interface WsSink extends AsyncDisposable {
  readonly url: string;
  /** The first connection, once its upgrade was answered. */
  connection(): Promise<SinkConnection>;
  close(): Promise<void>;
}

/** Starts the sink: ws://, or wss:// with the server's certificate `tls`. */
export function startWsSink(tls?: KeyPair): WsSink {
  const listener: Deno.Listener = tls === undefined
    ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
    : Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: tls.cert, key: tls.key });
  const connections: SinkConnection[] = [];
  const first = (async () => {
    const conn = await listener.accept();
    if (tls === undefined) (conn as Deno.TcpConn).setNoDelay(true);
    const sink = new SinkConnection(conn);
    connections.push(sink);
    // The request head, then the 101; whatever came after the head counts as received.
    let head = "";
    const buffer = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("the client left before its upgrade request");
      head += latin1.decode(buffer.subarray(0, n));
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) continue;
      sink.received += head.length - end - 4;
      break;
    }
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
    await sink.write(encoder.encode(response101({ text: head, line: "", headers: {}, key })));
    return sink;
  })();
  first.catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return closedAtEnd({
    url: `${tls === undefined ? "ws" : "wss"}://127.0.0.1:${port}/ws`,
    connection: () => first,
    close: async () => {
      listener.close();
      for (const c of connections) c.close();
      await first.catch(() => {});
    },
  });
}
