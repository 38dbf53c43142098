// Records what callbacks saw, and waits for it with a deadline (what the Elixir library's tests
// received as messages).

import { type Callbacks, type DisconnectReason, type Logger, ok } from "../../mod.ts";

/** One recorded event. */
export interface Recorded {
  readonly type: string;
  readonly value?: unknown;
  /** The user state the callback saw, for events recorded by {@linkcode recordingCallbacks}. */
  readonly state?: unknown;
  readonly at: number;
}

/** Collects events; `next` waits for the next one that matches. */
export class Recorder {
  readonly events: Recorded[] = [];
  #cursor = 0;
  #waiters: Array<() => void> = [];

  /** Records an event. */
  push(type: string, value?: unknown, state?: unknown): void {
    this.events.push({ type, value, state, at: performance.now() });
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Events of `type` recorded so far. */
  all(type: string): Recorded[] {
    return this.events.filter((e) => e.type === type);
  }

  /**
   * Waits for the next event of `type` after the cursor (optionally matching `pred`), up to
   * `timeout` ms, and moves the cursor past it.
   */
  async next(
    type: string,
    timeout = 2000,
    pred: (v: unknown) => boolean = () => true,
  ): Promise<Recorded> {
    const deadline = performance.now() + timeout;
    for (;;) {
      for (let i = this.#cursor; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.type === type && pred(e.value)) {
          this.#cursor = i + 1;
          return e;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `No "${type}" event within ${timeout} ms; saw: ${
            JSON.stringify(this.events.slice(this.#cursor).map((e) => e.type))
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asserts that no event of `type` arrives within `ms`. */
  async none(type: string, ms: number): Promise<void> {
    const start = this.events.length;
    await new Promise((r) => setTimeout(r, ms));
    const late = this.events.slice(start).filter((e) => e.type === type);
    if (late.length > 0) {
      throw new Error(`Expected no "${type}" event within ${ms} ms, got ${late.length}`);
    }
  }
}

/** A logger that records every message with its level. */
export function recordingLogger(): Logger & {
  messages: Array<{ level: string; message: string }>;
} {
  const messages: Array<{ level: string; message: string }> = [];
  const rec = (level: string) => (message: string) => void messages.push({ level, message });
  return {
    messages,
    debug: rec("debug"),
    info: rec("info"),
    warn: rec("warn"),
    error: rec("error"),
  };
}

/**
 * Callbacks that record every call in `rec` (the Elixir library's test client sent them as
 * messages): "connected" (value: the connect info), "frame", "ping", "info" and "disconnected"
 * (value: the reason), each with the user state in `.state`. Each override runs after its call is
 * recorded and decides the result; without one the result is `ok(state)`.
 */
export function recordingCallbacks<S, A = S, M = unknown>(
  rec: Recorder,
  overrides: Partial<Callbacks<S, A, M>> = {},
): Callbacks<S, A, M> {
  return {
    ...(overrides.init ? { init: overrides.init } : {}),
    handleConnect(state, info) {
      rec.push("connected", info, state);
      return overrides.handleConnect ? overrides.handleConnect(state, info) : ok(state);
    },
    handleFrame(frame, state) {
      rec.push("frame", frame, state);
      return overrides.handleFrame ? overrides.handleFrame(frame, state) : ok(state);
    },
    handlePing(payload, state) {
      rec.push("ping", payload, state);
      return overrides.handlePing ? overrides.handlePing(payload, state) : ok(state);
    },
    handleInfo(message, state) {
      rec.push("info", message, state);
      return overrides.handleInfo ? overrides.handleInfo(message, state) : ok(state);
    },
    handleDisconnect(reason, state) {
      rec.push("disconnected", reason, state);
      return overrides.handleDisconnect ? overrides.handleDisconnect(reason, state) : ok(state);
    },
  };
}

/** Resolves after `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection after `ms` real milliseconds. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every 5 ms until it holds, failing after `timeout` ms. */
export async function waitFor(cond: () => boolean, what: string, timeout = 2000): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeout} ms: ${what}`);
    await sleep(5);
  }
}

/** The reconnects a client scheduled, read from its debug log through `recordingLogger`. */
export function scheduledReconnects(
  log: ReturnType<typeof recordingLogger>,
): Array<{ delay: number; retry: number }> {
  return log.messages.flatMap((m) => {
    const match = /Reconnecting in (\d+) ms \(retry (\d+)/.exec(m.message);
    return match ? [{ delay: Number(match[1]), retry: Number(match[2]) }] : [];
  });
}

/** The reason of the next "disconnected" event recorded by {@linkcode recordingCallbacks}. */
export async function nextDisconnect(rec: Recorder, timeout = 2000): Promise<DisconnectReason> {
  return (await rec.next("disconnected", timeout)).value as DisconnectReason;
}
