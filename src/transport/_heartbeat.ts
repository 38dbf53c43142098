// Internal: the heartbeat's clock work, shared by both transports. After `interval` ms in which
// nothing arrived it asks its host for a probe; when nothing at all arrives within `timeout` ms
// of the probe, it tells the host the peer is gone.
//
// Time is read from the clock (performance.now), not counted in timer ticks, and a timer that
// fires much later than it was set for means this process was not running (a suspended laptop,
// a throttled background tab, a long synchronous task): then the silence is ours, not the
// peer's, so a fresh probe goes out and the full `timeout` is waited again. And before it gives
// up, it lets the event loop read what may be waiting on the socket (one more macrotask), so a
// loop that was merely busy does not mistake unread data for silence.
//
// Every heartbeat of the process waits on one timer (`Heartbeat.#clock`): they are kept in a
// binary heap by when they are due, and the timer is set for the earliest. An idle connection
// then holds no timer of its own (a Node `Timeout`, its closure and context: a few hundred bytes
// each); the heap is changed only when a heartbeat's deadline moves (once per interval), never
// per message. Once no heartbeat waits, the timer holds the process no more (see `#Clock`).

import type { ResolvedHeartbeat } from "./heartbeat.ts";

/** What the heartbeat asks of its transport. */
export interface HeartbeatHost {
  /** Send a probe (a ping, or the application's message). */
  probe(): void;
  /** Nothing arrived within `timeout` ms of the probe: the peer is gone. */
  timedOut(): void;
}

/** A timer that fires later than set by more than this (ms) means the process was paused. */
const PAUSE_THRESHOLD = 1000;

/** One connection's heartbeat. `start()` once the connection is open, `stop()` when it ends. */
export class Heartbeat {
  #interval: number;
  #timeout: number;
  #host: HeartbeatHost;
  /** When something last arrived. */
  #lastIn = 0;
  /** When the outstanding probe went out, or -1. */
  #probeAt = -1;
  /** When it is due (while `#slot` >= 0: it waits in the clock's heap, at that index). */
  #due = 0;
  /** Its index in the clock's heap, or -1. */
  #slot = -1;
  /** The one macrotask it waits before it gives up (see `#fire`). */
  #turn: ReturnType<typeof setTimeout> | undefined;
  /** Reading is paused by flow control: the silence is ours, nothing times out. */
  #paused = false;
  #stopped = false;

  constructor(settings: ResolvedHeartbeat, host: HeartbeatHost) {
    this.#interval = settings.interval;
    this.#timeout = settings.timeout;
    this.#host = host;
  }

  /** Starts watching (the connection is open). */
  start(): void {
    const now = performance.now();
    this.#lastIn = now;
    this.#arm(now + this.#interval);
  }

  /** Something arrived: called for every chunk or frame received, so it only reads the clock. */
  received(): void {
    this.#lastIn = performance.now();
  }

  /** Inbound reading is paused (flow control): no timeout until `resume()`. */
  pause(): void {
    this.#paused = true;
  }

  /** Inbound reading resumed: the silence counts again from now. */
  resume(): void {
    this.#paused = false;
    this.#lastIn = performance.now();
  }

  /** Stops for good. */
  stop(): void {
    this.#stopped = true;
    Heartbeat.#clock.remove(this);
    clearTimeout(this.#turn);
    this.#turn = undefined;
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    Heartbeat.#clock.set(this, at);
  }

  #fire(): void {
    if (this.#stopped) return;
    const now = performance.now();
    if (this.#paused) {
      this.#lastIn = now;
      this.#probeAt = -1;
      this.#arm(now + this.#interval);
      return;
    }
    if (now - this.#due > PAUSE_THRESHOLD) {
      // This process was not running: probe afresh rather than blame the peer.
      this.#probe(now);
      return;
    }
    if (this.#probeAt < 0) {
      if (now - this.#lastIn < this.#interval) this.#arm(this.#lastIn + this.#interval);
      else this.#probe(now);
      return;
    }
    if (this.#lastIn >= this.#probeAt) {
      // Alive: the next probe is due `interval` after the last sign of life.
      this.#probeAt = -1;
      this.#arm(this.#lastIn + this.#interval);
      return;
    }
    // Out of time; give the event loop one turn to read what may be waiting, then decide.
    this.#turn = setTimeout(() => {
      this.#turn = undefined;
      if (this.#stopped) return;
      if (this.#paused || this.#lastIn >= this.#probeAt) this.#fire();
      else {
        this.#stopped = true;
        this.#host.timedOut();
      }
    }, 0);
  }

  #probe(now: number): void {
    this.#probeAt = now;
    this.#arm(now + this.#timeout);
    this.#host.probe();
  }

  /**
   * The one timer every heartbeat waits on: a binary heap of heartbeats by `due`, and a timer set
   * for the earliest. Empty, it holds the process no more (so nothing keeps a process alive, or
   * trips a test's sanitizer, once every heartbeat has stopped): where the runtime can unref a
   * timer, the pending one is unref'd and kept, to be ref'd again by the next heartbeat whose
   * deadline is no earlier (setting a timer costs microseconds on Deno, and connections opened and
   * closed one after another would set and clear one each); elsewhere it is cleared.
   */
  static #Clock = class {
    #heap: Heartbeat[] = [];
    #timer: ReturnType<typeof setTimeout> | undefined;
    /** When the timer fires (Infinity when none is set). */
    #timerAt = Infinity;
    /** The timer is unref'd: it fires, but keeps no process alive. */
    #unrefed = false;
    #onTimer = () => this.#tick();

    /** Sets (or moves) `beat`'s deadline to `at`. */
    set(beat: Heartbeat, at: number): void {
      const heap = this.#heap;
      const old = beat.#due;
      beat.#due = at;
      if (beat.#slot < 0) {
        beat.#slot = heap.length;
        heap.push(beat);
        this.#up(beat.#slot);
      } else if (at < old) this.#up(beat.#slot);
      else this.#down(beat.#slot);
      this.#schedule();
    }

    /** Takes `beat` out, if it waits. */
    remove(beat: Heartbeat): void {
      const slot = beat.#slot;
      if (slot < 0) return;
      beat.#slot = -1;
      const heap = this.#heap;
      const last = heap.pop()!;
      if (slot < heap.length) {
        heap[slot] = last;
        last.#slot = slot;
        this.#down(slot);
        this.#up(last.#slot);
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
     * Sets the timer for the earliest deadline, unless it is set for that one or an earlier (and
     * then holds the process with it again, if it was unref'd).
     */
    #schedule(): void {
      const first = this.#heap[0];
      if (first === undefined) return;
      if (first.#due >= this.#timerAt) {
        if (this.#unrefed) {
          setRef(this.#timer!, true);
          this.#unrefed = false;
        }
        return;
      }
      clearTimeout(this.#timer);
      this.#unrefed = false;
      this.#timerAt = first.#due;
      this.#timer = setTimeout(this.#onTimer, Math.max(0, first.#due - performance.now()));
    }

    /** Fires every heartbeat that is due (each out of the heap first: it sets its next deadline). */
    #tick(): void {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#unrefed = false;
      const heap = this.#heap;
      const now = performance.now();
      while (heap.length > 0 && heap[0].#due <= now) {
        const beat = heap[0];
        this.remove(beat);
        try {
          beat.#fire();
        } catch (error) {
          // One heartbeat's failure must not keep the others waiting.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
      this.#schedule();
    }

    #up(i: number): void {
      const heap = this.#heap;
      const beat = heap[i];
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const above = heap[parent];
        if (above.#due <= beat.#due) break;
        heap[i] = above;
        above.#slot = i;
        i = parent;
      }
      heap[i] = beat;
      beat.#slot = i;
    }

    #down(i: number): void {
      const heap = this.#heap;
      const n = heap.length;
      const beat = heap[i];
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap[child + 1].#due < heap[child].#due) child++;
        const below = heap[child];
        if (below.#due >= beat.#due) break;
        heap[i] = below;
        below.#slot = i;
        i = child;
      }
      heap[i] = beat;
      beat.#slot = i;
    }
  };

  /** The clock every heartbeat waits on. */
  static #clock = new Heartbeat.#Clock();
}

/**
 * Refs or unrefs `timer` (whether it keeps the process alive): a Node or Bun `Timeout`, or a Deno
 * timer id. Returns false where the runtime cannot (a browser: then nothing needs it).
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
    // Not a timer Deno knows (a fake clock's): leave it as it is.
    return false;
  }
}
