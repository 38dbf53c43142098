// The bench's echo server, run under Bun by bench/run.ts (`bun bench/server.ts`) in a process of
// its own, kept as cheap as it can be so that it bounds the clients as little as possible:
//
// - Bun's native WebSocket server (`Bun.serve`, no compression) for the WebSocket clients. An
//   echo is `ws.send(message)` and nothing else; a text command (bench/session.ts) switches the
//   connection to a flood.
// - A raw TCP server (`Bun.listen`, bench/raw_framing.ts) for the ceiling clients: in echo mode it
//   writes back the bytes it receives as they come, without parsing them; floods are framed.
// - `GET /count` on the WebSocket port: the open connections on each port (the idle scenario
//   checks that all of its connections are open on the server before it measures).
// - A second Bun.serve with permessage-deflate (`perMessageDeflate: true`, Bun's defaults) for the
//   JSON echo with compression: it echoes every message as it came, text as text.
//
// Prints `{"ws": <port>, "tcp": <port>, "deflate": <port>}` once listening and exits when its
// stdin ends.
// BENCH_FULL_CHECK=1 makes the flood sink compare every byte; BENCH_FAULT=drop|corrupt drops or
// alters the 500th echoed WebSocket message, or one chunk of the raw echo after 100,000 bytes
// (to show that the checks fail the bench).

import process from "node:process";
import { concat, ECHO_MODE, frame, FRAMED_MODE, FrameReader } from "./raw_framing.ts";
import { Session, type SessionOptions } from "./session.ts";

// The parts of Bun's API used here (Deno type-checks this file and has no Bun types).
interface BunWebSocket {
  readonly data: { session?: Session };
  send(data: string | Uint8Array, compress?: boolean): number;
  getBufferedAmount(): number;
}
interface BunSocket {
  data: {
    /** 0 until the first byte, then ECHO_MODE or FRAMED_MODE. */
    mode: number;
    /** What the socket has not taken yet, and its length. */
    queue: Uint8Array[];
    queued: number;
    /** Frames sent this turn, written together at its end (framed mode). */
    out: Uint8Array[];
    outBytes: number;
    session?: Session;
    reader?: FrameReader;
  };
  write(data: Uint8Array): number;
  end(): void;
  setNoDelay?(on: boolean): void;
}
interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    fetch(req: Request, server: { upgrade(req: Request, o: { data: unknown }): boolean }):
      | Response
      | undefined;
    websocket: {
      maxPayloadLength: number;
      backpressureLimit: number;
      perMessageDeflate: boolean | { compress: string; decompress: string };
      idleTimeout: number;
      open?(ws: BunWebSocket): void;
      close?(ws: BunWebSocket): void;
      message(ws: BunWebSocket, message: string | Uint8Array): void;
      drain?(ws: BunWebSocket): void;
    };
  }): { port: number };
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      end(s: BunSocket): void;
      close(s: BunSocket): void;
      error?(s: BunSocket, e: Error): void;
    };
  }): { port: number };
}
const Bun = (globalThis as { Bun?: BunApi }).Bun;
if (Bun === undefined) throw new Error("bench/server.ts runs under Bun only");

const fullCheck = process.env.BENCH_FULL_CHECK === "1";
const fault = process.env.BENCH_FAULT;
const options: SessionOptions = {
  fullCheck,
  fault: fault === "drop" || fault === "corrupt" ? fault : undefined,
};

/** Open connections on each port, for the idle scenarios (`GET /count`). */
const open = { ws: 0, tcp: 0, deflate: 0 };
let dropped = false;

const ws = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, server) {
    if (new URL(req.url).pathname === "/count") return Response.json(open);
    if (server.upgrade(req, { data: {} })) return undefined;
    return new Response("a WebSocket echo server", { status: 426 });
  },
  websocket: {
    // The largest message is 1 MiB.
    maxPayloadLength: 2 * 1024 * 1024,
    // Over this, Bun drops messages instead of queueing them: above any scenario's window
    // (16 MiB of echoes in flight, a 4 MiB flood window).
    backpressureLimit: 256 * 1024 * 1024,
    perMessageDeflate: false,
    idleTimeout: 0,
    open() {
      open.ws++;
    },
    close() {
      open.ws--;
    },
    message(socket, message) {
      // Echo: nothing but the send, until a text command makes a session.
      const session = socket.data.session;
      if (session === undefined && typeof message !== "string" && options.fault === undefined) {
        if (socket.send(message) === 0 && !dropped) {
          dropped = true;
          console.error("bench server: Bun dropped an echo (backpressure limit)");
        }
        return;
      }
      (socket.data.session ??= new Session({
        send: (m) => socket.send(m),
        buffered: () => socket.getBufferedAmount(),
      }, options)).receive(message);
    },
    drain: (socket) => socket.data.session?.drained(),
  },
});

/** The JSON echo with compression: every message back as it came. */
const deflate = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, server) {
    if (server.upgrade(req, { data: {} })) return undefined;
    return new Response("a WebSocket echo server with permessage-deflate", { status: 426 });
  },
  websocket: {
    maxPayloadLength: 2 * 1024 * 1024,
    backpressureLimit: 256 * 1024 * 1024,
    // A compressor and a decompressor of its own per connection: context takeover both ways,
    // as npm:ws and Python's websockets agree by default.
    perMessageDeflate: { compress: "dedicated", decompress: "dedicated" },
    idleTimeout: 0,
    open() {
      open.deflate++;
    },
    close() {
      open.deflate--;
    },
    message(socket, message) {
      // Bun compresses only what it is asked to.
      if (socket.send(message, true) === 0 && !dropped) {
        dropped = true;
        console.error("bench server: Bun dropped an echo (backpressure limit)");
      }
    },
  },
});

/**
 * Writes what the socket takes and queues the rest, uncopied, until `drain` (each `data` chunk is
 * a fresh buffer of its own in Bun 1.3.14, and the frames sent are never changed).
 */
function rawWrite(socket: BunSocket, bytes: Uint8Array): void {
  const data = socket.data;
  if (data.queue.length > 0) {
    data.queue.push(bytes);
    data.queued += bytes.length;
    return;
  }
  const written = Math.max(0, socket.write(bytes));
  if (written < bytes.length) {
    data.queue.push(bytes.subarray(written));
    data.queued += bytes.length - written;
  }
}

/** Frames below this size sent in one turn are joined into one write; larger ones go at once. */
const JOIN_BELOW = 64 * 1024;

/** Writes the frames a framed session sent this turn. */
function flushFramed(socket: BunSocket): void {
  const data = socket.data;
  if (data.out.length === 0) return;
  const joined = concat(data.out);
  data.out = [];
  data.outBytes = 0;
  rawWrite(socket, joined);
}

/** Bytes echoed on the raw port, for the injected fault. */
let rawEchoed = 0;
const RAW_FAULT_AT = 100_000;

/** The raw port's echo: the bytes as they came (the fault drops or inverts one chunk). */
function rawEcho(socket: BunSocket, chunk: Uint8Array): void {
  if (options.fault !== undefined && rawEchoed < RAW_FAULT_AT) {
    rawEchoed += chunk.length;
    if (rawEchoed >= RAW_FAULT_AT) {
      if (options.fault === "drop") return;
      chunk = chunk.map((b) => b ^ 0xff);
    }
  }
  rawWrite(socket, chunk);
}

const tcp = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      open.tcp++;
      socket.setNoDelay?.(true);
      socket.data = { mode: 0, queue: [], queued: 0, out: [], outBytes: 0 };
    },
    data(socket, chunk) {
      const data = socket.data;
      if (data.mode === ECHO_MODE) return rawEcho(socket, chunk);
      if (data.mode === 0) {
        // The first byte chooses the mode (bench/raw_framing.ts).
        data.mode = chunk[0];
        chunk = chunk.subarray(1);
        if (data.mode === FRAMED_MODE) {
          const session = new Session({
            send: (m) => {
              const bytes = frame(m);
              if (bytes.length >= JOIN_BELOW) {
                // Large: written at once, in order (the stream's high-water mark then sees the
                // socket's real backlog).
                flushFramed(socket);
                rawWrite(socket, bytes);
                return bytes.length;
              }
              // Small: one write per turn, not one per message (as Bun.serve's WebSocket corks).
              if (data.out.push(bytes) === 1) queueMicrotask(() => flushFramed(socket));
              data.outBytes += bytes.length;
              return bytes.length;
            },
            buffered: () => data.queued + data.outBytes,
          }, options);
          data.reader = new FrameReader((m) => session.receive(m));
          data.session = session;
        } else if (data.mode !== ECHO_MODE) {
          console.error(`bench server: unknown raw mode ${data.mode}`);
          return socket.end();
        }
        if (chunk.length === 0) return;
        if (data.mode === ECHO_MODE) return rawEcho(socket, chunk);
      }
      data.reader!.push(chunk);
    },
    drain(socket) {
      const data = socket.data;
      const queue = data.queue;
      while (queue.length > 0) {
        const head = queue[0];
        const written = Math.max(0, socket.write(head));
        data.queued -= written;
        if (written < head.length) {
          queue[0] = head.subarray(written);
          return;
        }
        queue.shift();
      }
      data.session?.drained();
    },
    end: (socket) => socket.end(),
    close() {
      open.tcp--;
    },
    error: () => {},
  },
});

console.log(JSON.stringify({ ws: ws.port, tcp: tcp.port, deflate: deflate.port }));
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
