// The ceiling on Bun: `Bun.connect` (Bun's own sockets; its node:net copies what it buffers on
// each write while backed up) carrying the same messages with no WebSocket framing (see
// bench/raw_framing.ts): in echo mode a pure byte stream cut by the known message size, in the
// floods a 5-byte header. Messages sent in one turn of the event loop go out together: runs of
// small ones joined into one write, large ones written as they are; what the kernel does not take
// waits, as views, for `drain`.

import { nextWrite, RawExchange } from "../raw_framing.ts";
import type { Connect } from "./connect.ts";

// The parts of Bun's API used here (Deno type-checks this file and has no Bun types).
interface BunSocket {
  write(data: Uint8Array): number;
  shutdown(halfClose?: boolean): void;
  setNoDelay(noDelay?: boolean): boolean;
}
interface BunApi {
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: {
      data(socket: BunSocket, chunk: Uint8Array): void;
      drain(socket: BunSocket): void;
      end?(socket: BunSocket): void;
      error(socket: BunSocket, error: Error): void;
      close(socket: BunSocket, error?: Error): void;
    };
  }): Promise<BunSocket>;
}

/** A raw TCP client over Bun.connect. */
export const rawBun: Connect = async (url, handlers) => {
  const bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const { hostname, port } = new URL(url);
  let closing = false;
  let closed!: () => void;
  const done = new Promise<void>((resolve) => closed = resolve);
  /** What the kernel has not taken yet (views, in order). */
  const backlog: Uint8Array[] = [];
  /** Called once the backlog is empty (for `close`). */
  let drained = () => {};
  const pump = () => {
    while (backlog.length > 0) {
      const head = backlog[0];
      const written = Math.max(0, socket.write(head));
      if (written < head.length) {
        backlog[0] = head.subarray(written);
        return;
      }
      backlog.shift();
    }
    drained();
  };
  const socket = await bun.connect({
    hostname,
    port: Number(port),
    allowHalfOpen: true,
    socket: {
      data: (_, chunk) => exchange.receive(chunk),
      drain: pump,
      error(_, error) {
        if (!closing) handlers.onError(error);
      },
      close(_, error) {
        closed();
        if (!closing) handlers.onError(error ?? new Error("closed by the server"));
      },
    },
  });
  socket.setNoDelay(true);
  const pending: Uint8Array[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const idle = backlog.length === 0;
    while (pending.length > 0) backlog.push(nextWrite(pending));
    if (idle) pump();
  };
  const queue = (bytes: Uint8Array) => {
    if (pending.push(bytes) === 1) queueMicrotask(flush);
  };
  const exchange = new RawExchange(
    queue,
    (m) => handlers.onMessage(m),
    (e) => handlers.onError(e),
  );
  return {
    send: (message) => exchange.send(message),
    async close() {
      closing = true;
      // Everything queued goes out before our FIN; the server's FIN then closes the socket.
      if (pending.length > 0) flush();
      while (backlog.length > 0) await new Promise<void>((resolve) => drained = resolve);
      socket.shutdown();
      await done;
    },
  };
};
