// A scriptable raw WebSocket server on node:net (127.0.0.1, port 0) for hostile-server tests.
// It answers the upgrade with a correct RFC 6455 101 (or with whatever `respond` scripts), then
// hands the connection to the test: write any bytes (helpers below build server frames with any
// fin/rsv/opcode/mask/length encoding), read the client's frames unmasked, and see when the
// client ends or closes the TCP connection. Sockets are half-open: the server never ends its
// side unless the test says so.

import { createHash } from "node:crypto";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { concat } from "./bytes.ts";
import { closedAtEnd } from "./disposable.ts";

export { concat };

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();

/** The `Sec-WebSocket-Accept` a server answers `key` with (node:crypto, not the library's SHA-1). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** Opcodes, for frame specs. */
export const OP = Object.freeze({
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
});

/** A server frame, valid or not. */
export interface FrameSpec {
  /** The FIN bit. Default true. */
  readonly fin?: boolean;
  /** The three RSV bits as a number 0-7 (RSV1 = 4, RSV2 = 2, RSV3 = 1). Default 0. */
  readonly rsv?: number;
  /** 0-15, valid or not. */
  readonly opcode: number;
  /** The payload; a string is UTF-8 encoded. Default empty. */
  readonly payload?: Uint8Array | string;
  /** Masks the payload (servers must not): `true` for a fixed key, or the 4-byte key. */
  readonly mask?: boolean | Uint8Array;
  /** Forces the length encoding (7-bit, 16-bit or 64-bit); default the shortest. */
  readonly lengthBits?: 7 | 16 | 64;
}

/** Encodes a server frame exactly as specified. */
export function frame(spec: FrameSpec): Uint8Array {
  const payload = typeof spec.payload === "string"
    ? encoder.encode(spec.payload)
    : spec.payload ?? new Uint8Array(0);
  const len = payload.length;
  const bits = spec.lengthBits ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  if (bits === 7 && len > 125) throw new RangeError(`${len} bytes do not fit a 7-bit length`);
  if (bits === 16 && len > 65535) throw new RangeError(`${len} bytes do not fit a 16-bit length`);
  const key = spec.mask === undefined || spec.mask === false
    ? undefined
    : spec.mask === true
    ? new Uint8Array([0x12, 0x34, 0x56, 0x78])
    : spec.mask;
  const headLen = (bits === 7 ? 2 : bits === 16 ? 4 : 10) + (key ? 4 : 0);
  const out = new Uint8Array(headLen + len);
  out[0] = (spec.fin === false ? 0 : 0x80) | ((spec.rsv ?? 0) & 7) << 4 | (spec.opcode & 0x0f);
  const maskBit = key ? 0x80 : 0;
  let at = 2;
  if (bits === 7) out[1] = maskBit | len;
  else if (bits === 16) {
    out[1] = maskBit | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    at = 4;
  } else {
    out[1] = maskBit | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
    at = 10;
  }
  if (key) {
    out.set(key, at);
    at += 4;
    for (let i = 0; i < len; i++) out[at + i] = payload[i] ^ key[i & 3];
  } else out.set(payload, at);
  return out;
}

/** A complete text frame (or a fragment with `fin: false`). */
export function textFrame(data: string | Uint8Array, fin = true): Uint8Array {
  return frame({ opcode: OP.TEXT, payload: data, fin });
}

/** A complete binary frame (or a fragment with `fin: false`). */
export function binaryFrame(data: Uint8Array, fin = true): Uint8Array {
  return frame({ opcode: OP.BINARY, payload: data, fin });
}

/** A continuation frame. */
export function continuationFrame(data: string | Uint8Array, fin = true): Uint8Array {
  return frame({ opcode: OP.CONTINUATION, payload: data, fin });
}

/** A close frame; `reason` bytes are taken as they are (invalid UTF-8 allowed). */
export function closeFrame(code?: number, reason: string | Uint8Array = ""): Uint8Array {
  if (code === undefined) return frame({ opcode: OP.CLOSE });
  const r = typeof reason === "string" ? encoder.encode(reason) : reason;
  const payload = new Uint8Array(2 + r.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(r, 2);
  return frame({ opcode: OP.CLOSE, payload });
}

/** The client's upgrade request. */
export interface RawRequest {
  /** The request head as received (latin1), request line to the empty line included. */
  readonly text: string;
  /** The request line, e.g. `GET /ws HTTP/1.1`. */
  readonly line: string;
  /** Header values by lower-case name (repeated headers joined with ", "). */
  readonly headers: Record<string, string>;
  /** `Sec-WebSocket-Key`, or `""`. */
  readonly key: string;
}

/** A correct 101 response for `request`, with extra headers. */
export function response101(request: RawRequest, headers: Record<string, string> = {}): string {
  let out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(request.key)}\r\n`;
  for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
  return out + "\r\n";
}

/** A frame the client sent, unmasked. */
export interface ClientFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** The mask key, when masked. */
  readonly maskKey: Uint8Array | undefined;
  readonly payload: Uint8Array;
  /** `performance.now()` when its last byte arrived. */
  readonly at: number;
}

/** Notifies waiters whenever something changes. */
class Changes {
  #waiters: Array<() => void> = [];

  notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves with `get()`'s first non-undefined value; rejects after `timeout` ms. */
  async until<T>(get: () => T | undefined, timeout: number, what: string): Promise<T> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const value = get();
      if (value !== undefined) return value;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** One accepted TCP connection. */
export class RawConnection {
  readonly socket: net.Socket;
  /** The upgrade request, once its head arrived. */
  request: RawRequest | undefined;
  /** Frames the client sent after the handshake, in order. */
  readonly frames: ClientFrame[] = [];
  /** Bytes the client sent after its request head that are not (yet) a whole frame. */
  #pending: Uint8Array = new Uint8Array(0);
  #head = "";
  #answered = false;
  #cursor = 0;
  /** When the client ended its side (FIN), if it did. */
  endedAt: number | undefined;
  /** When the TCP connection was fully closed, if it was. */
  closedAt: number | undefined;
  /** A socket error the server saw (e.g. ECONNRESET), if any. */
  error: Error | undefined;
  #changes = new Changes();
  #respond: Responder;

  constructor(
    socket: net.Socket,
    respond: Responder,
    onChange: () => void,
  ) {
    this.socket = socket;
    this.#respond = respond;
    socket.setNoDelay(true);
    const changed = () => {
      this.#changes.notify();
      onChange();
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#receive(new Uint8Array(chunk));
      changed();
    });
    socket.on("end", () => {
      this.endedAt = performance.now();
      changed();
    });
    socket.on("error", (error: Error) => {
      this.error = error;
      changed();
    });
    socket.on("close", () => {
      this.closedAt = performance.now();
      changed();
    });
  }

  #receive(chunk: Uint8Array): void {
    if (this.request === undefined) {
      // Latin1 keeps one character per byte, so indices match the bytes.
      this.#head += new TextDecoder("latin1").decode(chunk);
      const end = this.#head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const text = this.#head.slice(0, end + 4);
      const rest = chunk.subarray(chunk.length - (this.#head.length - text.length));
      const lines = text.slice(0, -4).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      this.request = { text, line: lines[0], headers, key: headers["sec-websocket-key"] ?? "" };
      const answer = this.#respond(this.request, this);
      if (answer !== undefined) {
        this.#answered = true;
        this.socket.write(answer);
      }
      chunk = rest;
    }
    const all = new Uint8Array(this.#pending.length + chunk.length);
    all.set(this.#pending);
    all.set(chunk, this.#pending.length);
    let at = 0;
    for (;;) {
      const f = parseClientFrame(all, at);
      if (f === undefined) break;
      this.frames.push(f.frame);
      at = f.next;
    }
    this.#pending = all.slice(at);
  }

  /** Whether the server answered the upgrade request. */
  get answered(): boolean {
    return this.#answered;
  }

  /** Writes raw bytes; resolves once they are handed to the OS. */
  write(bytes: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error?: Error | null) => error ? reject(error) : resolve());
    });
  }

  /** Writes one frame built from `spec`. */
  send(spec: FrameSpec): Promise<void> {
    return this.write(frame(spec));
  }

  /** Waits for the upgrade request. */
  requested(timeout = 2000): Promise<RawRequest> {
    return this.#changes.until(() => this.request, timeout, "the upgrade request");
  }

  /** Waits for the next client frame after the previous one taken. */
  async nextFrame(timeout = 2000): Promise<ClientFrame> {
    const f = await this.#changes.until(
      () => this.frames[this.#cursor],
      timeout,
      `client frame #${this.#cursor + 1}`,
    );
    this.#cursor++;
    return f;
  }

  /** Waits for the client's close frame; `code` is undefined when it had no payload. */
  async closeFrame(timeout = 2000): Promise<{ code: number | undefined; reason: string }> {
    const f = await this.#changes.until(
      () => this.frames.find((f) => f.opcode === OP.CLOSE),
      timeout,
      "the client's close frame",
    );
    const p = f.payload;
    return {
      code: p.length >= 2 ? (p[0] << 8) | p[1] : undefined,
      reason: new TextDecoder().decode(p.subarray(2)),
    };
  }

  /** Waits until the client ended its side (FIN) or the connection closed; resolves with when. */
  clientEnded(timeout = 2000): Promise<number> {
    return this.#changes.until(
      () => this.endedAt ?? this.closedAt ?? (this.error ? performance.now() : undefined),
      timeout,
      "the client to end the TCP connection",
    );
  }

  /** Waits until the TCP connection is fully closed. */
  closed(timeout = 2000): Promise<number> {
    return this.#changes.until(() => this.closedAt, timeout, "the TCP connection to close");
  }

  /** Ends the server's side (FIN). */
  end(): void {
    this.socket.end();
  }

  /** Drops the connection. */
  destroy(): void {
    this.socket.destroy();
  }
}

function parseClientFrame(
  b: Uint8Array,
  at: number,
): { frame: ClientFrame; next: number } | undefined {
  if (b.length - at < 2) return undefined;
  const b0 = b[at];
  const b1 = b[at + 1];
  let len = b1 & 0x7f;
  let p = at + 2;
  if (len === 126) {
    if (b.length - p < 2) return undefined;
    len = (b[p] << 8) | b[p + 1];
    p += 2;
  } else if (len === 127) {
    if (b.length - p < 8) return undefined;
    len = Number(new DataView(b.buffer, b.byteOffset + p, 8).getBigUint64(0));
    p += 8;
  }
  const masked = (b1 & 0x80) !== 0;
  const key = masked ? b.subarray(p, p + 4) : undefined;
  if (masked) p += 4;
  if (b.length - p < len) return undefined;
  const payload = b.slice(p, p + len);
  if (key) { for (let i = 0; i < len; i++) payload[i] ^= key[i & 3]; }
  return {
    frame: {
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      opcode: b0 & 0x0f,
      masked,
      maskKey: key?.slice(),
      payload,
      at: performance.now(),
    },
    next: p + len,
  };
}

/**
 * What a server answers an upgrade request with: written as it is, or nothing when `undefined`.
 * `connection` is the request's connection, for scripts that carry on after the answer.
 */
export type Responder = (
  request: RawRequest,
  connection: RawConnection,
) => Uint8Array | string | undefined;

/** Options of {@linkcode startRawWsServer}. */
export interface RawWsServerOptions {
  /**
   * The answer to the upgrade request, written as it is: a string or bytes (a scripted
   * handshake response, possibly followed by frames), or `undefined` to never answer. Default:
   * {@linkcode response101} with `headers`. It gets the connection too (see
   * {@linkcode Responder}).
   */
  readonly respond?: Responder;
  /** Extra headers for the default 101 response. */
  readonly headers?: Record<string, string>;
  /** Serves TLS (node:tls) with these options (`cert`, `key`, `requestCert`, ...): `wss:` URLs. */
  readonly tls?: tls.TlsOptions;
}

/** A running raw server; `await using` closes it at the end of the block. */
export interface RawWsServer extends AsyncDisposable {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>`, or `wss:` with the `tls` option. */
  url(path?: string): string;
  /** Every connection accepted, in order. */
  readonly connections: RawConnection[];
  /** Waits for the `n`-th connection (0-based; default the first). */
  connection(n?: number, timeout?: number): Promise<RawConnection>;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a raw WebSocket server on 127.0.0.1, port 0. */
export async function startRawWsServer(options: RawWsServerOptions = {}): Promise<RawWsServer> {
  const respond = options.respond ?? ((r: RawRequest) => response101(r, options.headers));
  const connections: RawConnection[] = [];
  const changes = new Changes();
  const accept = (socket: net.Socket) => {
    connections.push(new RawConnection(socket, respond, () => changes.notify()));
    changes.notify();
  };
  const server: net.Server = options.tls
    ? tls.createServer({ ...options.tls, allowHalfOpen: true }, accept)
    : net.createServer({ allowHalfOpen: true }, accept);
  // A client that gives up during the TLS handshake is not a connection.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return closedAtEnd({
    port,
    url: (path = "/ws") => `${options.tls ? "wss" : "ws"}://127.0.0.1:${port}${path}`,
    connections,
    connection: (n = 0, timeout = 2000) =>
      changes.until(() => connections[n], timeout, `connection #${n + 1}`),
    close: async () => {
      const closing = connections.filter((c) => c.closedAt === undefined).map((c) =>
        new Promise<void>((resolve) => {
          c.socket.once("close", () => resolve());
          c.socket.destroy();
        })
      );
      await Promise.all([
        ...closing,
        new Promise<void>((resolve) => server.close(() => resolve())),
      ]);
    },
  });
}
