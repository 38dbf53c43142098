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
// A heartbeat waits in the process's timer heap itself (see `timers.ts`), rather than on a
// runtime timer: an idle connection then holds no timer of its own (a Node `Timeout`, its
// closure and context: a few hundred bytes each), and its deadline moves in the heap only once
// per interval, never per message.

import type { ResolvedHeartbeat } from "./heartbeat.ts";
import { Timed, timers } from "./timers.ts";

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
export class Heartbeat extends Timed {
  #interval: number;
  #timeout: number;
  #host: HeartbeatHost;
  /** When something last arrived. */
  #lastIn = 0;
  /** When the outstanding probe went out, or -1. */
  #probeAt = -1;
  /** The one macrotask it waits before it gives up (see `fire`). */
  #turn: ReturnType<typeof setTimeout> | undefined;
  /** Reading is paused by flow control: the silence is ours, nothing times out. */
  #paused = false;
  #stopped = false;

  constructor(settings: ResolvedHeartbeat, host: HeartbeatHost) {
    super();
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
    timers.remove(this);
    clearTimeout(this.#turn);
    this.#turn = undefined;
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    timers.set(this, at);
  }

  /** Its deadline came (`Timed`): probes, gives up or waits on, as the clock says. */
  fire(): void {
    if (this.#stopped) return;
    const now = performance.now();
    if (this.#paused) {
      this.#lastIn = now;
      this.#probeAt = -1;
      this.#arm(now + this.#interval);
      return;
    }
    if (now - this.due > PAUSE_THRESHOLD) {
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
      if (this.#paused || this.#lastIn >= this.#probeAt) this.fire();
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
}
