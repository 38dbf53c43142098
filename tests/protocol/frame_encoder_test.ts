import assert from "node:assert/strict";
import fc from "npm:fast-check@4.11.0";
import { closePayload, encodeFrame, headerLength, mask } from "../../src/protocol/frame_encoder.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import {
  assertBytes,
  fixedRandom,
  hex,
  parseClientFrame,
  seededRandom,
  utf8,
  xorMask,
} from "./_helpers.ts";

const RFC_KEY = hex("37 fa 21 3d");
const rfcRandom = fixedRandom(RFC_KEY);

Deno.test("encodeFrame: RFC 6455 §5.7 masked text 'Hello' with key 37 fa 21 3d", () => {
  const expected = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
  assert.deepEqual(encodeFrame(TEXT, "Hello", rfcRandom), expected);
  assert.deepEqual(encodeFrame(TEXT, utf8("Hello"), rfcRandom), expected, "bytes payload");
});

Deno.test("encodeFrame: RFC 6455 §5.7 fragmented 'Hel' + 'lo' (masked as a client must)", () => {
  const first = encodeFrame(TEXT, "Hel", rfcRandom, false);
  const second = encodeFrame(CONTINUATION, "lo", rfcRandom, true);
  // The RFC's unmasked example is 01 03 48 65 6c / 80 02 6c 6f; a client adds MASK and a key.
  assert.deepEqual(first, hex("01 83 37 fa 21 3d 7f 9f 4d"));
  assert.deepEqual(second, hex("80 82 37 fa 21 3d 5b 95"));
  assert.deepEqual(parseClientFrame(first).payload, utf8("Hel"));
  assert.deepEqual(parseClientFrame(second).payload, utf8("lo"));
});

Deno.test("encodeFrame: RFC 6455 §5.7 ping and masked pong 'Hello'", () => {
  assert.deepEqual(
    encodeFrame(PONG, "Hello", rfcRandom),
    hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    "the RFC's masked pong",
  );
  assert.deepEqual(encodeFrame(PING, "Hello", rfcRandom), hex("89 85 37 fa 21 3d 7f 9f 4d 51 58"));
});

Deno.test("encodeFrame: RFC 6455 §5.7 256-byte and 65536-byte binary headers", () => {
  const zeros = fixedRandom(new Uint8Array(4));
  const f256 = encodeFrame(BINARY, new Uint8Array(256).fill(7), zeros);
  assert.deepEqual(f256.subarray(0, 8), hex("82 fe 01 00 00 00 00 00"));
  assert.equal(f256.length, 8 + 256);
  const f64k = encodeFrame(BINARY, new Uint8Array(65536).fill(7), zeros);
  assert.deepEqual(f64k.subarray(0, 14), hex("82 ff 00 00 00 00 00 01 00 00 00 00 00 00"));
  assert.equal(f64k.length, 14 + 65536);
  assert.ok(f64k.subarray(14).every((b) => b === 7), "a zero key leaves the payload as is");
});

const LENGTHS: Array<[number, string]> = [
  [0, "82 80"],
  [1, "82 81"],
  [125, "82 fd"],
  [126, "82 fe 00 7e"],
  [127, "82 fe 00 7f"],
  [65535, "82 fe ff ff"],
  [65536, "82 ff 00 00 00 00 00 01 00 00"],
  [65537, "82 ff 00 00 00 00 00 01 00 01"],
];

for (const [length, head] of LENGTHS) {
  Deno.test(`encodeFrame: a ${length}-byte binary payload has the minimal length encoding and unmasks back`, () => {
    const payload = new Uint8Array(length);
    seededRandom(length + 1)(payload);
    const frame = encodeFrame(BINARY, payload, rfcRandom);
    const h = hex(head);
    assert.deepEqual(frame.subarray(0, h.length), h);
    assert.deepEqual(frame.subarray(h.length, h.length + 4), RFC_KEY, "the injected key follows");
    assert.equal(frame.length, h.length + 4 + length);
    assert.equal(headerLength(length), h.length + 4);
    assert.deepEqual(xorMask(frame.subarray(h.length + 4), RFC_KEY), payload);
    const parsed = parseClientFrame(frame);
    assert.equal(parsed.fin, true);
    assert.equal(parsed.rsv, 0);
    assert.equal(parsed.opcode, BINARY);
    assert.equal(parsed.masked, true);
    assert.deepEqual(parsed.payload, payload);
  });
}

Deno.test("headerLength: 6, 8 or 14 bytes (mask key included) at the 126 and 65536 boundaries", () => {
  assert.equal(headerLength(0), 6);
  assert.equal(headerLength(125), 6);
  assert.equal(headerLength(126), 8);
  assert.equal(headerLength(65535), 8);
  assert.equal(headerLength(65536), 14);
  assert.equal(headerLength(2 ** 40), 14);
});

Deno.test("encodeFrame: masking is byte-exact at every length 0-80 around the word-masking threshold", () => {
  // An asymmetric key, so a byte-order mistake in the 32-bit masking would show.
  for (let n = 0; n <= 80; n++) {
    const payload = new Uint8Array(n).map((_, i) => (i * 37 + 11) & 0xff);
    const frame = encodeFrame(BINARY, payload, rfcRandom);
    const masked = frame.subarray(6);
    assert.deepEqual(masked, xorMask(payload, RFC_KEY), `length ${n}`);
  }
});

Deno.test("encodeFrame: long text (natively encoded, copied and masked in one pass) and unaligned binary views are byte-exact", () => {
  const texts = [
    "a".repeat(256), // the last length measured in JavaScript
    "a".repeat(257), // the first encoded natively
    "é".repeat(300) + "€😀",
    "x".repeat(65535 - 3) + "€",
    "😀".repeat(20_000) + "\ud800", // 4-byte characters and a lone surrogate
  ];
  for (const text of texts) {
    const payload = utf8(text);
    const parsed = parseClientFrame(encodeFrame(TEXT, text, rfcRandom));
    assert.equal(parsed.payload.length, payload.length, `length of a ${text.length}-unit text`);
    assert.deepEqual(parsed.payload, payload, `a ${text.length}-unit text`);
  }
  // Views starting at every offset within a word, long enough for the word loop.
  const backing = new Uint8Array(300).map((_, i) => (i * 13 + 5) & 0xff);
  for (let offset = 0; offset < 4; offset++) {
    for (const n of [31, 32, 33, 200]) {
      const view = backing.subarray(offset, offset + n);
      const frame = encodeFrame(BINARY, view, rfcRandom);
      assert.deepEqual(frame.subarray(frame.length - n), xorMask(view, RFC_KEY), `${offset}/${n}`);
    }
  }
});

Deno.test("encodeFrame: the fin flag and every opcode are written to the first byte", () => {
  for (const opcode of [CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG]) {
    for (const fin of [true, false]) {
      const frame = encodeFrame(opcode, new Uint8Array(3), rfcRandom, fin);
      assert.equal(frame[0], (fin ? 0x80 : 0) | opcode);
      assert.equal(frame[1] & 0x80, 0x80, "MASK is always set");
    }
  }
});

Deno.test("encodeFrame: draws exactly one 4-byte key per frame from the injected source", () => {
  const asked: number[] = [];
  let next = 1;
  const random = (target: Uint8Array) => {
    asked.push(target.length);
    for (let i = 0; i < target.length; i++) target[i] = next++;
  };
  const a = encodeFrame(TEXT, "abc", random);
  const b = encodeFrame(TEXT, "abc", random);
  assert.deepEqual(asked, [4, 4]);
  assert.deepEqual(parseClientFrame(a).key, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(parseClientFrame(b).key, new Uint8Array([5, 6, 7, 8]));
  assert.deepEqual(parseClientFrame(a).payload, utf8("abc"));
  assert.deepEqual(parseClientFrame(b).payload, utf8("abc"));
});

Deno.test("encodeFrame: text is UTF-8, lone surrogates become U+FFFD", () => {
  const frame = encodeFrame(TEXT, "é€😀\ud800x", rfcRandom);
  assert.deepEqual(parseClientFrame(frame).payload, utf8("é€😀\ufffdx"));
  assert.equal(frame[1] & 0x7f, 2 + 3 + 4 + 3 + 1);
  const long = "é".repeat(100); // 200 bytes: a 16-bit length
  const parsed = parseClientFrame(encodeFrame(TEXT, long, rfcRandom));
  assert.equal(parsed.headerLength, 8);
  assert.equal(new TextDecoder().decode(parsed.payload), long);
});

Deno.test("encodeFrame: copies the payload and leaves the caller's bytes (and views) untouched", () => {
  const buffer = new Uint8Array(200).map((_, i) => i);
  const before = buffer.slice();
  const view = buffer.subarray(3, 103); // an unaligned view into a larger buffer
  const frame = encodeFrame(BINARY, view, rfcRandom);
  assert.deepEqual(buffer, before, "the source is not masked in place");
  assert.deepEqual(parseClientFrame(frame).payload, before.subarray(3, 103));
  // The frame is its own bytes: changing the source later does not change it.
  buffer.fill(0);
  assert.deepEqual(parseClientFrame(frame).payload, before.subarray(3, 103));
});

Deno.test("encodeFrame property: any payload, opcode, fin and key parse back exactly", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG),
      fc.oneof(
        { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 10 },
        { arbitrary: fc.uint8Array({ minLength: 65530, maxLength: 65540 }), weight: 1 },
        { arbitrary: fc.string({ unit: "binary", maxLength: 100 }), weight: 5 },
      ),
      fc.boolean(),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      (opcode, payload, fin, key) => {
        const frame = encodeFrame(opcode, payload, fixedRandom(key), fin);
        const parsed = parseClientFrame(frame);
        assert.equal(parsed.length, frame.length, "nothing after the frame");
        assert.equal(parsed.fin, fin);
        assert.equal(parsed.opcode, opcode);
        assert.equal(parsed.rsv, 0);
        assert.equal(parsed.masked, true);
        assert.deepEqual(parsed.key, key);
        const expected = typeof payload === "string" ? utf8(payload) : payload;
        assertBytes(parsed.payload, expected);
        assert.equal(parsed.headerLength, headerLength(expected.length));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("mask: XOR with a 4-byte key, its own inverse, in place when out is data", () => {
  const key = new Uint8Array([1, 2, 3, 4]);
  assert.deepEqual(mask(new Uint8Array(5), key), new Uint8Array([1, 2, 3, 4, 1]));
  const data = utf8("Hello");
  const masked = mask(data, RFC_KEY);
  assert.deepEqual(masked, hex("7f 9f 4d 51 58"));
  assert.deepEqual(mask(masked, RFC_KEY), data);
  const inPlace = utf8("Hello");
  const result = mask(inPlace, RFC_KEY, inPlace);
  assert.equal(result, inPlace);
  assert.deepEqual(inPlace, hex("7f 9f 4d 51 58"));
  assert.deepEqual(mask(new Uint8Array(0), key), new Uint8Array(0));
});

Deno.test("closePayload: code big-endian then the UTF-8 reason; no code means an empty payload", () => {
  assert.deepEqual(closePayload(1000, "bye"), new Uint8Array([3, 232, 98, 121, 101]));
  assert.deepEqual(closePayload(1000, ""), new Uint8Array([0x03, 0xe8]));
  assert.deepEqual(closePayload(4999, "é"), new Uint8Array([0x13, 0x87, 0xc3, 0xa9]));
  assert.deepEqual(closePayload(undefined, ""), new Uint8Array(0));
  assert.deepEqual(closePayload(undefined, "ignored"), new Uint8Array(0));
});

/** An allocator like Bun.allocUnsafe's: garbage-filled views at every offset mod 4. */
function garbageAllocator(offset: number) {
  const calls: number[] = [];
  const allocate = (size: number) => {
    calls.push(size);
    const block = new Uint8Array(size + offset + 7).fill(0xa5);
    return block.subarray(offset, offset + size);
  };
  return { allocate, calls };
}

Deno.test("encodeFrame: an injected allocator (garbage-filled, any offset) gives the same bytes", () => {
  const payloads: (Uint8Array | string)[] = [
    new Uint8Array(0),
    utf8("Hello"),
    new Uint8Array(125).map((_, i) => i),
    new Uint8Array(126).map((_, i) => i * 7),
    new Uint8Array(65536).map((_, i) => i * 13),
    new Uint8Array(70_001).map((_, i) => i * 31).subarray(3), // an unaligned source
    "é".repeat(300),
  ];
  for (let offset = 0; offset < 4; offset++) {
    const { allocate, calls } = garbageAllocator(offset);
    for (const payload of payloads) {
      const expected = encodeFrame(BINARY, payload, fixedRandom(RFC_KEY));
      const got = encodeFrame(BINARY, payload, fixedRandom(RFC_KEY), true, allocate);
      assertBytes(got, expected, `offset ${offset}, ${payload.length} units`);
    }
    assert.equal(calls.length, payloads.length, "every frame's buffer came from the allocator");
  }
});

Deno.test("encodeFrame: text of every short length, ASCII or not, gives the frame of its UTF-8 bytes", () => {
  for (let n = 0; n <= 300; n++) {
    const ascii = Array.from({ length: n }, (_, i) => String.fromCharCode(32 + (i * 7) % 95)).join(
      "",
    );
    for (const text of [ascii, ascii.slice(1) + "é", "€" + ascii.slice(2), ascii + "\ud800"]) {
      assert.deepEqual(
        encodeFrame(TEXT, text, rfcRandom),
        encodeFrame(TEXT, new TextEncoder().encode(text), rfcRandom),
        `${text.length} units`,
      );
    }
  }
});
