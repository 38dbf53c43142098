// Micro-benchmark of the socket transport's byte streams writing frames, against an older src/
// (see bench/micro/_harness.ts), in the runtime that runs it, over that runtime's own stream:
// Deno.connect (DenoStream), Bun.connect (BunStream) or node:net (NodeStream).
//
//   mkdir -p /tmp/base && git archive <rev> src mod.ts | tar -x -C /tmp/base
//   deno run -A bench/micro/stream_write.ts --baseline=/tmp/base [--sizes=1024,16384]
//   node bench/micro/stream_write.ts --baseline=/tmp/base ...   bun bench/micro/stream_write.ts ...
//
// Each operation is a batch of `--batch` frames of one size (default 16, as the transport hands a
// burst of frames to its stream) given to `ByteStream.write` at once, and awaited until the stream
// reports every byte written (its `written` event). The peer is a TCP sink under Bun in a process
// of its own (bench/micro/_peer.ts) that reads and discards. The clock is the process's CPU time
// (the write syscalls included; --clock=wall: the time elapsed), reported per MB written; rounds
// alternate old and new.

import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { baselineSrc, type Measured, option, print, runtimeName } from "./_harness.ts";
import type { ByteStream, DialTarget, StreamEvents } from "../../src/transport/_stream.ts";

type Dial = (target: DialTarget, events: StreamEvents, signal: AbortSignal) => Promise<ByteStream>;

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "node";

async function dialerOf(src: string): Promise<Dial> {
  if (runtime === "deno") return (await import(`${src}transport/_deno_dial.ts`)).denoDial;
  if (runtime === "bun") return (await import(`${src}transport/_bun_dial.ts`)).bunDial;
  return (await import(`${src}transport/_node_dial.ts`)).nodeDial;
}

const here = new URL("../../src/", import.meta.url).href;
const base = baselineSrc();
const impls = base === undefined
  ? [{ name: "new", dial: await dialerOf(here) }]
  : [{ name: "old", dial: await dialerOf(base) }, { name: "new", dial: await dialerOf(here) }];
const KiB = 1024;
const sizes = option("sizes", `${KiB},${4 * KiB},${16 * KiB},${64 * KiB},${KiB * KiB}`).split(",")
  .map(Number);
const batch = Number(option("batch", "16"));
const rounds = Number(option("rounds", "15"));
/** Bytes each variant writes per round. */
const perRound = Number(option("mb", "32")) * 1e6;

const root = fileURLToPath(new URL("../../", import.meta.url));
const peer = spawn(`${root}.tools/node_modules/.bin/bun`, [`${root}bench/micro/_peer.ts`], {
  stdio: ["pipe", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve, reject) => {
  let text = "";
  peer.stdout!.on("data", (chunk: Uint8Array) => {
    text += new TextDecoder().decode(chunk);
    if (text.includes("\n")) resolve(JSON.parse(text.split("\n")[0]).sink);
  });
  peer.on("error", reject);
});

/** A connected stream and a way to wait until it has written a total. */
async function open(dial: Dial) {
  let written = 0;
  let waiting: { total: number; resolve: () => void } | undefined;
  const events: StreamEvents = {
    data() {},
    written(total) {
      written = total;
      if (waiting !== undefined && total >= waiting.total) {
        const { resolve } = waiting;
        waiting = undefined;
        resolve();
      }
    },
    end() {},
    error(error) {
      throw error;
    },
    done() {},
  };
  const stream = await dial(
    { hostname: "127.0.0.1", port, tls: undefined },
    events,
    new AbortController().signal,
  );
  let handed = 0;
  return {
    stream,
    /** Writes `chunks` and resolves once all of them are written. */
    write(chunks: Uint8Array[]): Promise<void> {
      for (const c of chunks) handed += c.length;
      stream.write(chunks);
      if (written >= handed) return Promise.resolve();
      return new Promise((resolve) => (waiting = { total: handed, resolve }));
    },
  };
}

/** Milliseconds: the process's CPU time, or with --clock=wall the time elapsed. */
const wall = option("clock", "cpu") === "wall";
const cpu = wall ? () => performance.now() : () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

console.log(`${runtimeName()}: ${impls.map((i) => i.name).join(" vs ")}, batches of ${batch}`);
try {
  for (const size of sizes) {
    // Frames as the encoder makes them; the streams never change what they are given.
    const frames = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(size).fill(i));
    const conns = await Promise.all(impls.map((impl) => open(impl.dial)));
    const pool = frames(batch * 4);
    const run = async (k: number, bytes: number) => {
      const c0 = cpu();
      let at = 0;
      for (let sent = 0; sent < bytes; sent += size * batch) {
        await conns[k].write(pool.slice(at, at + batch));
        at = (at + batch) % pool.length;
      }
      return (cpu() - c0) / (bytes / 1e6);
    };
    for (let k = 0; k < impls.length; k++) await run(k, perRound / 4);
    const times: number[][] = impls.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < impls.length; j++) {
        const k = (j + r) % impls.length;
        times[k].push(await run(k, perRound));
      }
    }
    for (const c of conns) c.stream.destroy();
    const q = (xs: number[], p: number) =>
      [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * p)];
    const results: Measured[] = impls.map((impl, k) => {
      const ratios = times[k].map((t, r) => times[0][r] / t);
      return {
        name: impl.name,
        // ms per MB, printed by the harness as if ns per operation: scaled to read as µs/MB.
        median: q(times[k], 0.5) * 1e6,
        p10: q(times[k], 0.1) * 1e6,
        p90: q(times[k], 0.9) * 1e6,
        speedup: q(ratios, 0.5),
        speedupP10: q(ratios, 0.1),
        speedupP90: q(ratios, 0.9),
      };
    });
    print(`${size}-byte frames, ${wall ? "wall time" : "CPU"} per MB written`, results);
  }
} finally {
  peer.stdin!.end();
}
process.exit(0);
