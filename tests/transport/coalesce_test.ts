import assert from "node:assert/strict";
import { coalesce, SMALL_CHUNK } from "../../src/transport/_stream.ts";

const KiB = 1024;
const chunk = (size: number, byte: number) => new Uint8Array(size).fill(byte);

Deno.test("coalesce: a run of small chunks becomes one buffer, in order; large chunks (8 KiB and up) go as they are", () => {
  assert.equal(SMALL_CHUNK, 8 * KiB);
  const large = chunk(8 * KiB, 9);
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
  const chunks = Array.from({ length: 70 }, (_, i) => chunk(8 * KiB - 1, i));
  const first = coalesce(chunks, 0);
  assert.equal(first.end, 32, "32 chunks of 8 KiB - 1 fit in 256 KiB; a 33rd would pass it");
  assert.equal(first.bytes.length, 32 * (8 * KiB - 1));
  assert.equal(first.bytes[8 * KiB - 1], 1);
  const second = coalesce(chunks, first.end);
  assert.equal(second.end, 64);
  const third = coalesce(chunks, second.end);
  assert.equal(third.end, 70);
  assert.equal(third.bytes.length, 6 * (8 * KiB - 1));
});

Deno.test("coalesce: the size below which chunks are joined, and the largest buffer, can be given", () => {
  const chunks = [chunk(3 * KiB, 1), chunk(1 * KiB, 2), chunk(1 * KiB, 3), chunk(1 * KiB, 4)];
  assert.equal(coalesce(chunks, 0, 2 * KiB).bytes, chunks[0], "3 KiB is not small below 2 KiB");
  const joined = coalesce(chunks, 1, 2 * KiB, 2 * KiB);
  assert.equal(joined.end, 3, "two 1 KiB chunks fill a 2 KiB limit");
  assert.deepEqual(joined.bytes, new Uint8Array([...chunks[1], ...chunks[2]]));
});
