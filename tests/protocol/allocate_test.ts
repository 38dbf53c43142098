import assert from "node:assert/strict";
import { packed, PACKED_BELOW, release, zeroFilled } from "../../src/protocol/allocate.ts";

/** Four of these fill a shared block (256 KiB). */
const QUARTER = 60_000;

/** Frames cut from a fresh block: the first starts at its beginning. */
function freshBlock(allocate: (size: number) => Uint8Array): Uint8Array[] {
  let first = allocate(QUARTER);
  while (first.byteOffset !== 0) {
    release(first);
    first = allocate(QUARTER);
  }
  const frames = [first, allocate(QUARTER), allocate(QUARTER), allocate(QUARTER)];
  for (const f of frames) assert.equal(f.buffer, first.buffer);
  return frames;
}

Deno.test("packed: frames cut in a row lie next to each other", () => {
  const allocate = packed(zeroFilled);
  const [a, b] = freshBlock(allocate);
  assert.equal(a.byteOffset + a.length, b.byteOffset);
  assert.equal(a.length, QUARTER);
});

Deno.test("packed: a block is reused once every frame cut from it is released", () => {
  const allocate = packed(zeroFilled);
  const frames = freshBlock(allocate);
  // Released as a stream would: a run of two frames as one piece, the others alone.
  release(new Uint8Array(frames[0].buffer, frames[0].byteOffset, 2 * QUARTER));
  release(frames[2]);
  release(frames[3]);
  const next = allocate(QUARTER);
  assert.equal(next.buffer, frames[0].buffer);
  assert.equal(next.byteOffset, 0);
  release(next);
});

Deno.test("packed: a block with a frame not yet released is not reused", () => {
  const allocate = packed(zeroFilled);
  const frames = freshBlock(allocate);
  frames[1].fill(7);
  release(frames[0]);
  release(frames[2]);
  release(frames[3]);
  const next = allocate(QUARTER);
  assert.notEqual(next.buffer, frames[0].buffer);
  next.fill(1);
  assert.ok(frames[1].every((b) => b === 7));
  release(next);
});

Deno.test("packed: a released large buffer serves the next large frame of about its size", () => {
  const allocate = packed(zeroFilled);
  const a = allocate(100_000);
  assert.ok(a.length >= PACKED_BELOW);
  assert.equal(a.length, 100_000);
  assert.equal(a.byteOffset, 0);
  const b = allocate(100_000);
  assert.notEqual(b.buffer, a.buffer, "a frame not released keeps its buffer");
  release(a);
  const c = allocate(120_000);
  assert.equal(c.buffer, a.buffer);
  assert.equal(c.length, 120_000);
  release(b);
  release(c);
});

Deno.test("release: bytes that no packed allocator gave are ignored", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  release(bytes);
  release(bytes.subarray(1));
  assert.deepEqual(bytes, new Uint8Array([1, 2, 3]));
});

Deno.test("packed: the large buffers kept for reuse come to at most 8 MiB in all (released ones beyond it are let go)", () => {
  const allocate = packed(zeroFilled);
  const MiB = 1024 * 1024;
  // Twelve 1.5 MiB frames (2 MiB buffers) and eight 600 KB ones (1 MiB buffers), all released.
  const first = [
    ...Array.from({ length: 12 }, () => allocate(1_500_000)),
    ...Array.from({ length: 8 }, () => allocate(600_000)),
  ];
  const buffers = new Set(first.map((f) => f.buffer));
  assert.equal(buffers.size, 20);
  for (const f of first) release(f);
  // Asked again, what comes from the kept ones is at most 8 MiB of buffers, and some does.
  const again = [
    ...Array.from({ length: 12 }, () => allocate(1_500_000)),
    ...Array.from({ length: 8 }, () => allocate(600_000)),
  ];
  const reused = again.filter((f) => buffers.has(f.buffer));
  const reusedBytes = reused.reduce((n, f) => n + f.buffer.byteLength, 0);
  assert.ok(reused.length > 0 && reusedBytes <= 8 * MiB, `${reusedBytes} bytes reused`);
  for (const f of again) release(f);
});
