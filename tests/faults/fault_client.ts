// The client side of the fault suites, runtime-neutral (mod.ts and web APIs only): one Parley
// client through the public API, driven by commands, reporting what it sees as JSON lines
// (`{"event": ..., "ms": ...}`, ms since the client module loaded). tests/faults/fault_main.ts
// runs it in a child process under Deno, Node 24 or Bun (commands on stdin, events on stdout);
// tests/faults/fault_runner.ts also runs it in the test's own process (Deno's WebSocket with the
// sanitizers on).
//
// Events: `connecting` {attempt} (from diagnostics_channel: the first comes before start()
// resolves), `connected`, `disconnected` {reason, epoch}, `reconnecting` {attempt, retry, delay}
// and `stopped` {reason} (from conn.events()), each with `at`, the event's own time in ms since
// the client started (`epoch`: as Date.now(), the test's clock too); `sent` {count}, then
// `settled` {outcomes} once every send of the batch has settled; `text_sent` / `text_failed`;
// `frames` {count, bytes, inOrder, memoryPeak} once an `expect`ed total arrived (`inOrder`: the
// binary frames carried the numbers 0, 1, 2... in their first 4 bytes, as the server's `flood`
// sends them); `outcomes`, `stats`, `stop_returned` {took, reason}; and `report` (the last line).

import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  ClientStoppedError,
  ConnectionError,
  defineClient,
  type DisconnectReason,
  type Frame,
  type Logger,
  ok,
  type ReconnectOptions,
  stayDisconnected,
  type StopReason,
} from "../../mod.ts";

/** How the client starts (`start`'s options, as JSON can carry them). */
export interface FaultClientOptions {
  readonly url: string;
  readonly transport: "socket" | "web";
  readonly heartbeat?:
    | false
    | { interval: number; timeout: number; message?: { type: "text"; data: string } };
  readonly closeTimeout?: number;
  readonly connectTimeout?: number;
  /** The reconnect option; absent: `handleDisconnect` stays disconnected. */
  readonly reconnect?: Omit<ReconnectOptions, "random">;
  readonly receiveBuffer?: number;
  /** Milliseconds `handleFrame` awaits for each frame (a slow consumer). */
  readonly consume?: number;
  /**
   * Samples memory every this many ms while an `expect` waits (heap and external memory after a
   * collection: the runtime must expose one), and reports the peak above the start.
   */
  readonly sampleMemory?: number;
}

/** A command to the client. */
export type FaultCommand =
  /** `count` binary frames of `size` bytes, each by an awaited `sendFrame` (all at once). */
  | { readonly cmd: "send"; readonly count: number; readonly size: number }
  /** One text frame (a command to the server): `text_sent` or `text_failed` once it settles. */
  | { readonly cmd: "text"; readonly data: string }
  /** Prints `frames` once `total` bytes of binary frames have been handled. */
  | { readonly cmd: "expect"; readonly total: number }
  /** Prints the sends' outcomes so far (`outcomes`). */
  | { readonly cmd: "outcomes" }
  /** Prints the client's state and last heartbeat round trip (`stats`). */
  | { readonly cmd: "stats" }
  /** `conn.stop()`, timed. */
  | { readonly cmd: "stop" };

/** Where the client's lines go. */
export type Print = (line: Record<string, unknown>) => void;

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A reason as JSON: its fields, with an error's class and message. */
export function reasonJson(reason: DisconnectReason | StopReason): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(reason)) {
    if (value instanceof Error) out[key] = { name: value.constructor.name, message: value.message };
    else if (key === "lastReason") out[key] = reasonJson(value as DisconnectReason);
    else out[key] = value;
  }
  return out;
}

interface State {
  readonly options: FaultClientOptions;
  readonly frame: (data: Uint8Array | string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const FaultClient = defineClient({
  init: (state: State) => ok(state),
  async handleFrame(frame, state) {
    if (frame.type === "binary" || frame.type === "text") state.frame(frame.data);
    const consume = state.options.consume ?? 0;
    if (consume > 0) await sleep(consume);
    return ok(state);
  },
  handleDisconnect(_reason, state) {
    // The disconnect itself is reported by conn.events().
    return state.options.reconnect === undefined ? stayDisconnected(state) : ok(state);
  },
});

/** Runs one client: starts it, then plays `commands` in order; resolves once they end. */
export async function runFaultClient(
  options: FaultClientOptions,
  commands: AsyncIterable<FaultCommand>,
  print: Print,
): Promise<void> {
  const t0 = performance.now();
  const d0 = Date.now();
  const ms = () => Math.round((performance.now() - t0) * 10) / 10;
  const event = (name: string, detail: Record<string, unknown> = {}) =>
    print({ event: name, ms: ms(), ...detail });

  // Frames handled: binary ones are numbered by their first 4 bytes (the server's counter).
  let frames = 0;
  let frameBytes = 0;
  let inOrder = true;
  let expected: { total: number; done: () => void } | undefined;
  let memoryPeak = 0;
  let memoryBase = -1;
  /**
   * Heap and external memory (array buffers) after a collection, where the runtime has one. V8
   * frees the memory of array buffers it collected only after the current task (a synchronous
   * gc() leaves them counted in `external`): collect, let a task pass, collect again, then read.
   */
  const memory = async () => {
    const g = globalThis as {
      gc?: () => void;
      Bun?: { gc(sync: boolean): void };
      process?: { memoryUsage?: () => { heapUsed: number; external: number } };
    };
    if (g.Bun) g.Bun.gc(true);
    else if (g.gc !== undefined) {
      g.gc();
      await sleep(0);
      g.gc();
    }
    const m = g.process?.memoryUsage?.();
    // Bun's heapUsed counts array buffers already (its external is the part of it they take).
    return m === undefined ? 0 : g.Bun ? m.heapUsed : m.heapUsed + m.external;
  };
  let sampling = false;
  const frame = (data: Uint8Array | string) => {
    if (typeof data === "string") return;
    if (data.length >= 4) {
      const n = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
      if (n !== frames) inOrder = false;
    }
    frames++;
    frameBytes += data.length;
    if (expected !== undefined && frameBytes >= expected.total) expected.done();
  };

  // "connecting" from diagnostics_channel: the first attempt's begins before start() resolves,
  // so before a conn.events() reader can exist. Kept until this client is known (another client
  // may run in the same process).
  const known: { client?: unknown } = {};
  const early: Array<{ client: unknown; at: number; attempt: number }> = [];
  const onConnecting = (message: unknown) => {
    const { client, event: e } = message as {
      client: unknown;
      event: { at: number; attempt: number };
    };
    if (known.client === undefined) early.push({ client, at: e.at, attempt: e.attempt });
    else if (client === known.client) event("connecting", { at: e.at - d0, attempt: e.attempt });
  };
  subscribe("parley:connecting", onConnecting);

  const conn = await FaultClient.start({ options, frame }, {
    url: options.url,
    transport: options.transport,
    logger: quiet,
    heartbeat: options.heartbeat,
    closeTimeout: options.closeTimeout,
    connectTimeout: options.connectTimeout,
    receiveBuffer: options.receiveBuffer,
    reconnect: options.reconnect ?? false,
  });
  known.client = conn;
  for (const e of early.filter((e) => e.client === conn)) {
    event("connecting", { at: e.at - d0, attempt: e.attempt });
  }
  const watching = (async () => {
    for await (const e of conn.events({ buffer: 1000 })) {
      // `at` from the client's start; `epoch` as Date.now() (the test's clock too).
      const at = e.at - d0;
      const epoch = e.at;
      switch (e.type) {
        case "connecting":
          // (From diagnostics_channel, above.)
          break;
        case "connected":
          event("connected", { at });
          break;
        case "disconnected":
          event("disconnected", { at, epoch, reason: reasonJson(e.reason) });
          break;
        case "reconnecting":
          event("reconnecting", { at, attempt: e.attempt, retry: e.retry, delay: e.delay });
          break;
        case "stopped":
          event("stopped", { at, reason: reasonJson(e.reason) });
          break;
        case "missed":
          event("missed", { count: e.count });
          break;
      }
    }
  })();

  // Every awaited send: "pending" until it settles, then "resolved" or the error's class.
  const outcomes: string[] = [];
  const tally = () => {
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
    return counts;
  };
  const settling: Promise<void>[] = [];

  for await (const command of commands) {
    switch (command.cmd) {
      case "send": {
        const data = new Uint8Array(command.size).fill(7);
        const batch: Promise<void>[] = [];
        for (let i = 0; i < command.count; i++) {
          const k = outcomes.push("pending") - 1;
          const frame: Frame = { type: "binary", data };
          batch.push(
            conn.sendFrame(frame).then(
              () => void (outcomes[k] = "resolved"),
              (error: Error) => {
                outcomes[k] = error instanceof ConnectionError
                  ? `ConnectionError ${error.reason.kind}`
                  : error instanceof ClientStoppedError
                  ? "ClientStoppedError"
                  : `${error.constructor.name}: ${error.message}`;
              },
            ),
          );
        }
        event("sent", { count: command.count });
        settling.push(Promise.all(batch).then(() => event("settled", { outcomes: tally() })));
        break;
      }
      case "text":
        settling.push(
          conn.sendFrame({ type: "text", data: command.data }).then(
            () => event("text_sent"),
            (error) => event("text_failed", { error: String(error) }),
          ),
        );
        break;
      case "expect": {
        let sampled = Promise.resolve();
        const every = options.sampleMemory;
        if (every !== undefined) {
          memoryBase = await memory();
          sampling = true;
          sampled = (async () => {
            while (sampling) {
              await sleep(every);
              memoryPeak = Math.max(memoryPeak, await memory() - memoryBase);
            }
          })();
        }
        if (frameBytes < command.total) {
          await new Promise<void>((resolve) => {
            expected = { total: command.total, done: resolve };
          });
        }
        sampling = false;
        await sampled;
        event("frames", { count: frames, bytes: frameBytes, inOrder, memoryPeak, memoryBase });
        break;
      }
      case "outcomes":
        event("outcomes", { outcomes: tally() });
        break;
      case "stats":
        event("stats", { state: conn.state, rtt: conn.stats.rtt });
        break;
      case "stop": {
        const s0 = performance.now();
        const reason = await conn.stop();
        event("stop_returned", {
          took: Math.round(performance.now() - s0),
          reason: reasonJson(reason),
        });
        break;
      }
    }
  }
  await conn.stop();
  await watching;
  unsubscribe("parley:connecting", onConnecting);
  await Promise.all(settling);
  print({
    report: {
      outcomes: tally(),
      frames,
      frameBytes,
      inOrder,
      stats: { ...conn.stats, lastClose: undefined },
      ms: ms(),
    },
  });
}
