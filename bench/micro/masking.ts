// Micro-benchmark of masking (src/protocol/masking.ts): the JavaScript word loop against the
// WebAssembly SIMD kernel (copies in and out of its memory included), per payload size, for a
// source and a frame at the offsets the encoder sees (see docs/performance.md, "Micro-benchmarks").
//
//   deno run --allow-sys bench/micro/masking.ts [--sizes=1024,65536] [--rounds=15] [--ms=100]
//   node bench/micro/masking.ts ...      bun bench/micro/masking.ts ...

import { maskInto, maskIntoJs } from "../../src/protocol/masking.ts";
import { compare, option, print, runtimeName } from "./_harness.ts";

const sizes = option("sizes", "128,512,1024,4096,16384,65536,1048576").split(",").map(Number);
const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

// Both ways give the same bytes, at every offset the encoder can use.
for (const size of [0, 1, 31, 32, 1023, 1024, 1029, 70_001, 200_003]) {
  for (const sourceOffset of [0, 1, 4]) {
    const source = new Uint8Array(size + sourceOffset).subarray(sourceOffset);
    for (let i = 0; i < size; i++) source[i] = i * 31 + 7;
    const a = new Uint8Array(size + 20);
    const b = new Uint8Array(size + 20);
    maskIntoJs(source, a, 8, key);
    maskInto(source, b, 8, key);
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i] || (i >= 8 && i < 8 + size && a[i] !== (source[i - 8] ^ key[i & 3]))) {
        throw new Error(`masking differs: ${size} bytes from offset ${sourceOffset}, byte ${i}`);
      }
    }
  }
}

console.log(`masking, ${runtimeName()}`);
for (const size of sizes) {
  // A message of its own (offset 0) into a frame whose payload starts after a 14-byte header,
  // aligned to 4 as the encoder places it (offset 16); then a source at an odd offset.
  for (const sourceOffset of [0, 1]) {
    const source = new Uint8Array(size + sourceOffset).subarray(sourceOffset);
    for (let i = 0; i < size; i++) source[i] = i;
    const frame = new Uint8Array(size + 16);
    print(
      `${size} B, source at offset ${sourceOffset}`,
      compare([
        { name: "js", run: (n) => repeat(n, () => maskIntoJs(source, frame, 16, key)) },
        { name: "wasm above 1 KiB", run: (n) => repeat(n, () => maskInto(source, frame, 16, key)) },
      ]),
      size,
    );
  }
}

function repeat(n: number, fn: () => void): void {
  for (let i = 0; i < n; i++) fn();
}
