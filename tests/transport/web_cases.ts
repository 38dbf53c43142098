// The web transport's cases, written once and run wherever it runs: in-process under Deno
// (web_transport_test.ts: the WebSocket path, with sanitizers), and in child processes under
// Deno with --unstable-net (the WebSocketStream path), Node and Bun (web_runtimes_test.ts), and in
// headless Chromium (tests/browser/). Runtime-neutral on purpose: web APIs only, no node: or Deno
// imports, no assertion library. Each case drives `webConnector` directly against the peer
// (tests/support/web_peer.ts) and throws on failure; it returns a line of findings, if any.

import { defineClient, type DisconnectReason, ok, push } from "../../mod.ts";
import { webConnector, webSocketTakesHeaders } from "../../src/transport/web.ts";
import type { Transport, TransportEvents } from "../../src/transport/transport.ts";
import type { ResolvedHeartbeat } from "../../src/transport/heartbeat.ts";
import type { ConnectInfo } from "../../src/vocabulary/connect_info.ts";
import type { ReceivedFrame } from "../../src/vocabulary/frame.ts";

/** Where a case runs. */
export interface CaseContext {
  /** The peer's base URL: `ws://127.0.0.1:<port>`. */
  readonly peer: string;
}

/** A case: throws on failure; resolves with findings worth printing, if any. */
export type WebCase = (ctx: CaseContext) => Promise<string | void>;

/** Whether this runtime has `WebSocketStream`: then the web transport is built on it. */
export function onStreamPath(): boolean {
  return typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream === "function";
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
const isBun = typeof (globalThis as { Bun?: unknown }).Bun === "object";

// --- checks ---

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `promise`, or throws after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// --- a recording connection ---

/** One event a transport reported. */
interface Logged {
  readonly type: keyof TransportEvents;
  readonly value: unknown;
  readonly at: number;
}

/** The events of one connection, in order, with waits for the next of a kind. */
class EventLog implements TransportEvents {
  readonly all: Logged[] = [];
  #wake: Array<() => void> = [];
  /** Called on each frame before it is logged (a case's reply, say). */
  onFrame: (frame: ReceivedFrame) => void = () => {};
  /** Called on `opened` (a case's pause, say). */
  onOpened: () => void = () => {};

  #push(type: keyof TransportEvents, value: unknown): void {
    this.all.push({ type, value, at: performance.now() });
    for (const w of this.#wake.splice(0)) w();
  }

  opened(info: ConnectInfo): void {
    this.#push("opened", { protocol: info.protocol, extensions: info.extensions });
    this.onOpened();
  }
  frame(frame: ReceivedFrame): void {
    this.onFrame(frame);
    this.#push("frame", frame);
  }
  ping(payload: Uint8Array): void {
    this.#push("ping", payload);
  }
  remoteClose(code: number, reason: string): void {
    this.#push("remoteClose", { code, reason });
  }
  error(error: Error): void {
    this.#push("error", error);
  }
  heartbeatTimeout(): void {
    this.#push("heartbeatTimeout", undefined);
  }
  rtt(ms: number): void {
    this.#push("rtt", ms);
  }

  /** The events of `type` so far. */
  of(type: keyof TransportEvents): Logged[] {
    return this.all.filter((e) => e.type === type);
  }

  /** The types logged so far, in order. */
  get types(): string[] {
    return this.all.map((e) => e.type);
  }

  /** Waits for the `n`-th event (1-based) of one of `types`. */
  async next(types: Array<keyof TransportEvents>, timeout = 3000, n = 1): Promise<Logged> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const found = this.all.filter((e) => types.includes(e.type));
      if (found.length >= n) return found[n - 1];
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`no ${types.join(" or ")} within ${timeout} ms; saw ${this.types}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the end: `remoteClose`, `error` or `heartbeatTimeout`. */
  end(timeout = 3000): Promise<Logged> {
    return this.next(["remoteClose", "error", "heartbeatTimeout"], timeout);
  }
}

interface ConnectOptions {
  readonly subprotocols?: string[];
  readonly headers?: Array<[string, string]>;
  readonly closeTimeout?: number;
  readonly heartbeat?: ResolvedHeartbeat;
}

function connect(url: string, options: ConnectOptions = {}, log = new EventLog()) {
  const transport: Transport = webConnector.connect({
    url: new URL(url),
    headers: options.headers ?? [],
    subprotocols: options.subprotocols ?? [],
    closeTimeout: options.closeTimeout ?? 3000,
    heartbeat: options.heartbeat,
  }, log);
  return { transport, log };
}

/** Connects and waits for `opened`. */
async function open(url: string, options: ConnectOptions = {}, log = new EventLog()) {
  const c = connect(url, options, log);
  const first = await c.log.next(["opened", "error"]);
  check(first.type === "opened", `${url} did not open: ${String(first.value)}`);
  return c;
}

/** Releases the connection and checks that the runtime finished within `ms`. */
async function finish(transport: Transport, ms = 2000): Promise<void> {
  transport.release();
  await within(transport.done, ms, "done");
}

const text = (data: string) => ({ type: "text", data }) as const;

/** Waits until `written` was called; resolves with its argument. */
function writtenPromise(): [(error?: Error) => void, Promise<Error | undefined>] {
  let resolve!: (e: Error | undefined) => void;
  let calls = 0;
  const p = new Promise<Error | undefined>((r) => (resolve = r));
  return [(error?: Error) => {
    calls++;
    if (calls > 1) throw new Error("written was called twice");
    resolve(error);
  }, p];
}

// --- the cases ---

export const WEB_CASES: Readonly<Record<string, WebCase>> = {
  "text and binary echo; written hears each frame; the client's close finishes at once": async (
    { peer },
  ) => {
    const { transport, log } = await open(`${peer}/echo`);
    const [w1, sent1] = writtenPromise();
    const [w2, sent2] = writtenPromise();
    transport.send(text("héllo 👋"), w1);
    transport.send({ type: "binary", data: new Uint8Array([0, 1, 127, 128, 255]) }, w2);
    equal(await within(sent1, 2000, "written"), undefined, "written (text)");
    equal(await within(sent2, 2000, "written"), undefined, "written (binary)");
    equal((await log.next(["frame"])).value, text("héllo 👋"), "echoed text");
    const bin = (await log.next(["frame"], 3000, 2)).value as ReceivedFrame;
    equal(bin.type, "binary", "echoed type");
    equal([...(bin.data as Uint8Array)], [0, 1, 127, 128, 255], "echoed bytes");
    const started = performance.now();
    transport.close(4001, "bye ✓");
    await within(transport.done, 2000, "done after the client's close");
    const took = performance.now() - started;
    equal(log.types, ["opened", "frame", "frame"], "events");
    // The peer got our code and reason; a code the API refuses (1001) goes as a close without one.
    const second = await open(`${peer}/echo`);
    second.transport.close(1001, "going");
    await within(second.transport.done, 2000, "done after the second close");
    const { transport: t3, log: l3 } = await open(`${peer}/closes`);
    const closes = JSON.parse(((await l3.next(["frame"])).value as ReceivedFrame).data as string);
    await finish(t3);
    // Bun's WebSocket takes 1001 (the web API allows 1000 and 3000-4999 only, as Deno's,
    // Node's and Chromium's do).
    const refused = isBun ? { code: 1001, reason: "going" } : { reason: "" };
    equal(closes, [{ code: 4001, reason: "bye ✓" }, refused], "the close frames sent");
    return `close handshake ${Math.round(took)} ms`;
  },

  "framesOnTheirOwnTurn holds: then a microtask queued at a frame runs before the next frame":
    async (
      { peer },
    ) => {
      // The client handles a frame at once, in the transport's call, only where each frame comes
      // on a turn of its own; where several come in one loop (Node's WebSocket), it serves them
      // together from a microtask.
      const COUNT = 40;
      const log = new EventLog();
      let frames = 0;
      let sharedTurns = 0;
      let lastTurnDone = true;
      log.onFrame = () => {
        if (!lastTurnDone) sharedTurns++;
        lastTurnDone = false;
        frames++;
        queueMicrotask(() => (lastTurnDone = true));
      };
      const { transport } = await open(`${peer}/echo`, {}, log);
      for (let i = 0; i < COUNT; i++) transport.send(text(`m${i}`));
      await log.next(["frame"], 3000, COUNT);
      await finish(transport);
      equal(frames, COUNT, "frames");
      const claimed = webConnector.capabilities.framesOnTheirOwnTurn === true;
      check(
        !claimed || sharedTurns === 0,
        `framesOnTheirOwnTurn is set, but ${sharedTurns} of ${COUNT} frames came in the turn of the one before`,
      );
      return `framesOnTheirOwnTurn ${claimed}; ${sharedTurns} of ${COUNT} frames came in the turn of the one before`;
    },

  "the server's close: remoteClose once, with its code and reason": async ({ peer }) => {
    const { transport, log } = await open(`${peer}/echo`);
    transport.send(text("close:4002:gone away"));
    equal((await log.end()).value, { code: 4002, reason: "gone away" }, "remoteClose");
    await finish(transport);
    equal(log.types, ["opened", "remoteClose"], "events");
  },

  "a connection lost without a close frame: an error naming 1006": async ({ peer }) => {
    const { transport, log } = await open(`${peer}/echo`);
    transport.send(text("drop"));
    const end = await log.end();
    equal(end.type, "error", "the end");
    check(/1006/.test((end.value as Error).message), (end.value as Error).message);
    await finish(transport);
  },

  "a refused upgrade: a HandshakeError": async ({ peer }) => {
    const { transport, log } = connect(`${peer}/refuse`);
    const end = await log.end();
    const error = end.value as Error & { status?: number };
    equal([end.type, error.name], ["error", "HandshakeError"], "the end");
    await within(transport.done, 2000, "done");
    return `status ${error.status}; "${error.message}"`;
  },

  "a reply while the server's close arrives is dropped, never thrown; the end is the server's close":
    async ({ peer }) => {
      // The reply goes out as the client's would: from the frame's callback, at once or after
      // the event loop turned (the actor posts frames to its mailbox and calls handleFrame later).
      const ROUNDS = 40;
      let dropped = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const log = new EventLog();
        const [written, sent] = writtenPromise();
        let thrown: unknown;
        const { transport } = connect(`${peer}/reply-then-close`, {}, log);
        const reply = () => {
          try {
            // Dropped (false) as the connection ends: written is not called, the client is told.
            if (!transport.send(text("reply"), written)) written(new Error("dropped"));
          } catch (error) {
            thrown = error;
          }
        };
        log.onFrame = () => {
          if (i % 4 === 0) reply();
          else if (i % 4 === 1) queueMicrotask(reply);
          else setTimeout(reply, (i % 4) - 2);
        };
        const end = await log.end();
        equal(end.value, { code: 1000, reason: "done" }, `round ${i}: the end`);
        await within(sent, 2000, "written");
        check(thrown === undefined, `round ${i}: send threw ${thrown}`);
        if ((await sent) !== undefined) dropped++;
        await finish(transport);
        equal(log.types, ["opened", "frame", "remoteClose"], `round ${i}: events`);
      }
      return `${dropped} of ${ROUNDS} replies dropped as the close arrived`;
    },

  "a client replying from handleFrame as the server closes: handleDisconnect hears the server's close every time":
    async ({ peer }) => {
      // The symptom as users saw it: the reply's "Cannot send frame" replaced remote_close 1000.
      const ROUNDS = 30;
      const reasons: DisconnectReason[] = [];
      let enough!: () => void;
      const gotEnough = new Promise<void>((r) => (enough = r));
      const quiet = () => {};
      const conn = await defineClient<null>({
        handleFrame: (_frame, state) => push(text("reply"), state),
        handleDisconnect(reason, state) {
          if (reasons.push(reason) === ROUNDS) enough();
          return ok(state);
        },
      }).start(null, {
        url: `${peer}/reply-then-close`,
        transport: "web",
        reconnect: { baseDelay: 1, maxDelay: 2 },
        logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      });
      try {
        await within(gotEnough, 20_000, `${ROUNDS} disconnects`);
      } finally {
        await conn.stop();
      }
      const other = reasons.find((r) =>
        r.kind !== "remote_close" || r.code !== 1000 || r.reason !== "done"
      );
      check(
        other === undefined,
        `a disconnect reason ${JSON.stringify(other)}: ${
          other?.kind === "error" ? other.error.message : ""
        }`,
      );
    },

  "frames after the client's close are dropped (send says so, written is not called); ping and pong are refused":
    async ({ peer }) => {
      const { transport, log } = await open(`${peer}/echo`);
      for (const type of ["ping", "pong"] as const) {
        let refused: unknown;
        try {
          transport.send({ type });
        } catch (error) {
          refused = error;
        }
        equal((refused as Error | undefined)?.name, "UnsupportedError", `${type} refused`);
      }
      transport.close(1000, "");
      let heard = false;
      const taken = transport.send(text("too late"), () => (heard = true));
      equal(taken, false, "send after the close");
      await new Promise((r) => setTimeout(r, 20));
      equal(heard, false, "written is not called for a dropped frame");
      await within(transport.done, 2000, "done");
      equal(log.types, ["opened"], "events");
    },

  "an unoffered subprotocol fails the connection with a HandshakeError": async ({ peer }) => {
    const findings: string[] = [];
    for (const offered of [[], ["a"]]) {
      const { transport, log } = connect(`${peer}/protocol?chosen=x`, { subprotocols: offered });
      const end = await log.end();
      const error = end.value as Error;
      equal([end.type, error.name], ["error", "HandshakeError"], `offered ${offered}: the end`);
      check(!log.types.includes("opened"), `offered ${offered}: opened`);
      if (isDeno) check(/subprotocol "x"/.test(error.message), error.message);
      findings.push(`offered [${offered}]: "${error.message}"`);
      await within(transport.done, 2000, "done");
    }
    const { transport, log } = await open(`${peer}/protocol?chosen=x`, {
      subprotocols: ["a", "x"],
    });
    equal(log.all[0].value, { protocol: "x", extensions: "" }, "offered and chosen");
    await finish(transport);
    return findings.join("; ");
  },

  "an unoffered extension fails the connection with a HandshakeError": async ({ peer }) => {
    const findings: string[] = [];
    // Deno's WebSocket offers no extension; the others offer permessage-deflate.
    const unoffered = isDeno ? ["x-unknown", "permessage-deflate"] : ["x-unknown"];
    for (const chosen of unoffered) {
      const { transport, log } = connect(`${peer}/extension?chosen=${chosen}`);
      const end = await log.end();
      const error = end.value as Error;
      equal([end.type, error.name], ["error", "HandshakeError"], `${chosen}: the end`);
      check(!log.types.includes("opened"), `${chosen}: opened`);
      if (isDeno) check(error.message.includes(`extension "${chosen}"`), error.message);
      findings.push(`${chosen}: "${error.message}"`);
      await within(transport.done, 2000, "done");
    }
    if (!isDeno) {
      const { transport, log } = await open(`${peer}/extension?chosen=permessage-deflate`);
      equal(log.all[0].value, { protocol: "", extensions: "permessage-deflate" }, "offered");
      await finish(transport);
    }
    return findings.join("; ");
  },

  "URL credentials become one Authorization: Basic header; a given Authorization wins": async (
    { peer },
  ) => {
    const port = new URL(peer).port;
    const request = async (url: string, headers: Array<[string, string]> = []) => {
      const { transport, log } = await open(url, { headers });
      const first = (await log.next(["frame"])).value as ReceivedFrame;
      await finish(transport);
      return JSON.parse(first.data as string) as {
        line: string;
        headers: Record<string, string>;
        authorizations: number;
      };
    };
    const withCredentials = `ws://us%40er:p%3Ass@127.0.0.1:${port}/headers`;
    const plain = await request(withCredentials);
    const offers = `the runtime offers extensions: ${
      plain.headers["sec-websocket-extensions"] ?? "none"
    }`;
    if (!webSocketTakesHeaders()) {
      const sent = plain.headers.authorization ?? "none";
      return `no headers here; for URL credentials the runtime itself sent ${plain.authorizations} Authorization (${sent}); ${offers}`;
    }
    equal(plain.authorizations, 1, "Authorization headers");
    equal(plain.headers.authorization, `Basic ${btoa("us@er:p:ss")}`, "Authorization");
    equal(plain.line, "GET /headers HTTP/1.1", "request line");
    const given = await request(withCredentials, [["authorization", "Bearer t"], ["x-a", "1"]]);
    equal([given.authorizations, given.headers.authorization], [1, "Bearer t"], "given");
    equal(given.headers["x-a"], "1", "another header");
    const none = await request(`${peer}/headers`);
    equal(none.authorizations, 0, "without credentials");
    // No password in a message.
    const { transport, log } = connect(`ws://user:secret@127.0.0.1:${port}/refuse`);
    const error = (await log.end()).value as Error;
    check(!error.message.includes("secret"), `the password in "${error.message}"`);
    await within(transport.done, 2000, "done");
    return offers;
  },

  "a wrong Sec-WebSocket-Accept: refused where the runtime checks it (Deno's WebSocket does not)":
    async ({ peer }) => {
      // The web API does not show the response's headers: what the runtime does is all there is.
      const { transport, log } = connect(`${peer}/bad-accept`);
      const first = await log.next(["opened", "error"]);
      if (isDeno) equal(first.type, "opened", "Deno's WebSocket (if it checks now, say so)");
      else equal((first.value as Error).name, "HandshakeError", "the end");
      await finish(transport);
      return first.type === "opened"
        ? "the runtime accepted it"
        : `refused: "${(first.value as Error).message}"`;
    },

  "heartbeat without a message: an idle timeout after interval + timeout, once": async (
    { peer },
  ) => {
    const started = performance.now();
    const { transport, log } = connect(`${peer}/silent`, {
      closeTimeout: 1000,
      heartbeat: { interval: 150, timeout: 150, message: undefined },
    });
    await log.next(["opened"]);
    const opened = log.all[0].at;
    const end = await log.end(3000);
    equal(end.type, "heartbeatTimeout", "the end");
    const after = end.at - opened;
    check(after >= 295 && after < 1300, `timed out ${after} ms after opening`);
    await within(transport.done, 2000, "done");
    await sleep(100);
    equal(log.types, ["opened", "heartbeatTimeout"], "events");
    transport.release();
    return `timed out ${Math.round(after)} ms after opening (${
      Math.round(opened - started)
    } ms to open)`;
  },

  "heartbeat with a message: probes after silence, rtt measured, no timeout while answered": async (
    { peer },
  ) => {
    const { transport, log } = await open(`${peer}/answer-probe`, {
      heartbeat: { interval: 100, timeout: 400, message: text("ping") },
    });
    await log.next(["rtt"], 3000, 3);
    const rtts = log.of("rtt").map((e) => e.value as number);
    check(rtts.every((ms) => ms >= 0 && ms < 400), `rtt ${rtts}`);
    check(!log.types.includes("heartbeatTimeout"), `events ${log.types}`);
    // The answers are ordinary frames, each after its rtt.
    equal(log.of("frame")[0].value, text("pong"), "the answer");
    await finish(transport);
    return `rtt ${rtts.map((ms) => ms.toFixed(1)).join(", ")} ms`;
  },

  "heartbeat with a message: a server that stops answering times out": async ({ peer }) => {
    const { transport, log } = await open(`${peer}/answer-probe?answers=1`, {
      closeTimeout: 1000,
      heartbeat: { interval: 100, timeout: 150, message: text("ping") },
    });
    const end = await log.end(3000);
    equal(end.type, "heartbeatTimeout", "the end");
    // One answer (rtt), then a probe unanswered: about interval + interval + timeout.
    const after = end.at - log.all[0].at;
    check(after >= 340 && after < 1500, `timed out ${after} ms after opening`);
    equal(log.types, ["opened", "rtt", "frame", "heartbeatTimeout"], "events");
    await within(transport.done, 2000, "done");
  },

  "heartbeat: any frame counts as a sign of life": async ({ peer }) => {
    const { transport, log } = await open(`${peer}/tick?every=40`, {
      heartbeat: { interval: 100, timeout: 100, message: undefined },
    });
    await sleep(600);
    check(log.of("frame").length >= 5, `${log.of("frame").length} ticks`);
    check(!log.types.includes("heartbeatTimeout"), "timed out");
    await finish(transport);
  },

  "heartbeat: no timeout while reading is paused; the silence counts again from resume()": async (
    { peer },
  ) => {
    const log = new EventLog();
    const { transport } = connect(`${peer}/silent`, {
      closeTimeout: 1000,
      heartbeat: { interval: 100, timeout: 100, message: undefined },
    }, log);
    let paused = false;
    log.onOpened = () => (paused = transport.pause());
    await log.next(["opened"]);
    if (!paused) {
      await finish(transport);
      return "WebSocket: cannot pause";
    }
    await sleep(500);
    check(!log.types.includes("heartbeatTimeout"), "timed out while paused");
    const resumed = performance.now();
    transport.resume();
    const end = await log.end(3000);
    equal(end.type, "heartbeatTimeout", "the end");
    const after = end.at - resumed;
    check(after >= 195 && after < 1200, `timed out ${after} ms after resume()`);
    await within(transport.done, 2000, "done");
  },

  "pause(): false over WebSocket; over WebSocketStream the flood waits in TCP and then arrives whole":
    async ({ peer }) => {
      if (!onStreamPath()) {
        const { transport } = await open(`${peer}/echo`);
        equal(transport.pause(), false, "pause()");
        await finish(transport);
        return "WebSocket: cannot pause";
      }
      const COUNT = 2048;
      const SIZE = 32 * 1024;
      const log = new EventLog();
      let paused = false;
      const { transport } = connect(`${peer}/flood?count=${COUNT}&size=${SIZE}`, {}, log);
      // Paused before the first read.
      log.onOpened = () => (paused = transport.pause());
      await log.next(["opened"]);
      check(paused, "pause() returned false");
      await sleep(800);
      const whilePaused = log.of("frame").length;
      check(whilePaused <= 1, `${whilePaused} frames arrived while paused`);
      transport.send(text("report"));
      await sleep(200);
      transport.resume();
      await log.next(["frame"], 20_000, COUNT + 2);
      const frames = log.of("frame").map((e) => e.value as ReceivedFrame);
      let report = -1;
      let next = 0;
      for (const f of frames) {
        if (f.type === "text") {
          if (f.data.startsWith("report:")) report = Number(f.data.slice(7));
          continue;
        }
        const data = f.data as Uint8Array;
        equal(data.length, SIZE, "frame size");
        const index = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
        equal(index, next++, "frame order");
      }
      equal(next, COUNT, "frames");
      equal(frames.at(-1), text("end"), "the last frame");
      check(report >= 0 && report < COUNT, `the server wrote ${report} of ${COUNT} while paused`);
      await finish(transport);
      return `while paused the server could write ${report} of ${COUNT} frames (${
        (report * SIZE / 2 ** 20).toFixed(1)
      } MiB of ${(COUNT * SIZE / 2 ** 20).toFixed(0)}), ${whilePaused} delivered`;
    },
};

/**
 * The let-go case, for child processes only (it leaves the runtime's socket behind): connects
 * to a peer that completes the upgrade and then never answers, with a heartbeat, and lets go:
 * `close`, the client's close; `heartbeat`, the heartbeat's timeout (the peer ignores the probe).
 * Resolves with how long `done` took after the close or the timeout; the caller then watches
 * the process.
 */
export async function letGo(
  peer: string,
  closeTimeout: number,
  how: "close" | "heartbeat",
): Promise<number> {
  const { transport, log } = await open(`${peer}/silent?deaf`, {
    closeTimeout,
    heartbeat: { interval: 50, timeout: 50, message: text("ping") },
  });
  if (how === "close") transport.close(1000, "bye");
  else equal((await log.end()).type, "heartbeatTimeout", "the end");
  const started = performance.now();
  await transport.done;
  return performance.now() - started;
}
