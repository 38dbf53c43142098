// Internal: a FIFO of events served to one consumer, which is called when items are waiting.
//
// Producers post synchronously; the consumer takes items with `take()` when it is served, and
// calls `rest()` once it has found nothing more to take: it is then served again, from a
// microtask, after the next post. While it is being served, or waits for something of its own (an
// async callback), posts only queue: it takes them when it goes on. No promise, generator or
// closure per mailbox or per turn: an idle consumer costs its mailbox's few fields.
//
// `postNow` serves a resting consumer at once, in the producer's own call, rather than from a
// microtask: for producers called straight from the event loop (the web transport's frames),
// never from inside the consumer's own work.
// `postFirst` jumps the queue, for failures the driver discovers while performing effects.
// `postUrgent` serves an item (a stop, a disconnect) before a backlog of received frames: it is
// taken next, after the items waiting in front of it that must keep their order (the caller's
// earlier commands), while everything else stays where it was. The FIFO is bounded by the driver
// (inbound flow control), not here.

/** What a mailbox serves. */
export interface Consumer {
  /** Items are waiting: take them (`take()`), then `rest()` (or go on later, then `rest()`). */
  serve(): void;
}

/** One consumer's queue of items. */
export class Mailbox<T> {
  /**
   * The first waiting item, posted to an empty box (the usual case: one event per wake-up),
   * taken before `#items`; items are never undefined.
   */
  #first: T | undefined;
  /** Waiting items after `#first`, from `#head` on; undefined while there are none. */
  #items: T[] | undefined;
  #head = 0;
  /** Items taken before `#items`: `postFirst` and `postUrgent`, in order. */
  #urgent: T[] | undefined;
  #consumer: Consumer;
  /** The consumer rests: the next post has it served. */
  #resting = false;
  #closed = false;

  /** A mailbox served to `consumer` once `start()` is called. */
  constructor(consumer: Consumer) {
    this.#consumer = consumer;
  }

  /** Appends an item. Ignored once closed. */
  post(item: T): void {
    if (this.#closed) return;
    if (this.#first === undefined && this.#items === undefined) this.#first = item;
    else (this.#items ??= []).push(item);
    this.#wake();
  }

  /**
   * Appends an item; a resting consumer (nothing waiting, nothing of its own under way) is served
   * at once, in this call, rather than from a microtask. Only for a caller on a turn of its own
   * (an event listener): the consumer may call back into whatever called this.
   */
  postNow(item: T): void {
    if (this.#closed) return;
    if (!this.#resting) {
      this.post(item);
      return;
    }
    this.#resting = false;
    this.#first = item;
    // As from the microtask: the consumer's own failure is not the caller's.
    serveAlone(this.#consumer);
  }

  /** Puts an item before every other waiting item. */
  postFirst(item: T): void {
    if (this.#closed) return;
    (this.#urgent ??= []).unshift(item);
    this.#wake();
  }

  /**
   * Serves `item` before the waiting items, except those `keepsOrder` picks (say, the commands
   * posted before it), which are moved ahead of it in their order. One pass over the queue.
   */
  postUrgent(item: T, keepsOrder: (waiting: T) => boolean): void {
    if (this.#closed) return;
    const urgent = this.#urgent ??= [];
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      if (keepsOrder(first)) urgent.push(first);
      else (this.#items ??= []).splice(this.#head, 0, first);
    }
    const items = this.#items;
    if (items !== undefined) {
      let kept = this.#head;
      for (let i = this.#head; i < items.length; i++) {
        const waiting = items[i];
        if (keepsOrder(waiting)) urgent.push(waiting);
        else items[kept++] = waiting;
      }
      items.length = kept;
    }
    urgent.push(item);
    this.#wake();
  }

  /** Serves the consumer for the first time (items posted before wait for it). */
  start(): void {
    if (!this.#closed) schedule(this.#consumer);
  }

  /**
   * The consumer found nothing more to take: returns true when it may stop (the box is empty, and
   * the next post serves it again; or the box is closed), false when items are waiting (posted
   * since its last `take()`): it takes them now.
   */
  rest(): boolean {
    if (this.#closed) return true;
    if (this.#waiting) return false;
    this.#resting = true;
    return true;
  }

  /** Ends the serving, returning the items that were still waiting. */
  close(): T[] {
    const rest = [...(this.#urgent ?? [])];
    if (this.#first !== undefined) rest.push(this.#first);
    if (this.#items !== undefined) rest.push(...this.#items.slice(this.#head));
    this.#closed = true;
    this.#first = undefined;
    this.#items = undefined;
    this.#urgent = undefined;
    this.#head = 0;
    return rest;
  }

  /** Takes the next waiting item without waiting, or `undefined`. */
  take(): T | undefined {
    const urgent = this.#urgent;
    if (urgent !== undefined && urgent.length > 0) return urgent.shift();
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      return first;
    }
    const items = this.#items;
    if (items === undefined || this.#head >= items.length) return undefined;
    const item = items[this.#head];
    items[this.#head++] = undefined as T;
    if (this.#head === items.length) {
      this.#items = undefined;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  get #waiting(): boolean {
    return (this.#urgent !== undefined && this.#urgent.length > 0) || this.#first !== undefined ||
      (this.#items !== undefined && this.#head < this.#items.length);
  }

  #wake(): void {
    if (!this.#resting) return;
    this.#resting = false;
    schedule(this.#consumer);
  }
}

// The consumers to serve, shared by every mailbox: one microtask serves all that were woken
// meanwhile, in order (one woken while they are served joins the end of the line). The list keeps
// its room between turns (emptying it by `length = 0` would give its storage back, to be made
// again by the next turn's first wake-up), up to a bound past which it is let go.
let ready: Array<Consumer | undefined> = [];
let waiting = 0;
let scheduled = false;

/** The most room the list keeps between turns (woken consumers; more are served, then freed). */
const KEPT = 1024;

function schedule(consumer: Consumer): void {
  ready[waiting++] = consumer;
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(serveReady);
}

function serveReady(): void {
  for (let i = 0; i < waiting; i++) {
    const consumer = ready[i]!;
    ready[i] = undefined;
    serveAlone(consumer);
  }
  if (ready.length > KEPT) ready = [];
  waiting = 0;
  scheduled = false;
}

/** Serves `consumer`; a failure of its own is thrown from a microtask, not at whoever served it. */
function serveAlone(consumer: Consumer): void {
  try {
    consumer.serve();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
