// Records what callbacks saw, and waits for it with a deadline (the seed's test_pid messages).

import type { Logger } from "../../mod.ts";

/** One recorded event. */
export interface Recorded {
  readonly type: string;
  readonly value?: unknown;
  readonly at: number;
}

/** Collects events; `next` waits for the next one that matches. */
export class Recorder {
  readonly events: Recorded[] = [];
  #cursor = 0;
  #waiters: Array<() => void> = [];

  /** Records an event. */
  push(type: string, value?: unknown): void {
    this.events.push({ type, value, at: performance.now() });
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
