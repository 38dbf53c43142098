// Internal: a FIFO of events consumed by one loop, woken by an async generator.
//
// Producers post synchronously; the single consumer iterates. `postFirst` jumps the queue, for
// failures the driver discovers while performing effects. `postUrgent` serves an item (a stop,
// a disconnect) before a backlog of received frames: it is taken next, after the items waiting
// in front of it that must keep their order (the caller's earlier commands), while everything
// else stays where it was. The FIFO is bounded by the driver (inbound flow control), not here.

/** One consumer's queue of items. */
export class Mailbox<T> {
  #items: T[] = [];
  #head = 0;
  /** Items taken before `#items`: `postFirst` and `postUrgent`, in order. */
  #urgent: T[] = [];
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
    this.#urgent.unshift(item);
    this.#signal();
  }

  /**
   * Serves `item` before the waiting items, except those `keepsOrder` picks (say, the commands
   * posted before it), which are moved ahead of it in their order. One pass over the queue.
   */
  postUrgent(item: T, keepsOrder: (waiting: T) => boolean): void {
    if (this.#closed) return;
    const items = this.#items;
    let kept = this.#head;
    for (let i = this.#head; i < items.length; i++) {
      const waiting = items[i];
      if (keepsOrder(waiting)) this.#urgent.push(waiting);
      else items[kept++] = waiting;
    }
    items.length = kept;
    this.#urgent.push(item);
    this.#signal();
  }

  /** Ends the iteration, returning the items that were still waiting. */
  close(): T[] {
    const rest = [...this.#urgent, ...this.#items.slice(this.#head)];
    this.#closed = true;
    this.#items = [];
    this.#urgent = [];
    this.#head = 0;
    this.#signal();
    return rest;
  }

  /** Takes the next waiting item without waiting, or `undefined`. */
  take(): T | undefined {
    if (this.#urgent.length > 0) return this.#urgent.shift();
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
      if (this.#head < this.#items.length || this.#urgent.length > 0) {
        yield;
        continue;
      }
      this.onIdle?.();
      if (this.#head < this.#items.length || this.#urgent.length > 0 || this.#closed) continue;
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
