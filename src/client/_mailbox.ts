// Internal: an unbounded FIFO of events consumed by one loop, woken by an async generator.
//
// Producers post synchronously; the single consumer iterates. `postFirst` jumps the queue, for
// failures the driver discovers while performing effects.

/** One consumer's queue of items. */
export class Mailbox<T> {
  #items: T[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  /** Called when the consumer finds the queue empty, before it waits. */
  onIdle: (() => void) | undefined;

  /** Appends an item. Ignored once closed. */
  post(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#signal();
  }

  /** Puts an item before every other waiting item. */
  postFirst(item: T): void {
    if (this.#closed) return;
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
    this.#signal();
  }

  /** Ends the iteration, returning the items that were still waiting. */
  close(): T[] {
    const rest = this.#items.slice(this.#head);
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    this.#signal();
    return rest;
  }

  /** Takes the next waiting item without waiting, or `undefined`. */
  take(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /**
   * Yields each time items are waiting, until closed; the consumer takes them with `take()`
   * (all of them, or as many as it likes) before it asks for the next turn. One turn serves a
   * whole burst of posts, so a burst costs one resumption of the generator, not one per item.
   * Before it waits on an empty queue it calls `onIdle`.
   */
  async *turns(): AsyncGenerator<void, void, undefined> {
    while (!this.#closed) {
      if (this.#head < this.#items.length) {
        yield;
        continue;
      }
      this.onIdle?.();
      if (this.#head < this.#items.length || this.#closed) continue;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #signal(): void {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      wake();
    }
  }
}
