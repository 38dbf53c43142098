// The scenarios, written once over bench/clients/connect.ts's interface so every client runs
// exactly the same code: the same messages (bench/payload.ts, made before timing), the same
// windows, the same checks and the same "done". Each one warms up (checking every byte), then
// counts what completes in a measured window, then drains and checks that nothing was lost.

import process from "node:process";
import type { BenchConnection, Connect } from "./clients/connect.ts";
import { jsonPool, mismatch, pool, POOL_SIZE } from "./payload.ts";
import { echoWindow, IDLE_DEFLATE_DIVISOR, type Scenario, type Timing } from "./plan.ts";
import type { Message } from "./raw_framing.ts";

/** What a scenario measured. */
export interface Outcome {
  /** Named numbers (rates, latencies, bytes); see bench/report.ts for their meaning. */
  readonly metrics: Record<string, number>;
  /** Messages (or connections) checked in the whole run, warm-up and drain included. */
  readonly checked: number;
}

/** Where a scenario reports the start and end of its measured window (for the server's CPU). */
export interface Marks {
  begin(): void;
  end(): void;
  /**
   * Asks bench/run.ts to read the bytes on the wire now, and resolves once it has (the JSON
   * scenarios count the messages between two readings).
   */
  wire(): Promise<void>;
}

/** The environment a scenario runs in. */
export interface Context {
  readonly connect: Connect;
  /** ws://... or tcp://..., whichever the client speaks. */
  readonly url: string;
  readonly timing: Timing;
  readonly marks: Marks;
  /** The server's open-connection counts (`GET /count`) and which one this client adds to. */
  readonly countUrl: string;
  readonly countKey: "ws" | "tcp" | "deflate";
}

/** A failure: lost, altered or unexpected messages, or a connection that failed. */
export class CheckError extends Error {}

/** The first failure of a scenario, as a promise every wait races against. */
class Failure {
  #reject!: (error: Error) => void;
  readonly promise = new Promise<never>((_, reject) => this.#reject = reject);
  error: Error | undefined;

  constructor() {
    this.promise.catch(() => {});
  }

  fail = (reason: unknown): void => {
    if (this.error) return;
    this.error = reason instanceof Error
      ? reason
      : new CheckError(typeof reason === "string" ? reason : JSON.stringify(reason));
    this.#reject(this.error);
  };

  wait<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.promise]);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

/**
 * Ends the phases of a scenario. A timer alone is not enough: Bun 1.3.14 can starve `setTimeout`
 * for seconds while its WebSocket client is kept busy, so every scenario also calls `tick()` on
 * each completion, which ends a phase that is due (the same check, at the same cost, for every
 * client).
 */
class Clock {
  #due: (() => boolean) | undefined;
  #resolve: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Resolves once `ms` have passed and `ready()` holds. */
  until(ms: number, ready: () => boolean = () => true): Promise<void> {
    const end = performance.now() + ms;
    return new Promise<void>((resolve) => {
      this.#due = () => performance.now() >= end && ready();
      this.#resolve = resolve;
      const poll = () => {
        if (!this.#fire()) this.#timer = setTimeout(poll, Math.max(1, end - performance.now()));
      };
      this.#timer = setTimeout(poll, ms);
    });
  }

  /** Called on every completion: ends the phase if it is due. */
  tick = (): void => {
    if (this.#due !== undefined) this.#fire();
  };

  #fire(): boolean {
    if (!this.#due?.()) return false;
    this.#due = undefined;
    clearTimeout(this.#timer);
    this.#resolve!();
    return true;
  }
}

/**
 * The measured window: warm up, then count what `completed` says over `timedMs`, or longer until
 * at least `minCount` completed (so a window of 1 MiB echoes sees whole rounds, not none).
 */
async function measure(
  ctx: Context,
  failure: Failure,
  clock: Clock,
  completed: () => number,
  onTimed: () => void = () => {},
  minCount = 0,
) {
  await failure.wait(clock.until(ctx.timing.warmMs));
  onTimed();
  ctx.marks.begin();
  const c0 = completed();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await failure.wait(clock.until(ctx.timing.timedMs, () => completed() - c0 >= minCount));
  const c1 = completed();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  ctx.marks.end();
  const seconds = (t1 - t0) / 1000;
  return {
    count: c1 - c0,
    seconds,
    clientCpu: Math.round((cpu.user + cpu.system) / 1e4 / seconds),
  };
}

/** Checks binary message `k`: every byte while warming up or with fullCheck, else sampled. */
function checker(ctx: Context, size: number, failure: Failure) {
  const state = { full: true };
  return {
    timed: () => state.full = ctx.timing.fullCheck,
    check(message: Message, k: number): boolean {
      if (typeof message === "string") {
        failure.fail(`message ${k}: unexpected text ${JSON.stringify(message.slice(0, 80))}`);
        return false;
      }
      const wrong = mismatch(message, k, size, state.full);
      if (wrong !== undefined) failure.fail(wrong);
      return wrong === undefined;
    },
  };
}

/** `echoWindow(size)` messages in flight, each sent again as its echo returns. */
async function echo(ctx: Context, size: number): Promise<Outcome> {
  const window = echoWindow(size);
  const failure = new Failure();
  const clock = new Clock();
  const messages = pool(size);
  const checks = checker(ctx, size, failure);
  let sent = 0;
  let received = 0;
  let sending = true;
  const drained = deferred();
  // Messages arrive only after the first send, once `conn` is set.
  const conn: BenchConnection = await failure.wait(ctx.connect(ctx.url, {
    onMessage(message) {
      if (!checks.check(message, received)) return;
      received++;
      clock.tick();
      if (sending) conn.send(messages[sent++ % POOL_SIZE]);
      else if (received === sent) drained.resolve();
    },
    onError: failure.fail,
  }));
  while (sent < window) conn.send(messages[sent++ % POOL_SIZE]);
  const m = await measure(ctx, failure, clock, () => received, checks.timed, window);
  sending = false;
  if (received === sent) drained.resolve();
  await failure.wait(drained.promise);
  await failure.wait(conn.close());
  const rate = m.count / m.seconds;
  return {
    metrics: { msgsPerSec: rate, mbPerSec: rate * size / 1e6, clientCpu: m.clientCpu },
    checked: received,
  };
}

/**
 * Compressible JSON text echoed, `echoWindow(size)` messages in flight, with compression offered
 * or not; every echo is compared whole. bench/run.ts reads the bytes on the wire (`marks.wire`).
 */
async function json(ctx: Context, size: number, compression: boolean): Promise<Outcome> {
  const window = echoWindow(size);
  const failure = new Failure();
  const clock = new Clock();
  const messages = jsonPool(size);
  let sent = 0;
  let received = 0;
  let sending = true;
  const drained = deferred();
  // Messages arrive only after the first send, once `conn` is set.
  const conn: BenchConnection = await failure.wait(ctx.connect(ctx.url, {
    onMessage(message) {
      if (message !== messages[received % POOL_SIZE]) {
        failure.fail(`message ${received}: not the JSON text sent`);
        return;
      }
      received++;
      clock.tick();
      if (sending) conn.send(messages[sent++ % POOL_SIZE]);
      else if (received === sent) drained.resolve();
    },
    onError: failure.fail,
  }, { compression }));
  // The bytes on the wire are read before the first message and once every echo is back,
  // with nothing in flight: all the messages of the run, warm-up and drain included, are counted.
  await failure.wait(ctx.marks.wire());
  while (sent < window) conn.send(messages[sent++ % POOL_SIZE]);
  const m = await measure(ctx, failure, clock, () => received, () => {}, window);
  sending = false;
  if (received === sent) drained.resolve();
  await failure.wait(drained.promise);
  await failure.wait(ctx.marks.wire());
  await failure.wait(conn.close());
  const rate = m.count / m.seconds;
  return {
    metrics: {
      msgsPerSec: rate,
      mbPerSec: rate * size / 1e6,
      clientCpu: m.clientCpu,
      wireMessages: received,
    },
    checked: received,
  };
}

/** One message in flight: round trips per second and their latency. */
async function rtt(ctx: Context, size: number, json?: { compression: boolean }): Promise<Outcome> {
  const failure = new Failure();
  const clock = new Clock();
  // Random bytes, or (with `json`) compressible JSON text compared whole.
  const messages: Message[] = json === undefined ? pool(size) : jsonPool(size);
  const bytes = checker(ctx, size, failure);
  const checks = json === undefined ? bytes : {
    timed() {},
    check(message: Message, k: number): boolean {
      if (message === messages[k % POOL_SIZE]) return true;
      failure.fail(`message ${k}: not the JSON text sent`);
      return false;
    },
  };
  let k = 0;
  let sentAt = 0;
  let sending = true;
  let timing = false;
  const samples: number[] = [];
  const drained = deferred();
  // Messages arrive only after the first send, once `conn` is set.
  const conn: BenchConnection = await failure.wait(ctx.connect(ctx.url, {
    onMessage(message) {
      const now = performance.now();
      if (!checks.check(message, k)) return;
      if (timing) samples.push(now - sentAt);
      k++;
      clock.tick();
      if (!sending) return drained.resolve();
      sentAt = performance.now();
      conn.send(messages[k % POOL_SIZE]);
    },
    onError: failure.fail,
  }, json));
  sentAt = performance.now();
  conn.send(messages[0]);
  const m = await measure(ctx, failure, clock, () => k, () => {
    checks.timed();
    timing = true;
  });
  timing = false;
  sending = false;
  await failure.wait(drained.promise);
  await failure.wait(conn.close());
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return {
    metrics: {
      rttPerSec: m.count / m.seconds,
      p50us: at(0.5) * 1000,
      p99us: at(0.99) * 1000,
      clientCpu: m.clientCpu,
    },
    checked: k,
  };
}

/** Client to server: the server checks and counts, acking every quarter window. */
async function up(ctx: Context, size: number): Promise<Outcome> {
  const failure = new Failure();
  const clock = new Clock();
  const messages = pool(size);
  // About 4 MiB unacknowledged, 16 to 1024 messages.
  const window = Math.max(16, Math.min(1024, Math.floor(4 * 1024 * 1024 / size)));
  const ackEvery = window / 4;
  let sent = 0;
  let acked = 0;
  let sending = true;
  let result: string | undefined;
  const done = deferred();
  const fill = () => {
    while (sending && sent - acked < window) conn.send(messages[sent++ % POOL_SIZE]);
  };
  // Acks arrive only after the first send, once `conn` is set.
  const conn: BenchConnection = await failure.wait(ctx.connect(ctx.url, {
    onMessage(message) {
      if (typeof message !== "string") return failure.fail("unexpected binary message");
      if (message.startsWith("ack ")) {
        acked = Number(message.slice(4));
        clock.tick();
        return fill();
      }
      if (!message.startsWith("done ")) return failure.fail(`unexpected ${message}`);
      result = message;
      done.resolve();
    },
    onError: failure.fail,
  }));
  conn.send(`sink ${size} ${ackEvery}`);
  fill();
  const m = await measure(ctx, failure, clock, () => acked);
  sending = false;
  conn.send("end");
  await failure.wait(done.promise);
  const [, count, ...status] = result!.split(" ");
  if (status.join(" ") !== "ok") failure.fail(`the server found: ${status.join(" ")}`);
  else if (Number(count) !== sent) {
    failure.fail(`sent ${sent} messages, the server received ${count}`);
  }
  await failure.wait(conn.close());
  const rate = m.count / m.seconds;
  return {
    metrics: { msgsPerSec: rate, mbPerSec: rate * size / 1e6, clientCpu: m.clientCpu },
    checked: sent,
  };
}

/** Server to client: the server sends as fast as the connection takes; the client checks. */
async function down(ctx: Context, size: number): Promise<Outcome> {
  const failure = new Failure();
  const clock = new Clock();
  const checks = checker(ctx, size, failure);
  let received = 0;
  let total = -1;
  const done = deferred();
  const conn = await failure.wait(ctx.connect(ctx.url, {
    onMessage(message) {
      if (typeof message === "string" && message.startsWith("done ")) {
        const [, count, ...status] = message.split(" ");
        total = Number(count);
        if (status.join(" ") !== "ok") failure.fail(`the server found: ${status.join(" ")}`);
        return done.resolve();
      }
      if (checks.check(message, received)) received++;
      clock.tick();
    },
    onError: failure.fail,
  }));
  conn.send(`stream ${size}`);
  const m = await measure(ctx, failure, clock, () => received, checks.timed);
  conn.send("stop");
  await failure.wait(done.promise);
  if (received !== total) failure.fail(`the server sent ${total} messages, received ${received}`);
  await failure.wait(conn.close());
  const rate = m.count / m.seconds;
  return {
    metrics: { msgsPerSec: rate, mbPerSec: rate * size / 1e6, clientCpu: m.clientCpu },
    checked: received,
  };
}

/** Connections opened and closed one after another. */
async function connect(ctx: Context): Promise<Outcome> {
  const failure = new Failure();
  const clock = new Clock();
  let completed = 0;
  let going = true;
  const handlers = {
    onMessage: () => failure.fail("unexpected message"),
    onError: failure.fail,
  };
  const loop = (async () => {
    while (going) {
      const conn = await ctx.connect(ctx.url, handlers);
      await conn.close();
      completed++;
      clock.tick();
    }
  })();
  loop.catch(failure.fail);
  const m = await measure(ctx, failure, clock, () => completed);
  going = false;
  await failure.wait(loop);
  return {
    metrics: { connPerSec: m.count / m.seconds, clientCpu: m.clientCpu },
    checked: completed,
  };
}

/** Collects garbage where the runtime lets us (Deno and Node need --expose-gc). */
function collect(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true);
    else g.gc?.();
  }
}

/**
 * Memory per open idle connection: RSS and heap after GC, before and after opening them. With
 * `compression`, to the server that speaks it, and each connection's echo is compressed both
 * ways before the memory is measured.
 */
async function idle(ctx: Context, size: number, compression?: boolean): Promise<Outcome> {
  const failure = new Failure();
  const count = compression
    ? Math.max(10, Math.floor(ctx.timing.idleConnections / IDLE_DEFLATE_DIVISOR))
    : ctx.timing.idleConnections;
  const options = compression === undefined ? undefined : { compression };
  // With compression, compressible text (so that both sides compress it).
  const message: Message = compression ? jsonPool(size)[0] : pool(size)[0];
  let echoed = 0;
  const allEchoed = deferred();
  const handlers = {
    onMessage(m: Message) {
      if (typeof m === "string" || typeof message === "string") {
        if (m !== message) return failure.fail("not the message sent");
      } else {
        const wrong = mismatch(m, 0, size, true);
        if (wrong !== undefined) return failure.fail(wrong);
      }
      if (++echoed === count) allEchoed.resolve();
    },
    onError: failure.fail,
  };
  /** How many connections of this client's kind the server has open. */
  const serverCount = async () => {
    const counts = await (await fetch(ctx.countUrl)).json() as Record<string, number>;
    return counts[ctx.countKey];
  };
  /** Waits (up to 10 s) until the server has `want` open, or fails. */
  const serverHas = async (want: number) => {
    const until = performance.now() + 10_000;
    let n = await serverCount();
    while (n !== want && performance.now() < until) {
      await sleep(20);
      n = await serverCount();
    }
    if (n !== want) failure.fail(`the server has ${n} connections open, expected ${want}`);
  };
  // Warm-up: the client's code paths (and fetch's, for the count) run before the baseline.
  for (let i = 0; i < 20; i++) {
    await (await failure.wait(ctx.connect(ctx.url, handlers, options))).close();
  }
  const already = await serverCount();
  if (already !== 0) await serverHas(0);
  collect();
  await sleep(50);
  collect();
  const before = process.memoryUsage();
  const conns: BenchConnection[] = [];
  const t0 = performance.now();
  const BATCH = 100;
  for (let i = 0; i < count; i += BATCH) {
    const batch = Array.from(
      { length: Math.min(BATCH, count - i) },
      () => ctx.connect(ctx.url, handlers, options),
    );
    conns.push(...await failure.wait(Promise.all(batch)));
  }
  const openSeconds = (performance.now() - t0) / 1000;
  // Every connection is open on the server too (the client saw each handshake complete).
  await failure.wait(serverHas(count));
  // Every connection still works: one echo each (with compression, before the measurement: its
  // deflater and inflater are then made).
  const echoAll = async () => {
    for (const conn of conns) conn.send(message);
    await failure.wait(allEchoed.promise);
  };
  if (compression) await echoAll();
  await sleep(100);
  collect();
  await sleep(50);
  collect();
  const after = process.memoryUsage();
  if (!compression) await echoAll();
  for (let i = 0; i < conns.length; i += BATCH) {
    await failure.wait(Promise.all(conns.slice(i, i + BATCH).map((c) => c.close())));
  }
  return {
    metrics: {
      rssPerConn: (after.rss - before.rss) / count,
      heapPerConn: (after.heapUsed - before.heapUsed) / count,
      openPerSec: count / openSeconds,
      connections: count,
    },
    checked: echoed,
  };
}

/** Runs one scenario. */
export function runScenario(ctx: Context, scenario: Scenario): Promise<Outcome> {
  switch (scenario.kind) {
    case "echo":
      return echo(ctx, scenario.size);
    case "rtt":
      return rtt(
        ctx,
        scenario.size,
        scenario.compression === undefined ? undefined : { compression: scenario.compression },
      );
    case "up":
      return up(ctx, scenario.size);
    case "down":
      return down(ctx, scenario.size);
    case "connect":
      return connect(ctx);
    case "idle":
      return idle(ctx, scenario.size, scenario.compression);
    case "json":
      return json(ctx, scenario.size, scenario.compression ?? false);
  }
}
