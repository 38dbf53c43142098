// The actor's mailbox on its own: first in, first out; postFirst jumps the queue; close() hands
// back what was still waiting and ends the consumer's turns; one turn serves a whole burst of
// posts; onIdle runs when the consumer finds the queue empty, before it waits.

import assert from "node:assert/strict";
import { Mailbox } from "../../src/client/_mailbox.ts";

/** Everything waiting, taken without waiting. */
function drain<T>(box: Mailbox<T>): T[] {
  const out: T[] = [];
  for (let item = box.take(); item !== undefined; item = box.take()) out.push(item);
  return out;
}

/** Lets every pending promise reaction and the next macrotask run. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("mailbox: items are taken in the order they were posted; take() on an empty box is undefined", () => {
  const box = new Mailbox<number>();
  assert.equal(box.take(), undefined);
  for (let i = 1; i <= 5; i++) box.post(i);
  assert.equal(box.take(), 1);
  box.post(6);
  assert.deepEqual(drain(box), [2, 3, 4, 5, 6]);
  assert.equal(box.take(), undefined);
});

Deno.test("mailbox: postFirst puts an item before every waiting item, also after some were taken", () => {
  const box = new Mailbox<string>();
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
  const box = new Mailbox<number>();
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
  const box = new Mailbox<string>();
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

Deno.test("mailbox: turns() serves a burst of posts in one turn, and the next burst in the next", async () => {
  const box = new Mailbox<number>();
  const turns: number[][] = [];
  const consumer = (async () => {
    for await (const _ of box.turns()) turns.push(drain(box));
  })();
  for (let i = 0; i < 100; i++) box.post(i); // one synchronous burst
  await tick();
  assert.deepEqual(turns, [Array.from({ length: 100 }, (_, i) => i)]);
  box.post(100);
  box.post(101);
  await tick();
  assert.deepEqual(turns.slice(1), [[100, 101]]);
  box.close();
  await consumer;
  assert.equal(turns.length, 2, "one turn per burst");
});

Deno.test("mailbox: a consumer that takes only part of a burst gets another turn at once for the rest", async () => {
  const box = new Mailbox<string>();
  const seen: string[][] = [];
  const consumer = (async () => {
    for await (const _ of box.turns()) {
      seen.push([box.take()!]); // one item per turn
      if (seen.length === 3) break;
    }
  })();
  box.post("a");
  box.post("b");
  box.post("c");
  await consumer;
  assert.deepEqual(seen, [["a"], ["b"], ["c"]]);
});

Deno.test("mailbox: turns() waits on an empty box until a post wakes it", async () => {
  const box = new Mailbox<string>();
  const seen: string[] = [];
  const consumer = (async () => {
    for await (const _ of box.turns()) seen.push(...drain(box));
  })();
  await tick();
  assert.deepEqual(seen, [], "nothing to serve yet");
  setTimeout(() => box.post("later"), 5);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(seen, ["later"]);
  box.close();
  await consumer;
});

Deno.test("mailbox: close() ends the consumer's iteration while it waits, and before it starts", async () => {
  const waiting = new Mailbox<number>();
  let turns = 0;
  const consumer = (async () => {
    for await (const _ of waiting.turns()) turns++;
  })();
  await tick();
  waiting.close();
  await consumer;
  assert.equal(turns, 0);

  const closed = new Mailbox<number>();
  closed.post(1);
  assert.deepEqual(closed.close(), [1]);
  for await (const _ of closed.turns()) assert.fail("a closed box yields no turn");
});

Deno.test("mailbox: onIdle runs each time the consumer finds the box empty, before it waits", async () => {
  const box = new Mailbox<string>();
  const log: string[] = [];
  box.onIdle = () => log.push(`idle after ${log.filter((l) => l.startsWith("took")).length}`);
  const consumer = (async () => {
    for await (const _ of box.turns()) {
      for (const item of drain(box)) log.push(`took ${item}`);
    }
  })();
  await tick();
  assert.deepEqual(log, ["idle after 0"]);
  box.post("a");
  box.post("b");
  await tick();
  assert.deepEqual(log, ["idle after 0", "took a", "took b", "idle after 2"]);
  box.close();
  await consumer;
  assert.equal(log.length, 4, "no idle call once closed");
});

Deno.test("mailbox: an item posted from onIdle is served without waiting", async () => {
  const box = new Mailbox<string>();
  const seen: string[] = [];
  let idles = 0;
  box.onIdle = () => {
    idles++;
    if (idles === 1) box.post("from idle"); // e.g. a flush that produced more work
  };
  const consumer = (async () => {
    for await (const _ of box.turns()) {
      seen.push(...drain(box));
      if (seen.length === 1) box.close();
    }
  })();
  await consumer;
  assert.deepEqual(seen, ["from idle"]);
  assert.equal(idles, 1);
});
