/**
 * The process's timers on one runtime timer. Every deadline a client keeps (each
 * connection's heartbeat, connect and close timeouts, reconnect waits, call timeouts) waits in one
 * binary heap, ordered by when it is due and then by when it was set, and one runtime timer is
 * set for the earliest. Setting a runtime timer costs microseconds on Deno (about 2 µs in a tight
 * loop, 10-16 µs where a connection's cycle sets it), and connections opened and closed one after
 * another would set and clear several each; here most deadlines only go in and out of the heap.
 *
 * While something waits, the runtime timer holds the process, as each timer would. Once nothing
 * waits, it holds it no more (nothing keeps a process alive, or trips a test's sanitizer): where
 * the runtime can unref a timer, the pending one is unref'd and kept, to be ref'd again by the
 * next deadline due no earlier; elsewhere (a browser, where nothing needs it) it is cleared.
 *
 * @module
 */

/** Something that waits in the heap: extended by what fires (a heartbeat, a plain timeout). */
export abstract class Timed {
  /** When it is due (`performance.now()` time), while it waits. */
  due = 0;
  /** Its index in the heap, or -1 while it does not wait. */
  slot = -1;
  /** When it was set, in order: among deadlines due at once, the earlier set fires first. */
  order = 0;

  /** Called once it is due, after it left the heap (it may set itself again). */
  abstract fire(): void;
}

/** The longest delay a runtime timer takes (2^31 - 1 ms); a later deadline is waited in steps. */
const MAX_DELAY = 2 ** 31 - 1;

class TimerHeap {
  #heap: Timed[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the runtime timer fires (Infinity when none is set). */
  #timerAt = Infinity;
  /** The runtime timer is unref'd: it fires, but keeps no process alive. */
  #unrefed = false;
  #sets = 0;
  #onTimer = () => this.#tick();

  /** Sets (or moves) `timed`'s deadline to `at` (`performance.now()` time). */
  set(timed: Timed, at: number): void {
    const heap = this.#heap;
    const wasDue = timed.due;
    timed.due = at;
    // Set last of all: among deadlines due at once it goes after the others.
    timed.order = ++this.#sets;
    if (timed.slot < 0) {
      timed.slot = heap.length;
      heap.push(timed);
      this.#up(timed.slot);
    } else if (at < wasDue) this.#up(timed.slot);
    else this.#down(timed.slot);
    this.#schedule();
  }

  /** Takes `timed` out, if it waits. */
  remove(timed: Timed): void {
    const slot = timed.slot;
    if (slot < 0) return;
    timed.slot = -1;
    const heap = this.#heap;
    const last = heap.pop()!;
    if (slot < heap.length) {
      heap[slot] = last;
      last.slot = slot;
      this.#down(slot);
      this.#up(last.slot);
    }
    if (heap.length === 0 && this.#timer !== undefined && !this.#unrefed) {
      if (setRef(this.#timer, false)) this.#unrefed = true;
      else {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#timerAt = Infinity;
      }
    }
  }

  /**
   * Sets the runtime timer for the earliest deadline, unless it is set for that one or an earlier
   * (and then holds the process with it again, if it was unref'd).
   */
  #schedule(): void {
    const first = this.#heap[0];
    if (first === undefined) return;
    if (first.due >= this.#timerAt) {
      if (this.#unrefed) {
        setRef(this.#timer!, true);
        this.#unrefed = false;
      }
      return;
    }
    clearTimeout(this.#timer);
    this.#unrefed = false;
    this.#timerAt = first.due;
    const delay = Math.min(MAX_DELAY, Math.max(0, first.due - performance.now()));
    this.#timer = setTimeout(this.#onTimer, delay);
  }

  /** Fires everything due, in order, each out of the heap first (it may set itself again). */
  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#unrefed = false;
    const heap = this.#heap;
    const now = performance.now();
    while (heap.length > 0 && heap[0].due <= now) {
      const timed = heap[0];
      this.remove(timed);
      try {
        timed.fire();
      } catch (error) {
        // One deadline's failure must not keep the others waiting; it is reported as a timer's.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.#schedule();
  }

  /** Whether `a` comes before `b`: due earlier, or at once and set earlier. */
  static #before(a: Timed, b: Timed): boolean {
    return a.due < b.due || (a.due === b.due && a.order < b.order);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const timed = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent];
      if (!TimerHeap.#before(timed, above)) break;
      heap[i] = above;
      above.slot = i;
      i = parent;
    }
    heap[i] = timed;
    timed.slot = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const timed = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && TimerHeap.#before(heap[child + 1], heap[child])) child++;
      const below = heap[child];
      if (!TimerHeap.#before(below, timed)) break;
      heap[i] = below;
      below.slot = i;
      i = child;
    }
    heap[i] = timed;
    timed.slot = i;
  }
}

/** The heap every deadline of the process waits in. */
export const timers: TimerHeap = new TimerHeap();

/** A plain timeout on the heap: `fn` once, `ms` from when it was set. */
class Timeout extends Timed {
  #fn: () => void;

  constructor(fn: () => void) {
    super();
    this.#fn = fn;
  }

  fire(): void {
    this.#fn();
  }
}

/**
 * Calls `fn` once, `ms` from now, as `setTimeout` does (the process is held while it waits), on
 * the shared heap.
 */
export function setTimer(fn: () => void, ms: number): Timed {
  const timeout = new Timeout(fn);
  timers.set(timeout, performance.now() + (ms > 0 ? ms : 0));
  return timeout;
}

/** Cancels a timer from {@linkcode setTimer}; nothing for `undefined` or a timer already fired. */
export function clearTimer(timer: Timed | undefined): void {
  if (timer !== undefined) timers.remove(timer);
}

/**
 * Refs or unrefs `timer` (whether it keeps the process alive): a Node, Bun or Deno `Timeout`, or
 * a Deno timer id. Returns false where the runtime cannot (a browser: then nothing needs it).
 */
function setRef(timer: ReturnType<typeof setTimeout>, ref: boolean): boolean {
  if (typeof timer === "object" && timer !== null) {
    const t = timer as { ref?: () => unknown; unref?: () => unknown };
    if (typeof t.ref !== "function" || typeof t.unref !== "function") return false;
    if (ref) t.ref();
    else t.unref();
    return true;
  }
  const deno = (globalThis as {
    Deno?: { refTimer?: (id: number) => void; unrefTimer?: (id: number) => void };
  }).Deno;
  const change = ref ? deno?.refTimer : deno?.unrefTimer;
  if (typeof change !== "function") return false;
  try {
    change(timer as number);
    return true;
  } catch {
    // Not a timer Deno knows (a fake clock's): left as it is.
    return false;
  }
}
