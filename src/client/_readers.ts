// Internal: the readers of a client's events (`conn.events()`) and frames (`conn.frames()`).
//
// Each reader is an async iterator over its own queue. An events reader's queue is bounded by a
// count: when it is full the oldest event is dropped, and the reader is told how many it missed
// before the next one it gets. A frames reader's queue is bounded by the client's inbound flow
// control instead: the bytes it holds count toward receiveBuffer, so a reader that falls behind
// pauses reading from the socket. Both end when the client stops (after what they hold), and a
// reader that breaks out of its loop is released at once.

import type { ClientEvent } from "./events.ts";
import type { ReceivedFrame } from "../vocabulary/frame.ts";

/** One reader: a queue and the consumer waiting on it. */
abstract class Reader<T> implements AsyncIterableIterator<T> {
  protected queue: T[] = [];
  #wake: ((result: IteratorResult<T>) => void) | undefined;
  #ended = false;
  #released = false;
  #release: () => void;

  constructor(release: () => void) {
    this.#release = release;
  }

  /** Hands `item` to a waiting consumer (true), or queues it (false). */
  protected deliver(item: T): boolean {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake({ value: item, done: false });
      return true;
    }
    this.queue.push(item);
    return false;
  }

  /** Whether the reader still takes items. */
  get open(): boolean {
    return !this.#ended;
  }

  /** The next queued item for the consumer. */
  protected take(): T {
    return this.queue.shift()!;
  }

  /** Called for each queued item that is dropped unread. */
  protected dropped(_item: T): void {}

  /** No more items: the consumer gets what is queued, then the end. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.#ended) {
      this.#releaseOnce();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => (this.#wake = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    for (const item of this.queue) this.dropped(item);
    this.queue = [];
    this.#releaseOnce();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  #releaseOnce(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release();
  }
}

/** A `conn.events()` reader: at most `capacity` events behind, then the oldest are dropped. */
export class EventReader extends Reader<ClientEvent> {
  #capacity: number;
  #missed = 0;

  constructor(capacity: number, release: () => void) {
    super(release);
    this.#capacity = capacity;
  }

  push(event: ClientEvent): void {
    if (!this.open) return;
    if (this.queue.length >= this.#capacity) {
      this.queue.shift();
      this.#missed++;
    }
    this.deliver(event);
  }

  protected override take(): ClientEvent {
    if (this.#missed > 0) {
      const missed: ClientEvent = { type: "missed", count: this.#missed, at: this.queue[0].at };
      this.#missed = 0;
      return missed;
    }
    return super.take();
  }
}

/** A `conn.frames()` reader: the bytes it holds count toward the client's receiveBuffer. */
export class FrameReader extends Reader<ReceivedFrame> {
  #cost: (frame: ReceivedFrame) => number;
  #held: (bytes: number) => void;

  /**
   * @param cost What a frame is taken to cost while it waits.
   * @param held Called with `+cost` when a frame is queued, `-cost` when it leaves the queue.
   * @param release Called once, when the reader is done.
   */
  constructor(
    cost: (frame: ReceivedFrame) => number,
    held: (bytes: number) => void,
    release: () => void,
  ) {
    super(release);
    this.#cost = cost;
    this.#held = held;
  }

  push(frame: ReceivedFrame): void {
    if (!this.open) return;
    if (!this.deliver(frame)) this.#held(this.#cost(frame));
  }

  protected override take(): ReceivedFrame {
    const frame = super.take();
    this.#held(-this.#cost(frame));
    return frame;
  }

  protected override dropped(frame: ReceivedFrame): void {
    this.#held(-this.#cost(frame));
  }
}
