// Micro-benchmark of the socket transport's byte streams reading, against an older src/ (see
// bench/micro/_harness.ts), in the runtime that runs it, over that runtime's own stream:
// Deno.connect (DenoStream), Bun.connect (BunStream) or node:net (NodeStream).
//
//   mkdir -p /tmp/base && git archive <rev> src mod.ts | tar -x -C /tmp/base
//   deno run -A bench/micro/stream_read.ts --baseline=/tmp/base [--mb=64] [--rounds=15]
//   node bench/micro/stream_read.ts --baseline=/tmp/base ...   bun bench/micro/stream_read.ts ...
//
// The peer (bench/micro/_peer.ts, under Bun in a process of its own) writes to each connection
// as fast as it takes. Each variant keeps one connection, paused while the other variant runs;
// a round resumes it and reads `--mb` MB (the chunks are counted, not kept). The clock is the
// process's CPU time (the read syscalls included; --clock=wall: the time elapsed), reported per MB
// read.

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
const rounds = Number(option("rounds", "15"));
const perRound = Number(option("mb", "64")) * 1e6;

const root = fileURLToPath(new URL("../../", import.meta.url));
const peer = spawn(`${root}.tools/node_modules/.bin/bun`, [`${root}bench/micro/_peer.ts`], {
  stdio: ["pipe", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve, reject) => {
  let text = "";
  peer.stdout!.on("data", (chunk: Uint8Array) => {
    text += new TextDecoder().decode(chunk);
    if (text.includes("\n")) resolve(JSON.parse(text.split("\n")[0]).source);
  });
  peer.on("error", reject);
});

/** A connected, paused stream, and a way to read a number of bytes from it. */
async function open(dial: Dial) {
  let received = 0;
  let chunks = 0;
  let waiting: { total: number; resolve: () => void } | undefined;
  const events: StreamEvents = {
    data(chunk) {
      received += chunk.length;
      chunks++;
      if (waiting !== undefined && received >= waiting.total) {
        const { resolve } = waiting;
        waiting = undefined;
        resolve();
      }
    },
    written() {},
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
  if (!stream.pause()) throw new Error("this stream cannot pause");
  return {
    stream,
    get chunks() {
      return chunks;
    },
    /** Resumes, reads `bytes` more, pauses again. */
    async read(bytes: number): Promise<void> {
      const done = new Promise<void>((resolve) => (waiting = { total: received + bytes, resolve }));
      stream.resume();
      await done;
      stream.pause();
    },
  };
}

/** Milliseconds: the process's CPU time, or with --clock=wall the time elapsed. */
const wall = option("clock", "cpu") === "wall";
const cpu = wall ? () => performance.now() : () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

console.log(`${runtimeName()}: ${impls.map((i) => i.name).join(" vs ")}`);
try {
  const conns = [];
  for (const impl of impls) conns.push(await open(impl.dial));
  for (const c of conns) await c.read(perRound / 4);
  const times: number[][] = impls.map(() => []);
  const chunkCounts = impls.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < impls.length; j++) {
      const k = (j + r) % impls.length;
      const n0 = conns[k].chunks;
      const c0 = cpu();
      await conns[k].read(perRound);
      times[k].push((cpu() - c0) / (perRound / 1e6));
      chunkCounts[k] += conns[k].chunks - n0;
    }
  }
  for (const c of conns) c.stream.destroy();
  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * p)];
  const results: Measured[] = impls.map((impl, k) => {
    const ratios = times[k].map((t, r) => times[0][r] / t);
    return {
      name: `${impl.name} (${Math.round(perRound * rounds / chunkCounts[k] / 1024)} KiB/chunk)`,
      // ms per MB, given to the harness's printer as nanoseconds per operation.
      median: q(times[k], 0.5) * 1e6,
      p10: q(times[k], 0.1) * 1e6,
      p90: q(times[k], 0.9) * 1e6,
      speedup: q(ratios, 0.5),
      speedupP10: q(ratios, 0.1),
      speedupP90: q(ratios, 0.9),
    };
  });
  print(`reading a flood, ${wall ? "wall time" : "CPU"} per MB read`, results);
} finally {
  peer.stdin!.end();
}
process.exit(0);
