// The raw ceiling's stream cutting (bench/raw_framing.ts): whatever the chunk boundaries, the
// same messages come out, in order, intact.

import assert from "node:assert/strict";
import { concat, frame, FrameReader, MessageSplitter, nextWrite } from "./raw_framing.ts";

/** Cuts `bytes` into chunks of pseudo-random sizes from 1 to `max`. */
function chunks(bytes: Uint8Array, max: number, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let x = seed;
  for (let at = 0; at < bytes.length;) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = Math.min(bytes.length - at, 1 + (x % max));
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

const message = (size: number, k: number) => Uint8Array.from({ length: size }, (_, i) => i + k);

Deno.test("MessageSplitter cuts a byte stream into its fixed-size messages", () => {
  for (const size of [1, 7, 100, 5000]) {
    for (const max of [1, 3, size, 3 * size + 1, 10_000]) {
      const sent = Array.from({ length: 20 }, (_, k) => message(size, k));
      const got: Uint8Array[] = [];
      const splitter = new MessageSplitter(size, (m) => got.push(m.slice()));
      for (const c of chunks(concat(sent), max, size + max)) splitter.push(c);
      assert.deepEqual(got, sent, `size ${size}, chunks up to ${max}`);
    }
  }
});

Deno.test("FrameReader reads framed messages across any chunking", () => {
  const sent = [message(3, 1), "sink 64 256", message(0, 0), message(70_000, 2), "end"];
  for (const max of [1, 2, 5, 6, 100, 70_010, 200_000]) {
    const got: Array<Uint8Array | string> = [];
    const reader = new FrameReader((m) => got.push(typeof m === "string" ? m : m.slice()));
    for (const c of chunks(concat(sent.map(frame)), max, max)) reader.push(c);
    assert.deepEqual(got, sent, `chunks up to ${max}`);
  }
});

Deno.test("nextWrite joins runs of small messages and keeps large ones whole", () => {
  const small = message(10, 0);
  const large = message(20_000, 0);
  const queue = [small, small, large, small];
  assert.deepEqual(nextWrite(queue), concat([small, small]));
  assert.equal(nextWrite(queue), large);
  assert.equal(nextWrite(queue), small);
  assert.equal(queue.length, 0);
});
