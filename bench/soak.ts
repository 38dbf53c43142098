// One soak process: `<runtime> bench/soak.ts '<json config>'`, started by bench/run.ts (`--soak`,
// and a short one with `--quick`) under Deno, Node or Bun against the bench server
// (bench/server.ts). Parley through its public API (mod.ts) on one transport, for a long time:
//
// - `cycles`: one client disconnects and connects again, `cycles` times (each a close handshake,
//   a new TCP connection and an upgrade);
// - `echoes`: `messages` binary messages echoed on one connection, `window` in flight, each
//   checked (bench/payload.ts);
// - `flood`: the server streams `size`-byte messages as fast as TCP takes them to a handleFrame
//   that awaits `consumeMs` for each, until `messages` arrived; then `stop`, and every message the
//   server sent must have arrived, once and in order.
//
// Memory (heap and RSS, after a collection) is read at the start, after the warm-up and at the
// end of `cycles` and `echoes`; during the flood it is sampled every `sampleMs` and the peak above
// the start is kept. Prints one `@result <json>` line per soak; exits non-zero if one failed.

import process from "node:process";
import { defineClient, type DisconnectReason, type Logger, ok } from "../mod.ts";
import { mismatch, pool, POOL_SIZE } from "./payload.ts";

/** What bench/run.ts passes to a soak process. */
export interface SoakConfig {
  readonly transport: "socket" | "web";
  readonly wsUrl: string;
  readonly cycles: { readonly count: number; readonly warm: number } | undefined;
  readonly echoes:
    | {
      readonly count: number;
      readonly warm: number;
      readonly size: number;
      readonly window: number;
    }
    | undefined;
  readonly flood:
    | {
      readonly messages: number;
      readonly size: number;
      readonly consumeMs: number;
      readonly sampleMs: number;
    }
    | undefined;
  /** The most one soak may take. */
  readonly timeoutMs: number;
}

/** One soak's line. */
export interface SoakLine {
  readonly soak: "cycles" | "echoes" | "flood";
  readonly ok: boolean;
  readonly metrics?: Record<string, number>;
  readonly error?: string;
  readonly ms: number;
}

/** Memory after a collection: `heap` counts the JS heap and array buffers. */
export interface Memory {
  readonly heap: number;
  readonly rss: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Memory after a collection. V8 (Deno, Node) frees the memory of collected array buffers only
 * after the current task, so: collect, let a task pass, collect again, then read; its `heap` is
 * heapUsed + external (array buffers). Bun's heapUsed counts array buffers already.
 */
export async function memory(): Promise<Memory> {
  const g = globalThis as { gc?: () => void; Bun?: { gc(sync: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else {
    g.gc?.();
    await sleep(0);
    g.gc?.();
  }
  const m = process.memoryUsage();
  return { heap: g.Bun ? m.heapUsed : m.heapUsed + m.external, rss: m.rss };
}

interface State {
  /** Called for every text and binary message. */
  onMessage(data: string | Uint8Array): void | Promise<void>;
  /** An unasked disconnect. */
  onLost(reason: DisconnectReason): void;
  /** A disconnect was asked for (cycles). */
  closing: boolean;
}

const Soak = defineClient({
  init: (state: State) => ok(state),
  async handleFrame(frame, state) {
    if (frame.type === "text" || frame.type === "binary") await state.onMessage(frame.data);
    return ok(state);
  },
  handleDisconnect(reason, state) {
    if (!state.closing) state.onLost(reason);
    return ok(state);
  },
});

/**
 * The first failure, which ends every wait. Not a `Promise.race` against one long-lived promise:
 * each race would leave a reaction on it for good (thousands of waits in a soak: a leak of the
 * soak's own making).
 */
function failure() {
  let error: Error | undefined;
  const waiting = new Set<(error: Error) => void>();
  return {
    fail(reason: unknown): void {
      if (error !== undefined) return;
      error = reason instanceof Error ? reason : new Error(String(reason));
      for (const reject of waiting) reject(error);
      waiting.clear();
    },
    wait<T>(promise: Promise<T>): Promise<T> {
      if (error !== undefined) return Promise.reject(error);
      return new Promise<T>((resolve, reject) => {
        waiting.add(reject);
        promise.then((value) => {
          waiting.delete(reject);
          resolve(value);
        }, (e) => {
          waiting.delete(reject);
          reject(e);
        });
      });
    },
  };
}

const lost = (reason: DisconnectReason) =>
  new Error(`the connection ended unasked: ${JSON.stringify(reason)}`);

/** Fails the soak on the client's warnings and errors (a send that failed, say). */
function failing(fail: (error: unknown) => void): Logger {
  return {
    debug() {},
    info() {},
    warn: (message: string) => fail(new Error(message)),
    error: (message: string) => fail(new Error(message)),
  };
}

function start(
  config: SoakConfig,
  state: State,
  fail: (error: unknown) => void,
  receiveBuffer?: number,
) {
  return Soak.start(state, {
    url: config.wsUrl,
    transport: config.transport,
    logger: failing(fail),
    connectTimeout: 10_000,
    ...(receiveBuffer === undefined ? {} : { receiveBuffer }),
  });
}

/** Disconnects and connects again, `count` times; memory at the start, after `warm`, at the end. */
async function cycles(config: SoakConfig, count: number, warm: number) {
  const f = failure();
  const state: State = {
    onMessage: () => f.fail("unexpected message"),
    onLost: f.fail,
    closing: false,
  };
  state.onLost = (reason) => f.fail(lost(reason));
  const conn = await start(config, state, f.fail);
  await f.wait(conn.ready());
  const m0 = await memory();
  let m1 = m0;
  const t0 = performance.now();
  let t1 = t0;
  for (let i = 1; i <= count; i++) {
    state.closing = true;
    await f.wait(conn.disconnect());
    state.closing = false;
    await f.wait(conn.connect());
    if (i === warm) {
      m1 = await memory();
      t1 = performance.now();
    }
  }
  const seconds = (performance.now() - t1) / 1000;
  const m2 = await memory();
  const connects = conn.stats.connects;
  await conn.stop();
  if (connects !== count + 1) {
    throw new Error(`${connects} connections made, expected ${count + 1}`);
  }
  return {
    metrics: memoryMetrics(m0, m1, m2, { cycles: count, perSec: (count - warm) / seconds }),
  };
}

/** `count` messages echoed, `window` in flight; memory at the start, after `warm`, at the end. */
async function echoes(
  config: SoakConfig,
  count: number,
  warm: number,
  size: number,
  window: number,
) {
  const f = failure();
  const messages = pool(size);
  let received = 0;
  let target = 0;
  let reached = () => {};
  const state: State = {
    onMessage(data) {
      if (typeof data === "string") return f.fail(`unexpected text ${data.slice(0, 80)}`);
      const wrong = mismatch(data, received, size, false);
      if (wrong !== undefined) return f.fail(wrong);
      received++;
      if (sent < target) send();
      if (received === target) reached();
    },
    onLost: (reason) => f.fail(lost(reason)),
    closing: false,
  };
  let sent = 0;
  const conn = await start(config, state, f.fail);
  // (From handleFrame too: a failed send is a warning, which fails the soak.)
  const send = () => conn.sendFrameAsync({ type: "binary", data: messages[sent++ % POOL_SIZE] });
  /** Echoes up to message `n`, `window` in flight, and waits for the last. */
  const run = (n: number) => {
    target = n;
    const done = new Promise<void>((resolve) => reached = resolve);
    while (sent < target && sent - received < window) send();
    return f.wait(done);
  };
  await f.wait(conn.ready());
  const m0 = await memory();
  await run(warm);
  const m1 = await memory();
  const t1 = performance.now();
  await run(count);
  const seconds = (performance.now() - t1) / 1000;
  const m2 = await memory();
  state.closing = true;
  await conn.stop();
  return {
    metrics: memoryMetrics(m0, m1, m2, { messages: count, perSec: (count - warm) / seconds }),
  };
}

/**
 * A flood of `size`-byte messages to a handleFrame that awaits `consumeMs` each, until
 * `messages` arrived; the peak memory above the start, sampled every `sampleMs`.
 */
async function flood(
  config: SoakConfig,
  messages: number,
  size: number,
  consumeMs: number,
  sampleMs: number,
) {
  const f = failure();
  let received = 0;
  let serverSent = -1;
  let enough = () => {};
  let drained = () => {};
  const state: State = {
    async onMessage(data) {
      if (typeof data === "string") {
        const [word, count, ...status] = data.split(" ");
        if (word !== "done") return f.fail(`unexpected text ${data.slice(0, 80)}`);
        if (status.join(" ") !== "ok") return f.fail(`the server found: ${status.join(" ")}`);
        serverSent = Number(count);
        if (received !== serverSent) {
          f.fail(`the server sent ${serverSent} messages, ${received} arrived`);
        }
        return drained();
      }
      const wrong = mismatch(data, received, size, false);
      if (wrong !== undefined) return f.fail(wrong);
      if (++received === messages) enough();
      await sleep(consumeMs);
    },
    onLost: (reason) => f.fail(lost(reason)),
    closing: false,
  };
  const conn = await start(config, state, f.fail);
  await f.wait(conn.ready());
  const m0 = await memory();
  let peak = m0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(sampleMs);
      const m = await memory();
      if (m.heap > peak.heap) peak = { heap: m.heap, rss: Math.max(m.rss, peak.rss) };
      else if (m.rss > peak.rss) peak = { heap: peak.heap, rss: m.rss };
    }
  })();
  const t0 = performance.now();
  const arrived = new Promise<void>((resolve) => enough = resolve);
  const done = new Promise<void>((resolve) => drained = resolve);
  conn.sendFrame({ type: "text", data: `stream ${size}` }).catch(f.fail);
  try {
    await f.wait(arrived);
    conn.sendFrame({ type: "text", data: "stop" }).catch(f.fail);
    await f.wait(done);
  } finally {
    sampling = false;
    await sampler;
  }
  const seconds = (performance.now() - t0) / 1000;
  state.closing = true;
  await conn.stop();
  return {
    metrics: {
      messages: received,
      size,
      seconds,
      heapStart: m0.heap,
      rssStart: m0.rss,
      peakHeld: peak.heap - m0.heap,
      peakRss: peak.rss - m0.rss,
    },
  };
}

/** Memory at the start, after the warm-up and at the end, and the growth after the warm-up (%). */
function memoryMetrics(
  m0: Memory,
  m1: Memory,
  m2: Memory,
  extra: Record<string, number>,
): Record<string, number> {
  return {
    ...extra,
    heapStart: m0.heap,
    heapWarm: m1.heap,
    heapEnd: m2.heap,
    rssStart: m0.rss,
    rssWarm: m1.rss,
    rssEnd: m2.rss,
    heapGrowth: (m2.heap - m1.heap) / m1.heap * 100,
    rssGrowth: (m2.rss - m1.rss) / m1.rss * 100,
  };
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2]) as SoakConfig;
  const soaks: Array<[SoakLine["soak"], () => Promise<{ metrics: Record<string, number> }>]> = [];
  if (config.cycles) {
    const c = config.cycles;
    soaks.push(["cycles", () => cycles(config, c.count, c.warm)]);
  }
  if (config.echoes) {
    const e = config.echoes;
    soaks.push(["echoes", () => echoes(config, e.count, e.warm, e.size, e.window)]);
  }
  if (config.flood) {
    const fl = config.flood;
    soaks.push(["flood", () => flood(config, fl.messages, fl.size, fl.consumeMs, fl.sampleMs)]);
  }
  let failed = false;
  for (const [soak, run] of soaks) {
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${config.timeoutMs} ms`)),
        config.timeoutMs,
      );
    });
    let line: SoakLine;
    try {
      const { metrics } = await Promise.race([run(), timeout]);
      line = { soak, ok: true, metrics, ms: Math.round(performance.now() - t0) };
    } catch (error) {
      failed = true;
      line = {
        soak,
        ok: false,
        error: String((error as Error)?.message ?? error),
        ms: Math.round(performance.now() - t0),
      };
    } finally {
      clearTimeout(timer);
    }
    console.log(`@result ${JSON.stringify(line)}`);
    if (failed) break;
  }
  process.exit(failed ? 1 : 0);
}
