import assert from "node:assert/strict";
import { kernelAvailable, maskInto, maskIntoJs, WASM_FROM } from "../../src/protocol/masking.ts";

const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** The masked bytes by the definition (RFC 6455 §5.3), one byte at a time. */
function expected(source: Uint8Array): Uint8Array {
  return source.map((b, i) => b ^ key[i & 3]);
}

function payload(size: number, offset: number): Uint8Array {
  const source = new Uint8Array(size + offset).subarray(offset);
  for (let i = 0; i < size; i++) source[i] = (i * 31 + 7) & 0xff;
  return source;
}

const sizes = [0, 1, 3, 31, 32, 33, 1023, 1024, 1025, 4099, 65535, 65536, 65537, 200_003];

Deno.test("maskInto: every size, source offset and target offset gives the bytes of RFC 6455 §5.3, leaving the rest of the frame alone", () => {
  for (const size of sizes) {
    for (const offset of [0, 1, 2, 3, 4]) {
      const source = payload(size, offset);
      for (const at of [8, 9, 10, 11]) {
        for (const mask of [maskInto, maskIntoJs]) {
          const frame = new Uint8Array(size + 16).fill(0xaa);
          mask(source, frame, at, key);
          const label = `${size} B from offset ${offset} to ${at}`;
          assert.deepEqual(frame.subarray(at, at + size), expected(source), label);
          assert.ok(frame.subarray(0, at).every((b) => b === 0xaa), `before the payload: ${label}`);
          assert.ok(frame.subarray(at + size).every((b) => b === 0xaa), `after it: ${label}`);
        }
      }
    }
  }
});

Deno.test("maskInto: masks in place, into a frame that is a view at an offset, across the kernel's blocks", () => {
  for (const size of [40, WASM_FROM, 3 * 65536 + 5]) {
    for (const shift of [20, 21, 22, 23]) {
      for (const mask of [maskInto, maskIntoJs]) {
        const buffer = new Uint8Array(size + 64);
        const frame = buffer.subarray(shift, shift + size + 12);
        const source = payload(size, 0);
        frame.set(source, 8);
        mask(frame.subarray(8, 8 + size), frame, 8, key);
        assert.deepEqual(frame.subarray(8, 8 + size), expected(source), `${size} B at ${shift}`);
      }
    }
  }
});

Deno.test("maskInto: masking twice gives the payload back", () => {
  const source = payload(70_000, 0);
  const once = new Uint8Array(70_000);
  const twice = new Uint8Array(70_000);
  maskInto(source, once, 0, key);
  maskInto(once, twice, 0, key);
  assert.deepEqual(twice, source);
});

Deno.test("maskInto: the WebAssembly kernel compiles and runs here (its bytes are intact)", () => {
  assert.equal(kernelAvailable(), true);
});
