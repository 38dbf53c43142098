import assert from "node:assert/strict";
import fc from "npm:fast-check@4.11.0";
import { isValidUtf8, utf8Length, Utf8Validator } from "../../src/protocol/utf8.ts";
import { hex, splitAt, streamingFailIndex } from "./_helpers.ts";

const fatal = new TextDecoder("utf-8", { fatal: true });

function fatalDecodes(data: Uint8Array): boolean {
  try {
    fatal.decode(data);
    return true;
  } catch {
    return false;
  }
}

/** The index of the byte where byte-by-byte pushing first returns false, or -1. */
function firstFailByteByByte(data: Uint8Array): number {
  const v = new Utf8Validator();
  for (let i = 0; i < data.length; i++) {
    if (!v.push(data, i, i + 1)) return i;
  }
  return -1;
}

// Valid sequences, including every boundary of RFC 3629's table.
const VALID: Array<[string, string]> = [
  ["empty", ""],
  ["ASCII", "48 65 6c 6c 6f"],
  ["NUL and DEL", "00 7f"],
  ["U+0080, the first 2-byte", "c2 80"],
  ["U+07FF, the last 2-byte", "df bf"],
  ["U+0800, the first 3-byte", "e0 a0 80"],
  ["U+D7FF, just below the surrogates", "ed 9f bf"],
  ["U+E000, just above the surrogates", "ee 80 80"],
  ["U+FFFD", "ef bf bd"],
  ["U+FFFE and U+FFFF (noncharacters are valid UTF-8)", "ef bf be ef bf bf"],
  ["U+10000, the first 4-byte", "f0 90 80 80"],
  ["U+10FFFF, the last code point", "f4 8f bf bf"],
  ["Greek kosme", "ce ba e1 bd b9 cf 83 ce bc ce b5"],
  ["euro, emoji, ASCII mixed", "e2 82 ac 20 f0 9f 98 80 41"],
];

// Invalid sequences: `failAt` is the byte at which validity is lost, or "incomplete" when the
// bytes are a valid prefix that ends mid-character.
const INVALID: Array<[string, string, number | "incomplete"]> = [
  // Overlongs.
  ["overlong NUL (C0 80)", "c0 80", 0],
  ["overlong '/' in 2 bytes (C0 AF)", "c0 af", 0],
  ["overlong U+007F in 2 bytes (C1 BF)", "c1 bf", 0],
  ["overlong '/' in 3 bytes (E0 80 AF)", "e0 80 af", 1],
  ["overlong U+07FF in 3 bytes (E0 9F BF)", "e0 9f bf", 1],
  ["overlong '/' in 4 bytes (F0 80 80 AF)", "f0 80 80 af", 1],
  ["overlong U+FFFF in 4 bytes (F0 8F BF BF)", "f0 8f bf bf", 1],
  ["overlong NUL in 5 bytes (F8 80 80 80 80)", "f8 80 80 80 80", 0],
  ["overlong NUL in 6 bytes (FC 80 80 80 80 80)", "fc 80 80 80 80 80", 0],
  // UTF-16 surrogates.
  ["U+D800 (ED A0 80)", "ed a0 80", 1],
  ["U+DB7F (ED AD BF)", "ed ad bf", 1],
  ["U+DB80 (ED AE 80)", "ed ae 80", 1],
  ["U+DBFF (ED AF BF)", "ed af bf", 1],
  ["U+DC00 (ED B0 80)", "ed b0 80", 1],
  ["U+DF80 (ED BE 80)", "ed be 80", 1],
  ["U+DFFF (ED BF BF)", "ed bf bf", 1],
  ["paired surrogates U+D800 U+DC00", "ed a0 80 ed b0 80", 1],
  ["surrogate after valid text", "41 42 ed a0 80", 3],
  // Above U+10FFFF.
  ["U+110000 (F4 90 80 80)", "f4 90 80 80", 1],
  ["U+13FFFF (F4 BF BF BF)", "f4 bf bf bf", 1],
  ["U+1FFFFF (F7 BF BF BF)", "f7 bf bf bf", 0],
  ["5-byte form (F8 88 80 80 80)", "f8 88 80 80 80", 0],
  ["6-byte form (FC 84 80 80 80 80)", "fc 84 80 80 80 80", 0],
  // Bytes that never appear.
  ["F5", "f5 80 80 80", 0],
  ["F6", "f6", 0],
  ["F7", "f7", 0],
  ["F8", "f8", 0],
  ["F9", "f9", 0],
  ["FA", "fa", 0],
  ["FB", "fb", 0],
  ["FC", "fc", 0],
  ["FD", "fd", 0],
  ["FE", "fe", 0],
  ["FF", "ff", 0],
  ["FE FE FF FF", "fe fe ff ff", 0],
  // Lone continuation bytes.
  ["lone 80", "80", 0],
  ["lone BF", "bf", 0],
  ["80 BF 80", "80 bf 80", 0],
  ["continuation after ASCII", "41 80", 1],
  ["one continuation too many", "c2 80 80", 2],
  ["continuation after a complete 4-byte", "f0 90 80 80 80", 4],
  // Truncated sequences.
  ["2-byte lead then ASCII", "c2 41", 1],
  ["3-byte lead, one continuation, then ASCII", "e2 82 41", 2],
  ["4-byte lead, two continuations, then ASCII", "f0 9f 98 41", 3],
  ["3-byte lead then a new lead", "e2 c2 80", 1],
  ["2-byte lead at the end", "41 c2", "incomplete"],
  ["3-byte lead with one continuation at the end", "e2 82", "incomplete"],
  ["4-byte lead with three bytes at the end", "f0 9f 98", "incomplete"],
  ["lone 4-byte lead at the end", "f4", "incomplete"],
  ["E0 A0 at the end", "e0 a0", "incomplete"],
];

for (const [name, bytes] of VALID) {
  Deno.test(`utf8: ${name} is valid whole and byte by byte`, () => {
    const data = hex(bytes);
    assert.equal(fatalDecodes(data), true, "sanity: TextDecoder accepts it");
    assert.equal(isValidUtf8(data), true);
    const v = new Utf8Validator();
    assert.equal(v.push(data), true);
    assert.equal(v.complete, true);
    assert.equal(firstFailByteByByte(data), -1);
    const w = new Utf8Validator();
    for (let i = 0; i < data.length; i++) assert.equal(w.push(data.subarray(i, i + 1)), true);
    assert.equal(w.complete, true);
  });
}

for (const [name, bytes, failAt] of INVALID) {
  Deno.test(`utf8: ${name} is invalid whole and byte by byte`, () => {
    const data = hex(bytes);
    assert.equal(fatalDecodes(data), false, "sanity: TextDecoder refuses it");
    assert.equal(isValidUtf8(data), false);
    if (failAt === "incomplete") {
      const v = new Utf8Validator();
      assert.equal(v.push(data), true, "a valid prefix so far");
      assert.equal(v.complete, false);
      assert.equal(firstFailByteByByte(data), -1);
    } else {
      assert.equal(new Utf8Validator().push(data), false);
      assert.equal(firstFailByteByByte(data), failAt, "fails exactly at the offending byte");
      // The bytes before the offending one are a valid prefix.
      assert.equal(new Utf8Validator().push(data.subarray(0, failAt)), true);
    }
  });
}

Deno.test("utf8: complete is false in the middle of a character and true at its end", () => {
  const v = new Utf8Validator();
  assert.equal(v.complete, true);
  assert.equal(v.push(hex("f0")), true);
  assert.equal(v.complete, false);
  assert.equal(v.push(hex("9f 98")), true);
  assert.equal(v.complete, false);
  assert.equal(v.push(hex("80")), true);
  assert.equal(v.complete, true);
});

Deno.test("utf8: the E0/ED/F0/F4 second-byte bounds survive a chunk boundary", () => {
  // Each lead restricts the next byte's range; the restriction must be remembered across push.
  for (
    const [lead, bad, good] of [[0xe0, 0x9f, 0xa0], [0xed, 0xa0, 0x9f], [0xf0, 0x8f, 0x90], [
      0xf4,
      0x90,
      0x8f,
    ]]
  ) {
    const v = new Utf8Validator();
    assert.equal(v.push(new Uint8Array([lead])), true);
    assert.equal(v.push(new Uint8Array([bad])), false, `${lead.toString(16)} ${bad.toString(16)}`);
    const w = new Utf8Validator();
    assert.equal(w.push(new Uint8Array([lead])), true);
    assert.equal(w.push(new Uint8Array([good])), true, `${lead.toString(16)} ${good.toString(16)}`);
  }
});

Deno.test("utf8: reset forgets a partial character", () => {
  const v = new Utf8Validator();
  assert.equal(v.push(hex("e2 82")), true);
  v.reset();
  assert.equal(v.complete, true);
  // Without the reset, 41 would break the pending sequence.
  assert.equal(v.push(hex("41")), true);
  assert.equal(v.complete, true);
  // reset also drops a pending E0 lower bound.
  v.push(hex("e0"));
  v.reset();
  assert.equal(v.push(hex("c2 80")), true);
  assert.equal(v.complete, true);
});

Deno.test("utf8: push validates only bytes[start, end)", () => {
  const data = hex("ff e2 82 ac ff");
  assert.equal(new Utf8Validator().push(data, 1, 4), true);
  assert.equal(new Utf8Validator().push(data, 0, 4), false);
  assert.equal(new Utf8Validator().push(data, 1, 5), false);
  const v = new Utf8Validator();
  assert.equal(v.push(data, 1, 3), true);
  assert.equal(v.complete, false);
  assert.equal(v.push(data, 3, 4), true);
  assert.equal(v.complete, true);
  assert.equal(new Utf8Validator().push(data, 2, 2), true, "an empty range");
});

Deno.test("utf8: long ASCII runs around multibyte characters", () => {
  const text = "a".repeat(1000) + "é" + "b".repeat(1000) + "😀" + "c".repeat(3);
  const data = new TextEncoder().encode(text);
  assert.equal(isValidUtf8(data), true);
  const broken = data.slice();
  broken[1000] = 0x41; // the é lead byte replaced: its continuation is now alone
  assert.equal(isValidUtf8(broken), false);
  assert.equal(firstFailByteByByte(broken), 1001);
});

Deno.test("utf8: every single byte is judged like TextDecoder", () => {
  for (let b = 0; b < 256; b++) {
    const data = new Uint8Array([b]);
    assert.equal(isValidUtf8(data), fatalDecodes(data), `byte ${b}`);
  }
});

Deno.test("utf8: every two-byte sequence led by C0-FF is judged like TextDecoder", () => {
  const data = new Uint8Array(2);
  for (let a = 0xc0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      data[0] = a;
      data[1] = b;
      assert.equal(isValidUtf8(data), fatalDecodes(data), `${a.toString(16)} ${b.toString(16)}`);
    }
  }
});

Deno.test("utf8: every three-byte sequence led by E0-EF or F0-F4 fails at the same byte as a streaming TextDecoder", () => {
  // A streaming fatal TextDecoder (WHATWG decoder) reports an error at the first byte that
  // cannot continue a valid sequence: the validator must fail at the same byte.
  const data = new Uint8Array(3);
  for (let a = 0xe0; a <= 0xf4; a++) {
    for (let b = 0x70; b < 0xc8; b++) {
      for (const c of [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0]) {
        data[0] = a;
        data[1] = b;
        data[2] = c;
        assert.equal(
          firstFailByteByByte(data),
          streamingFailIndex(data),
          `${a.toString(16)} ${b.toString(16)} ${c.toString(16)}`,
        );
      }
    }
  }
});

// Bytes that are likely to form interesting UTF-8: ASCII, continuation bytes, and all lead bytes.
const utf8ishByte = fc.oneof(
  fc.integer({ min: 0x00, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xbf }),
  fc.integer({ min: 0xc0, max: 0xff }),
  fc.constantFrom(0xe0, 0xed, 0xf0, 0xf4, 0x9f, 0xa0, 0x8f, 0x90),
);
const utf8ishBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.array(utf8ishByte, { maxLength: 64 }).map((a) => new Uint8Array(a)),
  fc.string({ unit: "grapheme", maxLength: 20 }).map((s) => new TextEncoder().encode(s)),
  // Valid text with one byte flipped.
  fc.tuple(
    fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
    fc.nat(),
    fc.integer({
      min: 0,
      max: 255,
    }),
  ).map(([s, at, b]) => {
    const data = new TextEncoder().encode(s);
    data[at % data.length] = b;
    return data;
  }),
);

Deno.test("utf8 property: isValidUtf8 agrees with TextDecoder fatal on random bytes", () => {
  fc.assert(
    fc.property(utf8ishBytes, (data) => isValidUtf8(data) === fatalDecodes(data)),
    { numRuns: 2000 },
  );
});

Deno.test("utf8 property: streaming with random split points agrees with TextDecoder fatal", () => {
  fc.assert(
    fc.property(utf8ishBytes, fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
      const v = new Utf8Validator();
      let ok = true;
      for (const piece of splitAt(data, cuts.map((c) => c % (data.length + 1)))) {
        if (!v.push(piece)) {
          ok = false;
          break;
        }
      }
      return (ok && v.complete) === fatalDecodes(data);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("utf8 property: byte-by-byte, the validator fails at the same byte as a streaming TextDecoder", () => {
  fc.assert(
    fc.property(utf8ishBytes, (data) => firstFailByteByByte(data) === streamingFailIndex(data)),
    { numRuns: 500 },
  );
});

Deno.test("utf8Length: counts like TextEncoder, lone surrogates as U+FFFD", () => {
  assert.equal(utf8Length(""), 0);
  assert.equal(utf8Length("abc"), 3);
  assert.equal(utf8Length("é"), 2);
  assert.equal(utf8Length("\u07ff"), 2);
  assert.equal(utf8Length("\u0800"), 3);
  assert.equal(utf8Length("€"), 3);
  assert.equal(utf8Length("😀"), 4);
  assert.equal(utf8Length("\ud800"), 3, "a lone high surrogate at the end");
  assert.equal(utf8Length("\ud800a"), 4, "a lone high surrogate before ASCII");
  assert.equal(utf8Length("\udc00"), 3, "a lone low surrogate");
  assert.equal(utf8Length("\udc00\ud800"), 6, "reversed pair: two lone surrogates");
  assert.equal(utf8Length("\ud800\ud800\udc00"), 7, "a lone high then a pair");
});

Deno.test("utf8Length property: equals TextEncoder's length for any UTF-16 string", () => {
  const anyUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((units) =>
    String.fromCharCode(...units)
  );
  const surrogateHeavy = fc.array(
    fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.integer({ min: 0, max: 0x7ff }),
    ),
    { maxLength: 40 },
  ).map((units) => String.fromCharCode(...units));
  fc.assert(
    fc.property(
      fc.oneof(anyUnits, surrogateHeavy, fc.string({ unit: "binary" })),
      (s) => utf8Length(s) === new TextEncoder().encode(s).length,
    ),
    { numRuns: 1000 },
  );
});

Deno.test("Utf8Validator: long ASCII runs (scanned a word at a time) end exactly at the first non-ASCII byte, at any alignment", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const valid = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  for (let offset = 0; offset < 4; offset++) {
    for (let run = 0; run <= 80; run++) {
      for (const tail of [[0xff], [0xc3, 0xa9], [0xe2, 0x82], [0x80], [0xed, 0xa0, 0x80], []]) {
        const backing = new Uint8Array(offset + run + tail.length + 5).fill(0x61);
        backing.set(tail, offset + run);
        const bytes = backing.subarray(offset, offset + run + tail.length + 3);
        const v = new Utf8Validator();
        const ok = v.push(bytes) && v.complete;
        assert.equal(ok, valid(bytes), `offset ${offset}, run ${run}, tail ${tail}`);
      }
    }
  }
});
