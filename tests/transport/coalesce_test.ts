import assert from "node:assert/strict";
import { coalesce } from "../../src/transport/_stream.ts";

const KiB = 1024;
const chunk = (size: number, byte: number) => new Uint8Array(size).fill(byte);

Deno.test("coalesce: a run of small chunks becomes one buffer, in order; large chunks go as they are", () => {
  const large = chunk(64 * KiB, 9);
  const chunks = [chunk(10, 1), chunk(20, 2), chunk(30, 3), large, chunk(5, 4)];
  const first = coalesce(chunks, 0);
  assert.equal(first.end, 3);
  assert.deepEqual(first.bytes, new Uint8Array([...chunks[0], ...chunks[1], ...chunks[2]]));
  const second = coalesce(chunks, first.end);
  assert.equal(second.end, 4);
  assert.equal(second.bytes, large, "a large chunk is not copied");
  const third = coalesce(chunks, second.end);
  assert.equal(third.end, 5);
  assert.equal(third.bytes, chunks[4], "a lone small chunk is not copied");
});

Deno.test("coalesce: a run stops before it would pass 256 KiB", () => {
  const chunks = Array.from({ length: 6 }, (_, i) => chunk(60 * KiB, i));
  const first = coalesce(chunks, 0);
  assert.equal(first.end, 4, "4 × 60 KiB = 240 KiB; a fifth would pass 256 KiB");
  assert.equal(first.bytes.length, 240 * KiB);
  assert.equal(first.bytes[60 * KiB], 1);
  const second = coalesce(chunks, first.end);
  assert.equal(second.end, 6);
  assert.equal(second.bytes.length, 120 * KiB);
});
