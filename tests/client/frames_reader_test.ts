// conn.frames(): the received frames as an async iterable, beside handleFrame; a reader that
// falls behind holds its frames within receiveBuffer (the transport is paused past it), and the
// iteration ends when the client stops.

import assert from "node:assert/strict";
import { defineClient, ok, type ReceivedFrame } from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, startScripted } from "../support/scripted_client.ts";

Deno.test("frames(): every frame received from now on, after handleFrame, ending (after what it holds) at stop", async () => {
  const handled: string[] = [];
  await using h = await startScripted(
    defineClient({
      handleFrame(frame: ReceivedFrame, s: null) {
        if (frame.type === "text") handled.push(frame.data);
        return ok(s);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  const reader = h.conn.frames();
  for (let i = 0; i < 5; i++) c.text(`m${i}`);
  c.frame({ type: "binary", data: new Uint8Array([1]) });
  await until(() => handled.length === 5, "handleFrame");
  const stopping = h.conn.stop();
  const got: ReceivedFrame[] = [];
  for await (const frame of reader) got.push(frame);
  await stopping;
  assert.deepEqual(got, [
    ...[0, 1, 2, 3, 4].map((i) => ({ type: "text", data: `m${i}` })),
    { type: "binary", data: new Uint8Array([1]) },
  ]);
});

Deno.test("frames(): a reader that falls behind pauses the transport past receiveBuffer and resumes it as it catches up; nothing is lost", async () => {
  await using h = await startScripted(defineClient({}), null, { receiveBuffer: 8 * 1024 });
  const c = await openScripted(h);
  const reader = h.conn.frames();
  for (let i = 0; i < 64; i++) c.text(`${i}`.padEnd(1024, "."));
  await settle();
  assert.equal(c.pauses, 1);
  assert.equal(c.resumes, 0);
  const got: number[] = [];
  for (let i = 0; i < 64; i++) {
    const { value } = await reader.next();
    got.push(Number((value as { data: string }).data.replace(/\.+$/, "")));
  }
  assert.equal(c.resumes, 1);
  assert.deepEqual(got, [...Array(64).keys()]);
  await reader.return!();
});

Deno.test("frames(): breaking out releases the reader and what it held, so reading resumes", async () => {
  await using h = await startScripted(defineClient({}), null, { receiveBuffer: 4 * 1024 });
  const c = await openScripted(h);
  const reader = h.conn.frames();
  for (let i = 0; i < 16; i++) c.text("x".repeat(1024));
  await settle();
  assert.equal(c.pauses, 1);
  for await (const _ of reader) break;
  assert.equal(c.resumes, 1);
  // Later frames go to nobody: once the client has handled them nothing is held, and reading
  // is not left paused.
  for (let i = 0; i < 16; i++) c.text("y".repeat(1024));
  await settle();
  assert.equal(c.resumes, c.pauses);
});
