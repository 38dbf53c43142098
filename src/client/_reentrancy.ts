// Internal: noticing a callback that waits for its own client. The client runs one callback at a
// time, and a request (sendFrame, disconnect, stop, call, connect, ready) is served after the
// callback running now; so a callback that awaits one of its own client's requests waits for
// ever. Three ways to notice it, from sure to likely:
//
// - A request made while a callback runs synchronously comes from that callback. It is held
//   until the callback returns: a plain result lets it go (nothing can wait on it); a promise
//   means the callback is async and may await it, so it is refused with a DeadlockError.
// - An async function callback runs inside an AsyncLocalStorage (where the runtime has one:
//   Deno, Node, Bun): a request made from its continuation while it is still running is refused.
// - Otherwise (a browser, a callback that returns a promise without being an async function),
//   a request that has waited a few seconds behind the same unfinished callback is logged once.

import { DeadlockError } from "./errors.ts";

interface Storage {
  run<R>(store: unknown, fn: () => R): R;
  getStore(): unknown;
}

const storage = (() => {
  try {
    const process = (globalThis as {
      process?: { getBuiltinModule?: (id: string) => unknown };
    }).process;
    const hooks = process?.getBuiltinModule?.("node:async_hooks") as
      | { AsyncLocalStorage?: new () => Storage }
      | undefined;
    return hooks?.AsyncLocalStorage === undefined ? undefined : new hooks.AsyncLocalStorage();
  } catch {
    return undefined;
  }
})();

const AsyncFunction = (async () => {}).constructor;

/** How long a request may wait behind one unfinished async callback before a warning. */
export const WAIT_WARNING_MS = 5000;

/** A request: what it is, what makes it (for the client's `make`), and how to refuse it. */
interface Held {
  readonly request: string;
  readonly go: unknown;
  readonly refuse: (error: DeadlockError) => void;
}

/** One run of an async callback, as its AsyncLocalStorage store. */
interface Run {
  readonly guard: ReentrancyGuard;
  readonly callback: string;
}

/** The timer functions the guard uses (the client's clock). */
interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** What the guard asks of its client. */
interface Host {
  /** Logs the guard's warning. */
  warn(message: string): void;
  /** Makes a request the guard lets go (`go` as given to `request`). */
  make(go: unknown): void;
}

/** One client's guard. */
export class ReentrancyGuard {
  /** The callback running synchronously now, and the requests it made: one, or a list. */
  #sync: string | undefined;
  #held: Held | Held[] | undefined;
  /** The async callback the client waits for, if any. */
  #running: Run | undefined;
  #timers: Timers;
  #host: Host;
  #warning: unknown;

  constructor(timers: Timers, host: Host) {
    this.#timers = timers;
    this.#host = host;
  }

  /**
   * Runs callback `name` (`fn`); requests it makes while it runs synchronously are held and,
   * once it returns, let go (a plain result) or refused (a promise).
   */
  call(name: string, fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
    this.#sync = name;
    let value: unknown;
    try {
      if (storage !== undefined && fn instanceof AsyncFunction) {
        const run: Run = { guard: this, callback: name };
        value = storage.run(run, () => fn.apply(self, args));
        if (isThenable(value)) this.#running = run;
      } else value = fn.apply(self, args);
    } finally {
      this.#sync = undefined;
    }
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      const async = isThenable(value);
      if (Array.isArray(held)) { for (const h of held) this.#letGo(h, async, name); }
      else this.#letGo(held, async, name);
    }
    return value;
  }

  /** A held request goes once its callback returned: refused if it returned a promise. */
  #letGo(h: Held, async: boolean, name: string): void {
    if (async) h.refuse(new DeadlockError(h.request, name));
    else this.#host.make(h.go);
  }

  /** The client waits for an async callback's promise (after `call` returned it). */
  waiting(name: string): void {
    if (this.#running === undefined || this.#running.callback !== name) {
      this.#running = { guard: this, callback: name };
    }
  }

  /** The async callback the client waited for has settled. */
  settled(): void {
    this.#running = undefined;
    if (this.#warning !== undefined) this.#timers.clearTimeout(this.#warning);
    this.#warning = undefined;
  }

  /** Whether no callback runs (or is awaited) now: a request can go at once. */
  get idle(): boolean {
    return this.#sync === undefined && this.#running === undefined;
  }

  /**
   * A request from the handle: made now, held, or refused (see the module comment). `go` is
   * what the client's `make` makes it with.
   */
  request(request: string, go: unknown, refuse: (error: DeadlockError) => void): void {
    if (this.#sync !== undefined) {
      const h: Held = { request, go, refuse };
      const held = this.#held;
      if (held === undefined) this.#held = h;
      else if (Array.isArray(held)) held.push(h);
      else this.#held = [held, h];
      return;
    }
    const running = this.#running;
    if (running !== undefined) {
      const store = storage?.getStore() as Run | undefined;
      if (store !== undefined && store === running) {
        refuse(new DeadlockError(request, running.callback));
        return;
      }
      this.#watch(request, running);
    }
    this.#host.make(go);
  }

  /** Warns once if `request` is still stuck behind `run` a few seconds from now. */
  #watch(request: string, run: Run): void {
    if (this.#warning !== undefined) return;
    this.#warning = this.#timers.setTimeout(() => {
      this.#warning = undefined;
      if (this.#running !== run) return;
      this.#host.warn(
        `${request} has waited ${
          WAIT_WARNING_MS / 1000
        } s behind ${run.callback}, which has not returned: if ${run.callback} awaits its own client's ${request}, it waits for ever (the client runs one callback at a time); return push(...), disconnect(...) or stop(...) from it instead, or use sendFrameAsync`,
      );
    }, WAIT_WARNING_MS);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
