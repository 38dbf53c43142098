// Micro-benchmark of drawing a 4-byte mask key from the pooled random source
// (src/protocol/random.ts), against an older src/ (see docs/performance.md, "Micro-benchmarks").
//
//   deno run -R --allow-sys bench/micro/random.ts --baseline=/tmp/base     (node / bun: the same)

import { pooledRandom } from "../../src/protocol/random.ts";
import { baselineSrc, compare, keep, print, runtimeName } from "./_harness.ts";

const fill = (b: Uint8Array) => crypto.getRandomValues(b);
const base = baselineSrc();
const sources = [{ name: "new", random: pooledRandom(fill) }];
if (base !== undefined) {
  const old =
    (await import(`${base}protocol/random.ts`)) as typeof import("../../src/protocol/random.ts");
  sources.unshift({ name: "old", random: old.pooledRandom(fill) });
}
const key = new Uint8Array(4);
console.log(`random, ${runtimeName()}${base === undefined ? "" : `, against ${base}`}`);
print(
  "a 4-byte mask key",
  compare(sources.map(({ name, random }) => ({
    name,
    run: (n) => {
      for (let i = 0; i < n; i++) random(key);
      keep(key[0]);
    },
  }))),
);
