// A loopback TCP proxy the tests control (node:net, 127.0.0.1, port 0): it forwards bytes
// between a client and a real server, and on command switches one connection, or all of them,
// to a fault:
//
// - `black_hole`: stops forwarding both ways and stops reading both sockets; TCP stays open,
//   nothing is closed (no FIN, no RST): a NAT that forgot the connection, a dead load balancer.
//   (The kernel still ACKs what fits its buffers: the client's writes back up once they are full.)
// - `stop_reading_client`: stops reading what the client sends (its writes back up) while the
//   server's bytes still reach the client.
// - `delay`: adds `ms` of latency each way (bytes keep their order).
// - `reset`: resets both TCP connections at once (RST, `resetAndDestroy`).
// - `cut`: forwards `after` more bytes of the server's stream, then ends both connections (FIN),
//   say in the middle of a frame; what the client sends after that is read and dropped.
// - `drip_upgrade`: the server's response head (the 101, up to its blank line) reaches the client
//   one byte every `every` ms; then bytes flow again. Only as a connection's first fault (a
//   proxy-wide `apply` before the client connects).
// - `forward`: back to forwarding (from `black_hole`, `stop_reading_client` or `delay`).
//
// The control API is method calls in the test's process (the clients under test may run in child
// processes: they only see a TCP port). `await using proxy = await startFaultProxy(server.port)`
// destroys every connection and stops listening at the end of the block.

import * as net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { closedAtEnd } from "./disposable.ts";

/** What the proxy does to a connection's bytes. */
export type Fault =
  | { readonly kind: "forward" }
  | { readonly kind: "black_hole" }
  | { readonly kind: "stop_reading_client" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "reset" }
  | { readonly kind: "cut"; readonly after: number }
  | { readonly kind: "drip_upgrade"; readonly every: number };

/** A direction stops reading from its source while more than this waits to go out (delay). */
const QUEUE_LIMIT = 1024 * 1024;

/** One direction of a proxied connection: reads `from`, writes `to`, in order. */
class Pump {
  /** Bytes forwarded so far. */
  bytes = 0;
  /** When bytes last went out (performance.now()), or -1. */
  lastAt = -1;
  /** The source ended (FIN), and the end went on once the queue was out. */
  ended = false;
  #from: Socket;
  #to: Socket;
  #queue: Array<{ chunk: Uint8Array; due: number }> = [];
  #queued = 0;
  /** Nothing is read or written (black hole, stop reading). */
  #held = false;
  /** What is read is dropped (after a cut). */
  #discard = false;
  #delay = 0;
  /** Bytes left before the cut, or undefined. */
  #cutLeft: number | undefined;
  #onCut: () => void = () => {};
  /** The drip's interval while the response head is still going out, or 0. */
  #drip = 0;
  /** The last four bytes dripped, to find the head's blank line. */
  #tail = 0;
  /** `to` took no more: waiting for its drain. */
  #blocked = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sourceEnded = false;

  constructor(from: Socket, to: Socket) {
    this.#from = from;
    this.#to = to;
    from.on("data", (chunk: Uint8Array) => {
      if (this.#discard) return;
      this.#queue.push({ chunk, due: performance.now() + this.#delay });
      this.#queued += chunk.length;
      this.#pump();
    });
    from.on("end", () => {
      this.#sourceEnded = true;
      this.#pump();
    });
    this.#update();
  }

  hold(): void {
    this.#held = true;
    this.#update();
  }

  /** Forwards again (undoes hold and delay). */
  forward(): void {
    this.#held = false;
    this.#delay = 0;
    this.#pump();
  }

  delay(ms: number): void {
    this.#held = false;
    this.#delay = ms;
    this.#pump();
  }

  cut(after: number, onCut: () => void): void {
    this.#held = false;
    this.#cutLeft = after;
    this.#onCut = onCut;
    this.#pump();
  }

  drip(every: number): void {
    this.#drip = every;
    this.#pump();
  }

  /** Reads and drops everything from now on. */
  discard(): void {
    this.#discard = true;
    this.#held = false;
    this.#queue = [];
    this.#queued = 0;
    clearTimeout(this.#timer);
    this.#update();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Reads from the source only when the bytes can go somewhere. */
  #update(): void {
    const read = this.#discard ||
      (!this.#held && !this.#blocked && this.#queued < QUEUE_LIMIT);
    if (read) this.#from.resume();
    else this.#from.pause();
  }

  #write(bytes: Uint8Array): void {
    if (this.#to.destroyed) return;
    this.bytes += bytes.length;
    this.lastAt = performance.now();
    if (!this.#to.write(bytes)) {
      this.#blocked = true;
      this.#to.once("drain", () => {
        this.#blocked = false;
        this.#pump();
      });
    }
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (!this.#held && !this.#blocked && !this.#discard && this.#queue.length > 0) {
      const head = this.#queue[0];
      const now = performance.now();
      if (head.due > now) {
        this.#timer = setTimeout(() => this.#pump(), head.due - now);
        break;
      }
      let chunk = head.chunk;
      if (this.#drip > 0) {
        // One byte now, the next after `#drip` ms; the blank line ends the head.
        const byte = chunk[0];
        this.#tail = ((this.#tail << 8) | byte) >>> 0;
        this.#take(1);
        this.#write(chunk.subarray(0, 1));
        if (this.#tail === 0x0d0a0d0a) this.#drip = 0;
        else {
          this.#timer = setTimeout(() => this.#pump(), this.#drip);
          break;
        }
        continue;
      }
      if (this.#cutLeft !== undefined) {
        const n = Math.min(this.#cutLeft, chunk.length);
        chunk = chunk.subarray(0, n);
        this.#cutLeft -= n;
        this.#take(n);
        if (n > 0) this.#write(chunk);
        if (this.#cutLeft === 0) {
          this.#cutLeft = undefined;
          this.#onCut();
          return;
        }
        continue;
      }
      this.#take(chunk.length);
      this.#write(chunk);
    }
    if (
      this.#sourceEnded && !this.ended && this.#queue.length === 0 && !this.#held &&
      !this.#discard && this.#cutLeft === undefined
    ) {
      this.ended = true;
      if (!this.#to.destroyed) this.#to.end();
    }
    this.#update();
  }

  /** Takes `n` bytes off the queue's head. */
  #take(n: number): void {
    const head = this.#queue[0];
    this.#queued -= n;
    if (n >= head.chunk.length) this.#queue.shift();
    else head.chunk = head.chunk.subarray(n);
  }
}

/** One client connection and its connection to the server. */
export class ProxiedConnection {
  /** The socket the client connected (the proxy's end of it). */
  readonly client: Socket;
  /** The proxy's connection to the server. */
  readonly server: Socket;
  /** When the client connected (performance.now()). */
  readonly acceptedAt = performance.now();
  /** The fault in force. */
  fault: Fault = { kind: "forward" };
  /** When the fault in force was applied (performance.now()). */
  faultAt = this.acceptedAt;
  /** When the client's socket closed (performance.now()), or undefined. */
  clientClosedAt: number | undefined;
  /** Settles once both sockets are closed. */
  readonly closed: Promise<void>;
  readonly #toClient: Pump;
  readonly #toServer: Pump;

  constructor(client: Socket, server: Socket) {
    this.client = client;
    this.server = server;
    this.#toClient = new Pump(server, client);
    this.#toServer = new Pump(client, server);
    const closing = (socket: Socket) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.once("close", () => resolve());
      });
    const clientClosed = closing(client).then(() => void (this.clientClosedAt = performance.now()));
    this.closed = Promise.all([clientClosed, closing(server)]).then(() => {
      this.#toClient.stop();
      this.#toServer.stop();
    });
    // A reset (or any failure) on one side resets the other. (An end goes on as an end, once
    // what came before it is out: see Pump.)
    for (const [socket, other] of [[client, server], [server, client]] as const) {
      socket.on("error", () => {
        if (!other.destroyed) other.resetAndDestroy();
      });
    }
  }

  /** Bytes forwarded from the server to the client. */
  get bytesToClient(): number {
    return this.#toClient.bytes;
  }

  /** Bytes forwarded from the client to the server. */
  get bytesToServer(): number {
    return this.#toServer.bytes;
  }

  /** When bytes last reached the client (performance.now()), or -1. */
  get lastToClientAt(): number {
    return this.#toClient.lastAt;
  }

  /** Switches this connection to `fault`. */
  apply(fault: Fault): void {
    this.fault = fault;
    this.faultAt = performance.now();
    switch (fault.kind) {
      case "forward":
        this.#toClient.forward();
        this.#toServer.forward();
        break;
      case "black_hole":
        this.#toClient.hold();
        this.#toServer.hold();
        break;
      case "stop_reading_client":
        this.#toServer.hold();
        this.#toClient.forward();
        break;
      case "delay":
        this.#toClient.delay(fault.ms);
        this.#toServer.delay(fault.ms);
        break;
      case "reset":
        this.#toClient.discard();
        this.#toServer.discard();
        if (!this.client.destroyed) this.client.resetAndDestroy();
        if (!this.server.destroyed) this.server.resetAndDestroy();
        break;
      case "cut":
        this.#toServer.forward();
        this.#toClient.cut(fault.after, () => {
          // FIN both ways; whatever either side sends next is read and dropped.
          this.#toClient.discard();
          this.#toServer.discard();
          this.client.end();
          this.server.end();
        });
        break;
      case "drip_upgrade":
        this.#toClient.drip(fault.every);
        break;
    }
  }

  /** Destroys both sockets (a FIN, or a reset where bytes were left unread). */
  destroy(): void {
    this.#toClient.stop();
    this.#toServer.stop();
    this.client.destroy();
    this.server.destroy();
  }
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  readonly port: number;
  /** `ws://127.0.0.1:<proxy port><path>` */
  url(path?: string): string;
  /** Every connection accepted, in order. */
  readonly connections: readonly ProxiedConnection[];
  /** The `n`-th connection (from 0), once the client has made it; fails after `timeout` ms. */
  connection(n: number, timeout?: number): Promise<ProxiedConnection>;
  /** Switches every open connection, and every one accepted from now on, to `fault`. */
  apply(fault: Fault): void;
  /** Destroys every connection (what each side sent and the other did not read is dropped). */
  dropAll(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Starts a proxy to the server at `port` on `hostname` (default 127.0.0.1). */
export async function startFaultProxy(
  port: number,
  hostname = "127.0.0.1",
): Promise<FaultProxy> {
  const connections: ProxiedConnection[] = [];
  const waiters: Array<{ n: number; resolve: (c: ProxiedConnection) => void }> = [];
  let fault: Fault = { kind: "forward" };
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const server = net.connect({ port, host: hostname, allowHalfOpen: true });
    server.pause();
    client.setNoDelay(true);
    server.setNoDelay(true);
    const conn = new ProxiedConnection(client, server);
    connections.push(conn);
    if (fault.kind !== "forward") conn.apply(fault);
    for (const w of waiters.filter((w) => w.n === connections.length - 1)) w.resolve(conn);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", () => resolve()));
  const proxyPort = (listener.address() as AddressInfo).port;
  const dropAll = () => {
    for (const c of connections) c.destroy();
  };
  return closedAtEnd({
    port: proxyPort,
    url: (path = "/") => `ws://127.0.0.1:${proxyPort}${path}`,
    connections,
    connection(n: number, timeout = 10_000) {
      if (connections[n] !== undefined) return Promise.resolve(connections[n]);
      return new Promise<ProxiedConnection>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the proxy saw no connection ${n} within ${timeout} ms`)),
          timeout,
        );
        waiters.push({
          n,
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
        });
      });
    },
    apply(next: Fault) {
      fault = next;
      for (const c of connections) {
        if (!c.client.destroyed) c.apply(next);
      }
    },
    dropAll,
    async close() {
      dropAll();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      await Promise.all(connections.map((c) => c.closed));
    },
  });
}
