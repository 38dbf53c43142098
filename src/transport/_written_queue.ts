// Internal: the socket transport's frames that wait to hear whether their bytes went out. Each
// entry is a frame's end offset in its stream (bytes counted from the stream's start) and the
// client's callback; the stream reports how many bytes the operating system has taken, and every
// entry that ends within it is settled, in order. Frames sent without a callback are never
// entered, so they cost nothing here; one with a callback costs two array slots, reused.

import type { Written } from "./transport.ts";

/** Settled entries kept at the front before the arrays are compacted. */
const COMPACT_AT = 1024;

/** Callbacks by the stream offset their frame ends at, in the order the frames were sent. */
export class WrittenQueue {
  #ends: number[] = [];
  #callbacks: Array<Written | undefined> = [];
  /** The first entry not settled yet. */
  #head = 0;

  /** How many callbacks are waiting. */
  get size(): number {
    return this.#ends.length - this.#head;
  }

  /** Adds the callback of a frame whose last byte is at offset `end - 1`. */
  add(end: number, written: Written): void {
    this.#ends.push(end);
    this.#callbacks.push(written);
  }

  /**
   * The operating system has taken the first `total` bytes: calls every waiting callback whose
   * frame ends within them, without an argument. A callback may send (and so add) or settle
   * more meanwhile.
   */
  settle(total: number): void {
    const ends = this.#ends;
    while (this.#head < ends.length && ends[this.#head] <= total) this.#call(undefined);
    this.#compact();
  }

  /** The bytes not taken yet never will be: calls every waiting callback with `error`. */
  fail(error: Error): void {
    while (this.#head < this.#ends.length) this.#call(error);
    this.#compact();
  }

  /** Calls the first waiting callback (moving past it first, so that it may re-enter). */
  #call(error: Error | undefined): void {
    const i = this.#head++;
    const written = this.#callbacks[i]!;
    this.#callbacks[i] = undefined;
    try {
      written(error);
    } catch (thrown) {
      // The client's bug, not the stream's: it must not pass for a failed write.
      queueMicrotask(() => {
        throw thrown;
      });
    }
  }

  #compact(): void {
    const head = this.#head;
    if (head === this.#ends.length) {
      if (head === 0) return;
      this.#ends.length = 0;
      this.#callbacks.length = 0;
      this.#head = 0;
    } else if (head >= COMPACT_AT && head * 2 >= this.#ends.length) {
      this.#ends.splice(0, head);
      this.#callbacks.splice(0, head);
      this.#head = 0;
    }
  }
}
