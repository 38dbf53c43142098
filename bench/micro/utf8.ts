// Micro-benchmark of checking and decoding received text (see docs/performance.md,
// "Micro-benchmarks"): the JavaScript validator (src/protocol/utf8.ts) followed by a plain
// TextDecoder, against TextDecoder({ fatal: true }) doing both, in one call (a frame that arrived
// whole) or streaming over 64 KiB pieces (a frame that arrived in several reads), and against the
// plain TextDecoder alone with a search for U+FFFD in its result (none: nothing was replaced, the
// bytes were valid), for ASCII JSON and for text with 2- to 4-byte characters.
//
//   deno run --allow-sys bench/micro/utf8.ts [--sizes=...] [--rounds=15] [--ms=100]   (node / bun: the same)

import { Utf8Validator } from "../../src/protocol/utf8.ts";
import { compare, keep, option, print, runtimeName } from "./_harness.ts";

const sizes = option("sizes", "32,1024,16384,65536,1048576").split(",").map(Number);
const PIECE = 64 * 1024;
const plain = new TextDecoder();
const fatal = new TextDecoder("utf-8", { fatal: true });

const texts = {
  ascii: '{"seq":12345,"price":101.25,"sym":"ABCD","side":"buy"},',
  mixed: "Grüße, 你好, ¡hola!, 🙂 — ",
};

console.log(`utf8, ${runtimeName()}`);
for (const [kind, unit] of Object.entries(texts)) {
  for (const size of sizes) {
    const bytes = new TextEncoder().encode(unit.repeat(Math.ceil(size / unit.length) + 1));
    // Cut on a character boundary at about `size` bytes.
    let end = Math.min(size, bytes.length);
    while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end++;
    const data = bytes.slice(0, end);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += PIECE) pieces.push(data.subarray(at, at + PIECE));
    const expected = plain.decode(data);
    const validator = new Utf8Validator();
    const variants = [
      {
        name: "validator + decode",
        run: (n: number) => {
          for (let i = 0; i < n; i++) {
            validator.reset();
            for (const p of pieces) if (!validator.push(p)) throw new Error("invalid");
            if (!validator.complete) throw new Error("incomplete");
            keep(plain.decode(data));
          }
        },
      },
      {
        name: "fatal decode, whole",
        run: (n: number) => {
          for (let i = 0; i < n; i++) keep(fatal.decode(data));
        },
      },
      {
        name: "decode, then U+FFFD?",
        run: (n: number) => {
          for (let i = 0; i < n; i++) {
            const s = plain.decode(data);
            // Without a U+FFFD in the result, nothing was replaced: the bytes were valid.
            if (s.indexOf("\uFFFD") >= 0) throw new Error("unexpected");
            keep(s);
          }
        },
      },
      {
        name: "fatal decode, streamed",
        run: (n: number) => {
          for (let i = 0; i < n; i++) {
            let s = "";
            for (const p of pieces) s += fatal.decode(p, { stream: true });
            s += fatal.decode();
            keep(s.length > 0 ? s.charCodeAt(s.length - 1) : 0);
          }
        },
      },
    ];
    for (const v of variants) {
      // Every way gives the same string.
      keep(undefined);
      v.run(1);
    }
    let streamed = "";
    for (const p of pieces) streamed += fatal.decode(p, { stream: true });
    streamed += fatal.decode();
    if (streamed !== expected || fatal.decode(data) !== expected) throw new Error("differs");
    print(`${kind} ${data.length} B`, compare(variants), data.length);
  }
}
