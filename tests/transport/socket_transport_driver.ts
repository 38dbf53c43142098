// The client side of the socket transport's runtime tests (tests/transport/*_runtimes_test.ts),
// run under Deno, Node 24 or Bun: opens one connection with the socket transport (the real
// dialer of that runtime) to the test's server, plays one scenario and prints what it saw as
// JSON lines, `{"event": ..., "ms": ...}` as things happen and `{"report": {...}}` last. It never
// calls process.exit: the process must end by itself once the connection is released, so a
// socket or timer left behind shows as a driver that does not exit.
//
// argv: scenario, ws URL, options as JSON (see each scenario).

import process from "node:process";
import { createSocketConnector } from "../../src/transport/socket.ts";
import type { Transport, TransportEvents } from "../../src/transport/transport.ts";
import type { ResolvedHeartbeat } from "../../src/transport/heartbeat.ts";

const [scenario, url, optionsJson] = process.argv.slice(-3);
const options = JSON.parse(optionsJson) as Record<string, number | boolean | number[] | string>;
const t0 = performance.now();
const ms = () => Math.round((performance.now() - t0) * 10) / 10;

function print(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

/** Prints an event as it happens. */
function event(name: string, detail: Record<string, unknown> = {}): void {
  print({ event: name, ms: ms(), ...detail });
}

const sleep = (n: number) => new Promise<void>((resolve) => setTimeout(resolve, n));

/** Waits for `promise`, or `n` ms at most (no timer is left behind). */
async function within(promise: Promise<void>, n: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, n)))]);
  clearTimeout(timer);
}

/** Spins for `n` ms: the event loop is blocked meanwhile. */
function block(n: number): void {
  const until = performance.now() + n;
  while (performance.now() < until) { /* busy */ }
}

/** What the transport reported; `on` hooks a scenario in. */
const seen = {
  opened: -1,
  frames: 0,
  frameBytes: 0,
  pongFrames: 0,
  rtts: [] as Array<{ ms: number; rtt: number }>,
  heartbeatTimeout: -1,
  /** Events after an end was reported (remoteClose, error, heartbeatTimeout). */
  afterEnd: [] as string[],
  ends: [] as string[],
};
const on = {
  opened: () => {},
  frame: (_data: Uint8Array) => {},
  rtt: () => {},
  end: () => {},
};

function ended(what: string): void {
  if (seen.ends.length > 0) seen.afterEnd.push(what);
  seen.ends.push(what);
  event(what);
  on.end();
}

const events: TransportEvents = {
  opened() {
    if (seen.ends.length > 0) seen.afterEnd.push("opened");
    seen.opened = ms();
    event("opened");
    on.opened();
  },
  frame(frame) {
    if (seen.ends.length > 0) seen.afterEnd.push("frame");
    if (frame.type === "pong") seen.pongFrames++;
    seen.frames++;
    if (frame.type === "binary") {
      seen.frameBytes += frame.data.length;
      on.frame(frame.data);
    }
  },
  ping() {},
  remoteClose: (code) => ended(`remoteClose ${code}`),
  error: (error) => ended(`error ${error.message}`),
  heartbeatTimeout() {
    seen.heartbeatTimeout = ms();
    ended("heartbeatTimeout");
  },
  rtt(rtt) {
    if (seen.ends.length > 0) seen.afterEnd.push("rtt");
    seen.rtts.push({ ms: ms(), rtt });
    event("rtt", { rtt });
    on.rtt();
  },
};

const heartbeat: ResolvedHeartbeat | undefined = options.interval === undefined ? undefined : {
  interval: options.interval as number,
  timeout: options.timeout as number,
  message: undefined,
};

const transport: Transport = createSocketConnector().connect({
  url: new URL(url),
  headers: [],
  subprotocols: [],
  closeTimeout: 1000,
  heartbeat,
  // wss: the test CA; a TLS 1.3 minimum takes Deno onto node:tls.
  tls: typeof options.ca === "string"
    ? {
      ca: [options.ca],
      cert: undefined,
      key: undefined,
      serverName: undefined,
      minVersion: options.tls13 === true ? "TLSv1.3" : "TLSv1.2",
      insecure: false,
    }
    : undefined,
}, events);

const opened = new Promise<void>((resolve) => (on.opened = resolve));
const report: Record<string, unknown> = { runtime: runtimeName() };

function runtimeName(): string {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno ? "deno" : g.Bun ? "bun" : "node";
}

/** The process's resident set, in MiB, after a collection where the runtime offers one. */
function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { Bun?: { gc?: (sync: boolean) => void } }).Bun?.gc?.(true);
  return Math.round(process.memoryUsage().rss / 1024 / 1024 * 10) / 10;
}

switch (scenario) {
  case "heartbeat": {
    // options: interval, timeout; pauseAtOpen, resumeAfter (ms after open); blocks: busy waits
    // (ms), each started 5 ms after the probe that follows the previous round trip (the first
    // after the first probe); runFor: ms after open (or after the last block) before release.
    const blocks = [...(options.blocks as number[] | undefined ?? [])];
    const interval = options.interval as number;
    const timedOut = new Promise<void>((resolve) => (on.end = resolve));
    if (blocks.length > 0) {
      // The heartbeat's first probe goes out `interval` after the upgrade (the server says
      // nothing else); after each round trip, the next one `interval` after the pong.
      const next = () => {
        const n = blocks.shift();
        if (n === undefined) return;
        setTimeout(() => {
          event("block", { for: n });
          block(n);
          event("unblocked");
        }, interval + 5);
      };
      await opened;
      next();
      on.rtt = next;
    } else await opened;
    if (options.pauseAtOpen === true) {
      report.paused = transport.pause();
      event("paused");
      await within(timedOut, options.resumeAfter as number);
      if (seen.ends.length === 0) {
        transport.resume();
        event("resumed");
      }
    }
    await within(timedOut, options.runFor as number);
    transport.release();
    await transport.done;
    event("done");
    // Anything reported after done?
    await sleep(50);
    break;
  }
  case "flood": {
    // options: total (bytes the server sends, as binary frames of a pattern: byte i of the
    // stream of payloads is i % 251); pauseAtOpen (pause while connecting) or pauseAfter
    // (pause from the frame that brings the bytes received to it; 0: once open); pauseFor (ms).
    const total = options.total as number;
    const pauseAfter = options.pauseAfter as number | undefined ?? 0;
    let paused = () => {};
    const pausing = new Promise<void>((resolve) => (paused = resolve));
    const kept: Uint8Array[] = [];
    let intact = true;
    let offset = 0;
    let all = () => {};
    const arrived = new Promise<void>((resolve) => (all = resolve));
    // (Set before the upgrade: frames that come with the 101 are reported with it.)
    on.frame = (data) => {
      // Kept, as an application's queue would keep them: reading on would grow memory.
      kept.push(data);
      for (let i = 0; i < data.length; i += 4093) {
        if (data[i] !== (offset + i) % 251) intact = false;
      }
      if (data.length > 0 && data[data.length - 1] !== (offset + data.length - 1) % 251) {
        intact = false;
      }
      offset += data.length;
      if (offset >= total) all();
      // As a client whose buffer passed its bound: paused from within the frame's report.
      if (pauseAfter > 0 && report.paused === undefined && offset >= pauseAfter) {
        report.paused = transport.pause();
        report.receivedAtPause = offset;
        paused();
      }
    };
    if (options.pauseAtOpen === true) report.paused = transport.pause();
    await opened;
    if (pauseAfter === 0) {
      report.paused ??= transport.pause();
      report.receivedAtPause = seen.frameBytes;
    } else await within(pausing, 10_000);
    event("paused");
    report.rssAtPause = rssMiB();
    await sleep(options.pauseFor as number);
    report.receivedWhilePaused = seen.frameBytes;
    report.rssWhilePaused = rssMiB();
    transport.resume();
    event("resumed");
    await within(arrived, 10_000);
    report.received = seen.frameBytes;
    report.rssAtEnd = rssMiB();
    report.intact = intact;
    kept.length = 0;
    transport.release();
    await transport.done;
    break;
  }
  case "blocked-sends": {
    // options: frames, size (bytes each), waitFor (ms); then "release": release the
    // connection, or "reset": wait until the connection ends (the server resets it).
    await opened;
    const frames = options.frames as number;
    const data = new Uint8Array(options.size as number).fill(7);
    const outcome: Array<"pending" | "written" | string> = [];
    let doubles = 0;
    for (let i = 0; i < frames; i++) {
      outcome.push("pending");
      transport.send({ type: "binary", data }, (error) => {
        if (outcome[i] !== "pending") doubles++;
        outcome[i] = error === undefined ? "written" : `error: ${error.message}`;
      });
      transport.flush?.();
    }
    await sleep(options.waitFor as number);
    const count = (what: string) => outcome.filter((o) => o.startsWith(what)).length;
    report.writtenBefore = count("written");
    report.pendingBefore = count("pending");
    report.writtenInOrder = outcome.every((o, i) =>
      i === 0 || o !== "written" || outcome[i - 1] === "written"
    );
    event("blocked", { written: report.writtenBefore });
    if (options.end === "release") transport.release();
    else await new Promise<void>((resolve) => (on.end = resolve));
    await transport.done;
    report.pendingAtDone = count("pending");
    report.written = count("written");
    report.failed = count("error");
    report.errors = [...new Set(outcome.filter((o) => o.startsWith("error")))];
    report.doubles = doubles;
    // Late settlements?
    await sleep(50);
    report.doublesLater = doubles;
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
report.seen = seen;
report.ms = ms();
print({ report });
