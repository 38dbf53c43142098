// The actor's mailbox on its own: first in, first out; postFirst jumps the queue; close() hands
// back what was still waiting and ends the serving; one turn serves a whole burst of posts; the
// consumer rests when it finds the queue empty, and is served again by the next post (postNow:
// at once, in the call).

import assert from "node:assert/strict";
import { type Consumer, Mailbox } from "../../src/client/_mailbox.ts";

/** A consumer for boxes that are never started: their items are taken by hand. */
const unused: Consumer = {
  serve: () => assert.fail("a box that was not started serves nobody"),
};

/** Everything waiting, taken without waiting. */
function drain<T>(box: Mailbox<T>): T[] {
  const out: T[] = [];
  for (let item = box.take(); item !== undefined; item = box.take()) out.push(item);
  return out;
}

/**
 * A consumer that takes everything waiting on each turn (or only `perTurn` items, then rests),
 * and records each turn; `idle` runs when it finds the box empty, before it rests.
 */
class Recorder<T> implements Consumer {
  readonly turns: T[][] = [];
  box: Mailbox<T>;
  idle: (() => void) | undefined;
  perTurn: number;

  constructor(perTurn = Infinity) {
    this.box = new Mailbox<T>(this);
    this.perTurn = perTurn;
  }

  serve(): void {
    for (;;) {
      const turn: T[] = [];
      for (let item = this.box.take(); item !== undefined; item = this.box.take()) {
        turn.push(item);
        if (turn.length >= this.perTurn) break;
      }
      if (turn.length > 0) this.turns.push(turn);
      if (turn.length >= this.perTurn) continue;
      this.idle?.();
      if (this.box.rest()) return;
    }
  }
}

/** Lets every pending promise reaction and the next macrotask run. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("mailbox: items are taken in the order they were posted; take() on an empty box is undefined", () => {
  const box = new Mailbox<number>(unused);
  assert.equal(box.take(), undefined);
  for (let i = 1; i <= 5; i++) box.post(i);
  assert.equal(box.take(), 1);
  box.post(6);
  assert.deepEqual(drain(box), [2, 3, 4, 5, 6]);
  assert.equal(box.take(), undefined);
});

Deno.test("mailbox: postFirst puts an item before every waiting item, also after some were taken", () => {
  const box = new Mailbox<string>(unused);
  box.postFirst("only");
  assert.deepEqual(drain(box), ["only"]);
  box.post("a");
  box.post("b");
  box.postFirst("first"); // nothing taken yet
  assert.deepEqual(drain(box), ["first", "a", "b"]);
  box.post("c");
  box.post("d");
  box.post("e");
  assert.equal(box.take(), "c");
  box.postFirst("urgent"); // one taken: the freed slot is reused
  box.postFirst("more urgent");
  assert.deepEqual(drain(box), ["more urgent", "urgent", "d", "e"]);
});

Deno.test("mailbox: order holds across many items taken while more are posted", () => {
  const box = new Mailbox<number>(unused);
  const taken: number[] = [];
  let next = 0;
  // More than 1024 taken while others still wait: the box compacts its storage meanwhile.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 1500; i++) box.post(next++);
    for (let i = 0; i < 1000; i++) taken.push(box.take()!);
  }
  box.postFirst(-1);
  taken.push(...drain(box));
  assert.equal(taken.length, next + 1);
  assert.deepEqual(taken.slice(0, 5000), Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(taken[5000], -1, "postFirst jumped the 2500 still waiting");
  assert.deepEqual(taken.slice(5001), Array.from({ length: 2500 }, (_, i) => 5000 + i));
});

Deno.test("mailbox: close() returns the items still waiting, in order, and later posts are ignored", () => {
  const box = new Mailbox<string>(unused);
  box.post("a");
  box.post("b");
  box.post("c");
  assert.equal(box.take(), "a");
  box.postFirst("z");
  assert.deepEqual(box.close(), ["z", "b", "c"]);
  assert.equal(box.take(), undefined);
  box.post("late");
  box.postFirst("later");
  assert.equal(box.take(), undefined);
  assert.deepEqual(box.close(), [], "a second close has nothing left");
});

Deno.test("mailbox: one turn serves a burst of posts, and the next burst the next turn", async () => {
  const r = new Recorder<number>();
  r.box.start();
  for (let i = 0; i < 100; i++) r.box.post(i); // one synchronous burst
  await tick();
  assert.deepEqual(r.turns, [Array.from({ length: 100 }, (_, i) => i)]);
  r.box.post(100);
  r.box.post(101);
  await tick();
  assert.deepEqual(r.turns.slice(1), [[100, 101]]);
  r.box.close();
  r.box.post(102);
  await tick();
  assert.equal(r.turns.length, 2, "one turn per burst, none once closed");
});

Deno.test("mailbox: a consumer that takes only part of a burst takes the rest at once", async () => {
  const r = new Recorder<string>(1);
  r.box.post("a");
  r.box.post("b");
  r.box.post("c");
  r.box.start();
  await tick();
  assert.deepEqual(r.turns, [["a"], ["b"], ["c"]]);
});

Deno.test("mailbox: posts wait for start(), and a consumer that rests on an empty box is served by the next post", async () => {
  const r = new Recorder<string>();
  r.box.post("early");
  await tick();
  assert.deepEqual(r.turns, [], "not started yet");
  r.box.start();
  await tick();
  assert.deepEqual(r.turns, [["early"]]);
  await tick();
  assert.equal(r.turns.length, 1, "nothing to serve");
  setTimeout(() => r.box.post("later"), 5);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(r.turns, [["early"], ["later"]]);
  r.box.close();
});

Deno.test("mailbox: close() ends the serving while the consumer rests, and before it starts", async () => {
  const resting = new Recorder<number>();
  resting.box.start();
  await tick();
  resting.box.close();
  resting.box.post(1);
  await tick();
  assert.deepEqual(resting.turns, []);
  assert.equal(resting.box.rest(), true, "a closed box lets its consumer stop");

  const closed = new Recorder<number>();
  closed.box.post(1);
  assert.deepEqual(closed.box.close(), [1]);
  closed.box.start();
  await tick();
  assert.deepEqual(closed.turns, [], "a closed box serves no turn");
});

Deno.test("mailbox: the consumer finds the box empty before each rest, after what it took", async () => {
  const r = new Recorder<string>();
  const log: string[] = [];
  r.idle = () => log.push(`idle after ${r.turns.flat().length}`);
  r.box.start();
  await tick();
  assert.deepEqual(log, ["idle after 0"]);
  r.box.post("a");
  r.box.post("b");
  await tick();
  assert.deepEqual(r.turns, [["a", "b"]]);
  assert.deepEqual(log, ["idle after 0", "idle after 2"]);
  r.box.close();
  r.box.post("c");
  await tick();
  assert.equal(log.length, 2, "no turn once closed");
});

Deno.test("mailbox: an item posted before the consumer rests is served without waiting", async () => {
  const r = new Recorder<string>();
  let idles = 0;
  r.idle = () => {
    idles++;
    if (idles === 1) r.box.post("from idle"); // e.g. a flush that produced more work
  };
  r.box.start();
  // Served within the same turn of the event loop: no timer, no second wake-up.
  await Promise.resolve();
  assert.deepEqual(r.turns, [["from idle"]]);
  assert.equal(idles, 2);
  r.box.close();
});

Deno.test("mailbox: one microtask serves every consumer woken meanwhile, and one woken while they are served", async () => {
  const order: string[] = [];
  const a = new Recorder<string>();
  const b = new Recorder<string>();
  a.idle = () => order.push("a rests");
  b.idle = () => order.push("b rests");
  a.box.start();
  b.box.start();
  await tick();
  order.length = 0;
  a.idle = () => {
    order.push("a rests");
    if (order.length === 1) b.box.post("from a");
  };
  a.box.post("x");
  await Promise.resolve();
  assert.deepEqual(order, ["a rests", "b rests"]);
  assert.deepEqual(b.turns, [["from a"]]);
  a.box.close();
  b.box.close();
});

Deno.test("mailbox: postNow serves a resting consumer in the call; otherwise it posts (in order, served later); closed, it is ignored", async () => {
  const r = new Recorder<string>();
  r.box.postNow("before start");
  assert.deepEqual(r.turns, []);
  r.box.start();
  await tick();
  assert.deepEqual(r.turns, [["before start"]]);
  // Resting: served at once, in the call.
  r.box.postNow("a");
  assert.deepEqual(r.turns, [["before start"], ["a"]]);
  // Woken by a post: the next item waits behind it, for the same turn.
  r.box.post("b");
  r.box.postNow("c");
  assert.deepEqual(r.turns.length, 2);
  await Promise.resolve();
  assert.deepEqual(r.turns, [["before start"], ["a"], ["b", "c"]]);
  // Posted while it is being served: taken in the same serving, after what it was serving.
  r.idle = () => {
    r.idle = undefined;
    r.box.postNow("e");
  };
  r.box.postNow("d");
  assert.deepEqual(r.turns, [["before start"], ["a"], ["b", "c"], ["d"], ["e"]]);
  r.box.close();
  r.box.postNow("f");
  await tick();
  assert.equal(r.turns.length, 5);
});

Deno.test("mailbox: a consumer failing in postNow does not fail the caller (reported as from the microtask)", async () => {
  const failure = new Error("consumer failed");
  const box: Mailbox<string> = new Mailbox<string>({
    serve() {
      const item = box.take();
      box.rest();
      if (item !== undefined) throw failure;
    },
  });
  box.start();
  await tick();
  const reported = new Promise<unknown>((resolve) => {
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      globalThis.removeEventListener("error", onError);
      resolve(e.error);
    };
    globalThis.addEventListener("error", onError);
  });
  box.postNow("x");
  assert.equal(await reported, failure);
  box.close();
});
