// Internal: an unbounded FIFO of events consumed by one async generator.
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

  /** Yields items in order until closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    while (!this.#closed) {
      const item = this.take();
      if (item !== undefined) {
        yield item;
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
