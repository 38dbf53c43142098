import assert from "node:assert/strict";
import { pooledRandom } from "../../src/protocol/random.ts";

/** A fill that writes a running counter and records the sizes it was asked for. */
function countingFill() {
  let next = 0;
  const calls: number[] = [];
  const fill = (buffer: Uint8Array) => {
    calls.push(buffer.length);
    for (let i = 0; i < buffer.length; i++) buffer[i] = next++ & 0xff;
  };
  return { fill, calls };
}

Deno.test("pooledRandom: small draws come from one pool, in order, with one fill per pool", () => {
  const { fill, calls } = countingFill();
  const random = pooledRandom(fill, 16);
  const a = new Uint8Array(4);
  const b = new Uint8Array(4);
  random(a);
  random(b);
  assert.deepEqual(a, new Uint8Array([0, 1, 2, 3]));
  assert.deepEqual(b, new Uint8Array([4, 5, 6, 7]));
  assert.deepEqual(calls, [16]);
  random(new Uint8Array(8)); // exactly the rest of the pool
  assert.deepEqual(calls, [16]);
  const c = new Uint8Array(4);
  random(c); // a fresh pool
  assert.deepEqual(c, new Uint8Array([16, 17, 18, 19]));
  assert.deepEqual(calls, [16, 16]);
});

Deno.test("pooledRandom: a draw that does not fit in what is left of the pool refills it", () => {
  const { fill, calls } = countingFill();
  const random = pooledRandom(fill, 16);
  random(new Uint8Array(12));
  const d = new Uint8Array(8);
  random(d);
  assert.deepEqual(d, new Uint8Array([16, 17, 18, 19, 20, 21, 22, 23]), "never reuses bytes");
  assert.deepEqual(calls, [16, 16]);
});

Deno.test("pooledRandom: the default pool serves 2048 mask keys per fill", () => {
  const { fill, calls } = countingFill();
  const random = pooledRandom(fill);
  const key = new Uint8Array(4);
  for (let i = 0; i < 2048; i++) random(key);
  assert.deepEqual(calls, [8192]);
  random(key);
  assert.deepEqual(calls, [8192, 8192]);
});

Deno.test("pooledRandom: a draw larger than the pool is filled directly", () => {
  const { fill, calls } = countingFill();
  const random = pooledRandom(fill, 16);
  const big = new Uint8Array(40);
  random(big);
  assert.deepEqual(calls, [40]);
  assert.equal(big[39], 39);
});

Deno.test("pooledRandom: an empty draw is harmless, even as the first one", () => {
  const { fill, calls } = countingFill();
  const random = pooledRandom(fill, 16);
  random(new Uint8Array(0));
  const a = new Uint8Array(2);
  random(a);
  assert.equal(calls.reduce((n, c) => n + c, 0) >= 2, true);
  assert.deepEqual(a, new Uint8Array([0, 1]));
});

Deno.test("pooledRandom: works with crypto.getRandomValues for any pool and draw size (it fills at most 64 KiB per call)", () => {
  for (const poolSize of [8192, 65536, 100_000]) {
    const random = pooledRandom((b) => crypto.getRandomValues(b), poolSize);
    for (const n of [0, 4, 16, 65536, 65537, 200_000]) {
      const target = new Uint8Array(n);
      random(target);
      if (n >= 64) assert.ok(target.some((b) => b !== 0), `pool ${poolSize}, draw ${n}`);
    }
  }
});
