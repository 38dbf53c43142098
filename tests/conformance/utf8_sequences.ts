// The UTF-8 sequences of the Autobahn|Testsuite's cases 6.5 to 6.23 (one sub-group per category,
// in the suite's order), with whether each is valid UTF-8.

import { hex, join } from "./wire.ts";

const enc = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** κόσμε */
export const KOSME = hex("ce ba e1 bd b9 cf 83 ce bc ce b5");

/** One category of sequences: its title and `[valid, bytes]` pairs. */
export type Utf8Category = readonly [string, ReadonlyArray<readonly [boolean, Uint8Array]>];

/** The categories 6.5 to 6.23, in order. */
export function utf8TestSequences(): Utf8Category[] {
  const all = (valid: boolean, list: string[]) => list.map((h) => [valid, hex(h)] as const);
  const seqs: Utf8Category[] = [];
  seqs.push(["Some valid UTF-8 sequences", [
    [true, enc.encode("hello$world")],
    [true, join(enc.encode("hello"), hex("c2a2"), enc.encode("world"))],
    [true, join(enc.encode("hello"), hex("e282ac"), enc.encode("world"))],
    [true, join(enc.encode("hello"), hex("f0a4ada2"), enc.encode("world"))],
    [true, KOSME],
  ]]);
  seqs.push([
    "All prefixes of a valid UTF-8 string that contains multi-byte code points",
    Array.from({ length: KOSME.length }, (_, i) => {
      const prefix = KOSME.slice(0, i + 1);
      let valid = true;
      try {
        strict.decode(prefix);
      } catch {
        valid = false;
      }
      return [valid, prefix] as const;
    }),
  ]);
  seqs.push([
    "First possible sequence of a certain length",
    all(true, ["00", "c280", "e0a080", "f0908080"]),
  ]);
  seqs.push([
    "First possible sequence length 5/6 (invalid codepoints)",
    all(false, ["f888808080", "fc8480808080"]),
  ]);
  seqs.push([
    "Last possible sequence of a certain length",
    all(true, ["7f", "dfbf", "efbfbf", "f48fbfbf"]),
  ]);
  seqs.push([
    "Last possible sequence length 4/5/6 (invalid codepoints)",
    all(false, ["f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf"]),
  ]);
  seqs.push(["Other boundary conditions", [
    ...all(true, ["ed9fbf", "ee8080", "efbfbd", "f48fbfbf"]),
    [false, hex("f4908080")],
  ]]);
  const continuation = new Uint8Array(0xbf - 0x80).map((_, i) => 0x80 + i);
  seqs.push(["Unexpected continuation bytes", [
    ...all(false, ["80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf"]),
    [false, continuation],
  ]]);
  const lonely: Array<readonly [boolean, Uint8Array]> = [];
  for (const [lo, hi] of [[0xc0, 0xdf], [0xe0, 0xef], [0xf0, 0xf7], [0xf8, 0xfb], [0xfc, 0xfd]]) {
    const s: number[] = [];
    for (let i = lo; i < hi; i++) s.push(i, 0x20);
    lonely.push([false, new Uint8Array(s)]);
  }
  seqs.push(["Lonely start characters", lonely]);
  const missing = [
    "c0",
    "e080",
    "f08080",
    "f8808080",
    "fc80808080",
    "df",
    "efbf",
    "f7bfbf",
    "fbbfbfbf",
    "fdbfbfbfbf",
  ];
  seqs.push(["Sequences with last continuation byte missing", all(false, missing)]);
  seqs.push(["Concatenation of incomplete sequences", all(false, [missing.join("")])]);
  seqs.push(["Impossible bytes", all(false, ["fe", "ff", "fefeffff"])]);
  seqs.push([
    "Examples of an overlong ASCII character",
    all(false, ["c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"]),
  ]);
  seqs.push([
    "Maximum overlong sequences",
    all(false, ["c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"]),
  ]);
  seqs.push([
    "Overlong representation of the NUL character",
    all(false, ["c080", "e08080", "f0808080", "f880808080", "fc8080808080"]),
  ]);
  seqs.push([
    "Single UTF-16 surrogates",
    all(false, ["eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"]),
  ]);
  seqs.push([
    "Paired UTF-16 surrogates",
    all(false, [
      "eda080edb080",
      "eda080edbfbf",
      "edadbfedb080",
      "edadbfedbfbf",
      "edae80edb080",
      "edae80edbfbf",
      "edafbfedb080",
      "edafbfedbfbf",
    ]),
  ]);
  const nonCharacters = ["efbfbe", "efbfbf"];
  for (const z1 of ["f0", "f1", "f2", "f3", "f4"]) {
    for (const z2 of ["8f", "9f", "af", "bf"]) {
      if (z1 === "f4" && z2 !== "8f") continue; // above U+10FFFF
      for (const z3 of ["be", "bf"]) {
        const zz = z1 + z2 + "bf" + z3;
        if (zz !== "f08fbfbe" && zz !== "f08fbfbf") nonCharacters.push(zz); // overlong
      }
    }
  }
  seqs.push(["Non-character code points (valid UTF-8)", all(true, nonCharacters)]);
  seqs.push([
    "Unicode specials (i.e. replacement char)",
    all(true, ["efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf"]),
  ]);
  return seqs;
}
