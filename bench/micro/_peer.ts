// The TCP peer of the stream micro-benchmarks, run under Bun in a process of its own
// (`bun bench/micro/_peer.ts`): on 127.0.0.1, a sink that reads and discards everything, and a
// source that writes to each connection as fast as it takes (1 MiB buffers, drained) until it
// closes. Prints `{"sink": N, "source": M}` (the ports) once listening; exits when its stdin
// ends.

import process from "node:process";

interface BunSocket {
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  setNoDelay?(on: boolean): void;
  data: { offset: number; closed: boolean };
}
interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open?(socket: BunSocket): void;
      data(): void;
      drain?(socket: BunSocket): void;
      close?(socket: BunSocket): void;
      error?(): void;
    };
  }): { port: number };
}
const Bun = (globalThis as { Bun?: BunApi }).Bun;
if (Bun === undefined) throw new Error("bench/micro/_peer.ts runs under Bun only");

const sink = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { open: (s) => s.setNoDelay?.(true), data() {}, error() {} },
});

const block = new Uint8Array(1024 * 1024).fill(0x5a);
/** Writes until the kernel takes no more; `drain` goes on. */
function pump(socket: BunSocket): void {
  const state = socket.data;
  while (!state.closed) {
    const n = socket.write(block, state.offset, block.length - state.offset);
    if (n <= 0) return;
    state.offset = (state.offset + n) % block.length;
    if (state.offset !== 0) return;
  }
}
const source = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      socket.setNoDelay?.(true);
      socket.data = { offset: 0, closed: false };
      pump(socket);
    },
    data() {},
    drain: pump,
    close(socket) {
      socket.data.closed = true;
    },
    error() {},
  },
});
console.log(JSON.stringify({ sink: sink.port, source: source.port }));
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
