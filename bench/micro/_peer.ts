// A TCP sink for the stream micro-benchmarks, run under Bun in a process of its own
// (`bun bench/micro/_sink.ts`): it reads and discards everything on 127.0.0.1, prints
// `{"port": N}` once listening, and exits when its stdin ends.

import process from "node:process";

interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open?(socket: { setNoDelay?(on: boolean): void }): void;
      data(): void;
      error?(): void;
    };
  }): { port: number };
}
const Bun = (globalThis as { Bun?: BunApi }).Bun;
if (Bun === undefined) throw new Error("bench/micro/_sink.ts runs under Bun only");

const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: { open: (s) => s.setNoDelay?.(true), data() {}, error() {} },
});
console.log(JSON.stringify({ port: server.port }));
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
