// Inbound flow control in the client: received frames waiting for the application are bounded by
// receiveBuffer; over it the transport is paused, below half of it resumed; a transport that
// cannot pause has its connection failed. And a stop or a disconnect takes effect once the
// callback running now returns, not after the backlog. (The transports' own pausing is tested
// in tests/transport/ and tests/e2e/.)

import assert from "node:assert/strict";
import {
  defineClient,
  type DisconnectReason,
  ok,
  ParleyError,
  type ReceivedFrame,
} from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, startScripted, text } from "../support/scripted_client.ts";

/** A handleFrame that waits for the test to let each frame through. */
function gated() {
  const seen: string[] = [];
  const waiting: Array<() => void> = [];
  const def = defineClient({
    async handleFrame(frame: ReceivedFrame, state: null) {
      if (frame.type === "text") seen.push(frame.data);
      await new Promise<void>((resolve) => waiting.push(resolve));
      return ok(state);
    },
  });
  const letThrough = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await until(() => waiting.length > 0, "a frame in handleFrame");
      waiting.shift()!();
    }
    await settle();
  };
  return { def, seen, waiting, letThrough };
}

const KiB = 1024;

Deno.test("flow control: over receiveBuffer the transport is paused once; below half of it, resumed once; nothing is dropped", async () => {
  const g = gated();
  await using h = await startScripted(g.def, null, { receiveBuffer: 16 * KiB });
  const c = await openScripted(h);
  // 40 frames of 1 KiB: the bound is passed around the 16th.
  for (let i = 0; i < 40; i++) c.text(`${i}`.padEnd(KiB, "."));
  assert.equal(c.pauses, 1);
  assert.equal(c.resumes, 0);
  // Handling frames brings the backlog under 8 KiB (half) only after about 32 of them.
  await g.letThrough(20);
  assert.equal(c.resumes, 0);
  await g.letThrough(15);
  assert.equal(c.resumes, 1);
  assert.equal(c.pauses, 1);
  await g.letThrough(5);
  assert.deepEqual(g.seen.map((s) => Number(s.replace(/\.+$/, ""))), [...Array(40).keys()]);
});

Deno.test("flow control: a transport that cannot pause has its connection failed with a clear error, ahead of the backlog", async () => {
  const reasons: DisconnectReason[] = [];
  let handled = 0;
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => release = resolve);
  await using h = await startScripted(
    defineClient({
      async handleFrame(_f: ReceivedFrame, s: null) {
        handled++;
        await blocked;
        return ok(s);
      },
      handleDisconnect: (r, s) => {
        reasons.push(r);
        return ok(s);
      },
    }),
    null,
    { receiveBuffer: 4 * KiB },
  );
  const c = await openScripted(h);
  c.canPause = false;
  c.text("first");
  await until(() => handled === 1, "the first frame in handleFrame");
  for (let i = 0; i < 100; i++) c.text("x".repeat(KiB));
  assert.equal(c.pauses, 1);
  release();
  await until(() => reasons.length === 1, "handleDisconnect");
  const reason = reasons[0];
  assert.equal(reason.kind, "error");
  assert.ok(reason.kind === "error" && reason.error instanceof ParleyError);
  assert.match(
    (reason as { error: Error }).error.message,
    /Cannot keep up with the server: more than 4096 bytes of received messages wait for the application, and the web transport cannot pause reading/,
  );
  // The backlog was not handled first: only the frame that was running.
  assert.equal(handled, 1);
  assert.equal(c.releases, 1);
});

Deno.test("flow control: receiveBuffer Infinity never pauses", async () => {
  const g = gated();
  await using h = await startScripted(g.def, null, { receiveBuffer: Infinity });
  const c = await openScripted(h);
  for (let i = 0; i < 200; i++) c.text("y".repeat(64 * KiB));
  assert.equal(c.pauses, 0);
  await g.letThrough(200);
});

Deno.test("stop() during a backlog takes effect once the running callback returns, and rejects nothing it should not", async () => {
  const g = gated();
  await using h = await startScripted(g.def, null);
  const c = await openScripted(h);
  for (let i = 0; i < 10_000; i++) c.text(`m${i}`);
  await until(() => g.waiting.length === 1, "the first frame in handleFrame");
  const stopped = h.conn.stop();
  g.waiting.shift()!();
  assert.deepEqual(await stopped, { kind: "normal" });
  assert.equal(g.seen.length, 1);
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
});

Deno.test("disconnect() during a backlog goes ahead of it, but after the frames sent before it", async () => {
  const g = gated();
  await using h = await startScripted(g.def, null);
  const c = await openScripted(h);
  for (let i = 0; i < 1000; i++) c.text(`m${i}`);
  await until(() => g.waiting.length === 1, "the first frame in handleFrame");
  h.conn.sendFrameAsync(text("before"));
  const disconnected = h.conn.disconnect({ code: 4000, reason: "enough" });
  g.waiting.shift()!();
  await disconnected;
  assert.equal(h.conn.state, "disconnected");
  assert.equal(g.seen.length, 1);
  assert.deepEqual(c.ops.filter((o) => o.op === "send" || o.op === "close"), [
    { op: "send", frame: text("before") },
    { op: "close", code: 4000, reason: "enough" },
  ]);
});
