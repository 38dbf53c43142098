// Internal: the caller of `conn.call`, handed to `handleCall` as its `from`. It settles the
// caller's promise once: with the answer, with an error, or when the caller gives up (its
// timeout, its signal, the client stopping); after that it is stale and drops late answers.

import type { From } from "./call.ts";
import { CallTimeoutError } from "./errors.ts";

/** The timer functions a caller uses (the client's clock). */
interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** One call's caller. */
export class Caller implements From {
  #resolve: (value: unknown) => void;
  #reject: (error: unknown) => void;
  #pending = true;
  #timers: Timers;
  #timer: unknown;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #controller: AbortController | undefined;
  #late: (what: string) => void;
  #done: (caller: Caller) => void;

  /**
   * @param late Logs a late answer (a debug line).
   * @param done Called once, when the caller stops waiting.
   */
  constructor(
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    timeout: number,
    signal: AbortSignal | undefined,
    timers: Timers,
    late: (what: string) => void,
    done: (caller: Caller) => void,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timers = timers;
    this.#late = late;
    this.#done = done;
    if (timeout !== Infinity) {
      this.#timer = timers.setTimeout(() => {
        this.#timer = undefined;
        this.#giveUp(new CallTimeoutError(timeout));
      }, timeout);
    }
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.#giveUp(signal.reason);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  reply(value: unknown): boolean {
    if (!this.#pending) {
      this.#late("reply");
      return false;
    }
    this.#finish();
    this.#resolve(value);
    return true;
  }

  reject(error: unknown): boolean {
    if (!this.#pending) {
      this.#late("rejection");
      return false;
    }
    this.#finish();
    this.#reject(error);
    return true;
  }

  get pending(): boolean {
    return this.#pending;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (!this.#pending) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** The caller stops waiting with `error` (timeout, abort, the client stopped). */
  #giveUp(error: unknown): void {
    if (!this.#pending) return;
    this.#finish();
    this.#reject(error);
  }

  /** The client stopped: the caller hears `error`. */
  stop(error: unknown): void {
    this.#giveUp(error);
  }

  #finish(): void {
    this.#pending = false;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener("abort", this.#onAbort);
    this.#onAbort = undefined;
    this.#controller?.abort();
    this.#done(this);
  }
}
