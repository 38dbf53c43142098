// The floor for a JavaScript client's connection (bench/micro/connect.ts, case `transport`): one
// WebSocket connection opened and closed over the runtime's own sockets (Deno.connect, Bun's
// Bun.connect, Node's node:net), with nothing but the protocol's steps: a random key, the
// upgrade request, the 101 read and its status and Sec-WebSocket-Accept checked, a masked close
// frame (1000) sent, the server's close frame read, then its FIN, then the socket closed. No
// options, no state machine, no timers, no proxy decision, no heartbeat: what Parley's transport
// costs beyond this is its own.

import { Buffer } from "node:buffer";
import { createHash, randomFillSync } from "node:crypto";
import { connect } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();

// The parts of Bun's API used here (Deno type-checks this file and has no Bun types).
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
}
interface BunApi {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, chunk: Uint8Array): void;
      end(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
      close(socket: BunSocket): void;
    };
  }): Promise<BunSocket>;
}

/**
 * One connection's protocol state: `request` to write first, then whatever arrives is fed to
 * `receive` (or `feed`, for sockets that call back), and `failure` says how it ended.
 */
class Exchange {
  readonly request: Uint8Array;
  #accept: string;
  #head = "";
  #upgraded = false;
  #closed = false;
  #failed: Error | undefined;

  constructor(url: URL) {
    const key = Buffer.from(randomFillSync(new Uint8Array(16))).toString("base64");
    this.#accept = createHash("sha1").update(key + GUID).digest("base64");
    this.request = encoder.encode(
      `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  }

  /**
   * Takes bytes from the server; returns the close frame to send once the 101 is through, and
   * throws for anything but a valid 101. After it, notes the server's close frame (see `failure`).
   */
  receive(chunk: Uint8Array): Uint8Array | undefined {
    if (this.#upgraded) {
      // The server's close frame (opcode 8) is all that comes after the 101 here.
      if (chunk.length > 0 && (chunk[0] & 0x0f) === 8) this.#closed = true;
      return undefined;
    }
    this.#head += String.fromCharCode(...chunk);
    const end = this.#head.indexOf("\r\n\r\n");
    if (end < 0) return undefined;
    const head = this.#head.slice(0, end);
    if (!head.startsWith("HTTP/1.1 101") || !head.includes(this.#accept)) {
      throw new Error(`not a valid upgrade: ${head.slice(0, 40)}`);
    }
    this.#upgraded = true;
    if (this.#head.length > end + 4) {
      this.receive(chunk.subarray(chunk.length - (this.#head.length - end - 4)));
    }
    return closeFrame();
  }

  /**
   * For a socket that calls back with what it reads: `receive`, the close frame written with
   * `write` when it is due; a bad upgrade is recorded (see `failure`) and the socket ended.
   */
  feed(chunk: Uint8Array, write: (bytes: Uint8Array) => unknown, end: () => void): void {
    try {
      const close = this.receive(chunk);
      if (close !== undefined) write(close);
    } catch (error) {
      this.failed(error as Error);
      end();
    }
  }

  /** Records what went wrong (the first thing only). */
  failed(error: Error): void {
    this.#failed ??= error;
  }

  /** Once the socket closed: why the exchange failed, or undefined if it completed. */
  get failure(): Error | undefined {
    return this.#failed ?? (this.#closed ? undefined : new Error("no close frame from the server"));
  }
}

/** Settles a callback socket's cycle once it closed. */
function settle(exchange: Exchange, resolve: () => void, reject: (error: Error) => void): void {
  const failure = exchange.failure;
  if (failure === undefined) resolve();
  else reject(failure);
}

/** A masked close frame with code 1000 and no reason. */
function closeFrame(): Uint8Array {
  const frame = new Uint8Array(8);
  frame[0] = 0x88;
  frame[1] = 0x82;
  randomFillSync(frame.subarray(2, 6));
  frame[6] = 0x03 ^ frame[2];
  frame[7] = 0xe8 ^ frame[3];
  return frame;
}

/** Opens a connection to `url` (ws:) and closes it, over this runtime's own sockets. */
export function minimalCycle(url: URL): Promise<void> {
  const g = globalThis as { Bun?: BunApi; Deno?: typeof Deno };
  if (g.Bun !== undefined) return bunCycle(g.Bun, url);
  if (g.Deno !== undefined) return denoCycle(url);
  return nodeCycle(url);
}

async function denoCycle(url: URL): Promise<void> {
  const exchange = new Exchange(url);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    conn.setNoDelay(true);
    await conn.write(exchange.request);
    const buffer = new Uint8Array(4096);
    let close: Uint8Array | undefined;
    while (close === undefined) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("the server ended the connection first");
      close = exchange.receive(buffer.subarray(0, n));
    }
    await conn.write(close);
    // The server's close frame, then its FIN.
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      exchange.receive(buffer.subarray(0, n));
    }
    const failure = exchange.failure;
    if (failure !== undefined) throw failure;
  } finally {
    conn.close();
  }
}

function bunCycle(bun: BunApi, url: URL): Promise<void> {
  const exchange = new Exchange(url);
  return new Promise((resolve, reject) => {
    bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      allowHalfOpen: true,
      socket: {
        open: (socket) => void socket.write(exchange.request),
        data: (socket, chunk) =>
          exchange.feed(chunk, (bytes) => socket.write(bytes), () => socket.end()),
        // The server's FIN: the close handshake is over.
        end: (socket) => socket.end(),
        error: (_socket, error) => exchange.failed(error),
        close: () => settle(exchange, resolve, reject),
      },
    }).catch(reject);
  });
}

function nodeCycle(url: URL): Promise<void> {
  const exchange = new Exchange(url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      noDelay: true,
      allowHalfOpen: true,
    });
    socket.on("connect", () => socket.write(exchange.request));
    socket.on(
      "data",
      (chunk: Buffer) =>
        exchange.feed(chunk, (bytes) => socket.write(bytes), () => socket.destroy()),
    );
    socket.on("end", () => socket.destroy());
    socket.on("error", (error) => exchange.failed(error));
    socket.on("close", () => settle(exchange, resolve, reject));
  });
}
