import assert from "node:assert/strict";
import { FrameDecoder } from "../../src/protocol/frame_decoder.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import {
  assertBytes,
  bytes,
  chunkings,
  closeBody,
  comparable,
  concat,
  decodeChunks,
  type DecoderEvent,
  hex,
  INVALID_CLOSE_CODES,
  limits,
  recordingDecoder,
  seededRandom,
  serverFrame,
  utf8,
  VALID_CLOSE_CODES,
} from "./_helpers.ts";

type Expected =
  | { kind: "text"; data: string }
  | { kind: "binary"; data: Uint8Array }
  | { kind: "ping"; data: Uint8Array }
  | { kind: "pong"; data: Uint8Array }
  | { kind: "close"; code: number; reason: string }
  | { kind: "error"; code: number };

/**
 * Asserts `actual` matches `expected`. Payloads are compared in full unless `sample` is given:
 * then (for 64 KiB payloads fed at 65,000 split points) their length, first and last 16 bytes,
 * the bytes around `sample`, and every 61st byte are.
 */
function assertEvents(
  actual: readonly DecoderEvent[],
  expected: readonly Expected[],
  label: string,
  sample?: number,
): void {
  if (actual.length !== expected.length) {
    assert.fail(
      `${label}: ${actual.length} events, not ${expected.length}: ${
        JSON.stringify(comparable(actual).map((e) => (e as { kind: string }).kind))
      }`,
    );
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.equal(a.kind, e.kind, label);
    if ("data" in e && e.data instanceof Uint8Array) {
      const got = (a as { data: Uint8Array }).data;
      if (sample === undefined) {
        assertBytes(got, e.data, label);
      } else {
        assert.equal(got.length, e.data.length, label);
        const n = got.length;
        const check = (j: number) => {
          if (j >= 0 && j < n && got[j] !== e.data[j]) {
            assert.fail(`${label}: byte ${j} is ${got[j]}, not ${e.data[j]}`);
          }
        };
        for (let j = 0; j < 16; j++) check(j), check(n - 1 - j);
        for (let j = sample - 20; j < sample + 20; j++) check(j);
        for (let j = 0; j < n; j += 61) check(j);
      }
    } else {
      assert.deepEqual(a.kind === "error" ? { kind: "error", code: a.code } : a, e, label);
    }
  }
}

/** Feeds `chunks` to a fresh decoder (no copies: the pieces are never reused). */
function decodeViews(chunks: readonly Uint8Array[], lim: ResolvedLimits): DecoderEvent[] {
  const { decoder, events } = recordingDecoder(lim, false);
  for (const c of chunks) decoder.push(c);
  return events;
}

/**
 * Asserts `data` decodes to `expected` whole, split in two at every offset, and byte by byte.
 * Small inputs are fed as fresh copies of each piece and compared in full; inputs above 4 KiB
 * are fed as views and their payloads sampled at the split point (full comparison whole and byte
 * by byte), so 64 KiB vectors stay fast.
 */
function assertDecodesEverywhere(
  data: Uint8Array,
  expected: readonly Expected[],
  lim: ResolvedLimits = DEFAULT_LIMITS,
): void {
  const large = data.length > 4096;
  assertEvents(decodeChunks([data], lim), expected, "whole");
  for (const { label, chunks } of chunkings(data)) {
    if (!large) assertEvents(decodeChunks(chunks, lim), expected, label);
    else if (chunks.length > 2) assertEvents(decodeViews(chunks, lim), expected, label);
    else {
      const at = chunks[0].length;
      assertEvents(decodeViews(chunks, lim), expected, label, at - headerSize(data));
    }
  }
}

/** The header size of an unmasked server frame. */
function headerSize(frame: Uint8Array): number {
  const len = frame[1] & 0x7f;
  return len < 126 ? 2 : len === 126 ? 4 : 10;
}

/** A payload of `n` pseudo-random bytes. */
function payloadOf(n: number, seed = n + 1): Uint8Array {
  const p = new Uint8Array(n);
  seededRandom(seed)(p);
  return p;
}

/** A text of `n` ASCII bytes. */
function asciiOf(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + (i * 7) % 95);
  return s;
}

// ---------------------------------------------------------------------------------------------
// RFC 6455 §5.7 examples and length vectors, at every split.

const HELLO = utf8("Hello");

const VECTORS: Array<{ name: string; data: Uint8Array; expected: Expected[] }> = [
  {
    name: "RFC §5.7 single-frame unmasked text 'Hello'",
    data: hex("81 05 48 65 6c 6c 6f"),
    expected: [{ kind: "text", data: "Hello" }],
  },
  {
    name: "RFC §5.7 fragmented unmasked text 'Hel' + 'lo'",
    data: hex("01 03 48 65 6c 80 02 6c 6f"),
    expected: [{ kind: "text", data: "Hello" }],
  },
  {
    name: "RFC §5.7 unmasked ping 'Hello'",
    data: hex("89 05 48 65 6c 6c 6f"),
    expected: [{ kind: "ping", data: HELLO }],
  },
  {
    name: "an unmasked pong 'Hello'",
    data: hex("8a 05 48 65 6c 6c 6f"),
    expected: [{ kind: "pong", data: HELLO }],
  },
  {
    name: "RFC §5.7 masked pong 'Hello' (a client frame: a server may not send it)",
    data: hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    expected: [{ kind: "error", code: 1002 }],
  },
  {
    name: "RFC §5.7 masked text 'Hello' (a client frame: a server may not send it)",
    data: hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    expected: [{ kind: "error", code: 1002 }],
  },
  {
    name: "RFC §5.7 256-byte binary (16-bit length 7E 01 00)",
    data: concat(hex("82 7e 01 00"), payloadOf(256)),
    expected: [{ kind: "binary", data: payloadOf(256) }],
  },
  {
    name: "RFC §5.7 65536-byte binary (64-bit length 7F 00 00 00 00 00 01 00 00)",
    data: concat(hex("82 7f 00 00 00 00 00 01 00 00"), payloadOf(65536)),
    expected: [{ kind: "binary", data: payloadOf(65536) }],
  },
  {
    name: "an empty text frame",
    data: hex("81 00"),
    expected: [{ kind: "text", data: "" }],
  },
  {
    name: "an empty binary frame",
    data: hex("82 00"),
    expected: [{ kind: "binary", data: new Uint8Array(0) }],
  },
  {
    name: "a fragmented message of empty fragments",
    data: hex("01 00 00 00 80 00"),
    expected: [{ kind: "text", data: "" }],
  },
  {
    name: "a ping between the fragments of a text message",
    data: hex("01 03 48 65 6c 89 02 68 69 80 02 6c 6f"),
    expected: [{ kind: "ping", data: utf8("hi") }, { kind: "text", data: "Hello" }],
  },
  {
    name: "a pong and an empty ping between binary fragments",
    data: hex("02 01 01 8a 00 00 01 02 89 00 80 01 03"),
    expected: [
      { kind: "pong", data: new Uint8Array(0) },
      { kind: "ping", data: new Uint8Array(0) },
      { kind: "binary", data: bytes(1, 2, 3) },
    ],
  },
  {
    name: "multibyte text split inside characters across fragments",
    // "é€😀" = c3 a9 | e2 82 ac | f0 9f 98 80, cut as c3 / a9 e2 / 82 ac f0 9f / 98 80
    data: hex("01 01 c3 00 02 a9 e2 00 04 82 ac f0 9f 80 02 98 80"),
    expected: [{ kind: "text", data: "é€😀" }],
  },
  {
    name: "several messages back to back, then a close",
    data: concat(
      serverFrame(TEXT, "one"),
      serverFrame(BINARY, bytes(9, 8, 7)),
      serverFrame(TEXT, "two", { fin: false }),
      serverFrame(CONTINUATION, "!"),
      serverFrame(CLOSE, closeBody(1000, "bye")),
    ),
    expected: [
      { kind: "text", data: "one" },
      { kind: "binary", data: bytes(9, 8, 7) },
      { kind: "text", data: "two!" },
      { kind: "close", code: 1000, reason: "bye" },
    ],
  },
  {
    name: "a close frame with a code",
    data: hex("88 02 03 e8"),
    expected: [{ kind: "close", code: 1000, reason: "" }],
  },
  {
    name: "a close frame with a UTF-8 reason",
    data: serverFrame(CLOSE, closeBody(4001, "é bye")),
    expected: [{ kind: "close", code: 4001, reason: "é bye" }],
  },
  {
    name: "an empty close frame (code 1005 reported)",
    data: hex("88 00"),
    expected: [{ kind: "close", code: 1005, reason: "" }],
  },
  {
    name: "a ping of 125 bytes (the control maximum)",
    data: serverFrame(PING, payloadOf(125)),
    expected: [{ kind: "ping", data: payloadOf(125) }],
  },
];

// (65536 is the RFC vector above.)
for (const length of [0, 125, 126, 127, 65535]) {
  VECTORS.push({
    name: `a ${length}-byte binary frame`,
    data: serverFrame(BINARY, payloadOf(length)),
    expected: [{ kind: "binary", data: payloadOf(length) }],
  });
}
for (const length of [0, 125, 126, 127, 300]) {
  VECTORS.push({
    name: `a ${length}-byte text frame`,
    data: serverFrame(TEXT, asciiOf(length)),
    expected: [{ kind: "text", data: asciiOf(length) }],
  });
}

for (const { name, data, expected } of VECTORS) {
  Deno.test(`decoder vector: ${name} decodes identically whole, split at every offset and byte by byte`, () => {
    assertDecodesEverywhere(data, expected);
  });
}

Deno.test("decoder: 65535- and 65536-byte text frames decode whole, byte by byte and split in the header, near the ends and every 997 bytes", () => {
  // (Validating and decoding 64 KiB of text at all 65,546 split points would take seconds.)
  for (const length of [65535, 65536]) {
    const text = asciiOf(length - 3) + "€";
    const frame = serverFrame(TEXT, text);
    const expected: Expected[] = [{ kind: "text", data: text }];
    const head = headerSize(frame);
    assertEvents(decodeChunks([frame]), expected, "whole");
    const single: Uint8Array[] = [];
    for (let i = 0; i < frame.length; i++) single.push(frame.subarray(i, i + 1));
    assertEvents(decodeViews(single, DEFAULT_LIMITS), expected, "byte by byte");
    const offsets = new Set<number>();
    for (let i = 0; i <= head + 16; i++) offsets.add(i);
    for (let i = frame.length - 16; i <= frame.length; i++) offsets.add(i);
    for (let i = 0; i <= frame.length; i += 997) offsets.add(i);
    for (const at of offsets) {
      assertEvents(
        decodeViews([frame.subarray(0, at), frame.subarray(at)], DEFAULT_LIMITS),
        expected,
        `split at ${at}`,
      );
    }
  }
});

Deno.test("decoder vector: length headers are read exactly at 125/126/127/65535/65536", () => {
  const cases: Array<[number, string]> = [
    [0, "82 00"],
    [125, "82 7d"],
    [126, "82 7e 00 7e"],
    [127, "82 7e 00 7f"],
    [65535, "82 7e ff ff"],
    [65536, "82 7f 00 00 00 00 00 01 00 00"],
  ];
  for (const [n, head] of cases) {
    const payload = payloadOf(n);
    const events = decodeChunks([concat(hex(head), payload)]);
    assert.equal(events.length, 1, `length ${n}`);
    const e = events[0];
    assert.equal(e.kind, "binary");
    if (e.kind === "binary") assertBytes(e.data, payload, `length ${n}`);
  }
});

Deno.test("decoder: a frame fed together with the next frame's partial header decodes both", () => {
  const { decoder, events } = recordingDecoder();
  const two = concat(serverFrame(TEXT, "a"), serverFrame(TEXT, asciiOf(300)));
  decoder.push(two.subarray(0, 5)); // all of frame 1 and 2 bytes of frame 2's 4-byte header
  assert.deepEqual(comparable(events), [{ kind: "text", data: "a" }]);
  decoder.push(two.subarray(5, 6));
  decoder.push(two.subarray(6, 100));
  assert.equal(events.length, 1);
  decoder.push(two.subarray(100));
  assert.deepEqual(comparable(events), [{ kind: "text", data: "a" }, {
    kind: "text",
    data: asciiOf(300),
  }]);
});

Deno.test("decoder: an empty chunk changes nothing", () => {
  const { decoder, events } = recordingDecoder();
  decoder.push(new Uint8Array(0));
  decoder.push(hex("81"));
  decoder.push(new Uint8Array(0));
  decoder.push(hex("01 41"));
  assert.deepEqual(comparable(events), [{ kind: "text", data: "A" }]);
  assert.equal(decoder.done, false);
});

// ---------------------------------------------------------------------------------------------
// Violations: one test each, with the code, at every split, and nothing delivered.

/**
 * Asserts `data` fails with `code` (after the events in `before`), whole and at every split,
 * and that nothing else reaches the sink; also that the error is a ProtocolError.
 */
function assertViolation(
  data: Uint8Array,
  code: number,
  options: { before?: Expected[]; limits?: ResolvedLimits } = {},
): ProtocolError {
  const before = options.before ?? [];
  assertDecodesEverywhere(data, [...before, { kind: "error", code }], options.limits);
  const events = decodeChunks([data], options.limits);
  const last = events[events.length - 1];
  assert.equal(last.kind, "error");
  if (last.kind !== "error") throw new Error("unreachable");
  assert.ok(last.error instanceof ProtocolError);
  assert.equal(last.error.code, code);
  assert.equal(last.error.name, "ProtocolError");
  assert.ok(last.error.message.length > 0);
  return last.error;
}

for (const [bit, name] of [[4, "RSV1"], [2, "RSV2"], [1, "RSV3"], [7, "all RSV bits"]] as const) {
  Deno.test(`decoder violation: ${name} set on a text frame fails with 1002`, () => {
    assertViolation(serverFrame(TEXT, "Hello", { rsv: bit }), 1002);
  });
}

Deno.test("decoder violation: RSV bits on a ping, a close and a continuation fail with 1002", () => {
  assertViolation(serverFrame(PING, "x", { rsv: 4 }), 1002);
  assertViolation(serverFrame(CLOSE, closeBody(1000), { rsv: 2 }), 1002);
  assertViolation(
    concat(serverFrame(TEXT, "a", { fin: false }), serverFrame(CONTINUATION, "b", { rsv: 1 })),
    1002,
  );
});

for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
  Deno.test(`decoder violation: reserved opcode ${opcode} fails with 1002`, () => {
    assertViolation(serverFrame(opcode, "abc"), 1002);
    assertViolation(serverFrame(opcode), 1002);
  });
}

Deno.test("decoder violation: a reserved opcode in the middle of a fragmented message fails with 1002", () => {
  assertViolation(
    concat(serverFrame(TEXT, "a", { fin: false }), serverFrame(3, "", { fin: false })),
    1002,
  );
});

Deno.test("decoder violation: a masked server frame fails with 1002", () => {
  const key = hex("01 02 03 04");
  assertViolation(serverFrame(TEXT, "Hello", { maskKey: key }), 1002);
  assertViolation(serverFrame(BINARY, payloadOf(200), { maskKey: key }), 1002);
  assertViolation(serverFrame(PING, "", { maskKey: key }), 1002);
  assertViolation(serverFrame(CLOSE, closeBody(1000), { maskKey: key }), 1002);
});

for (const [opcode, name] of [[PING, "ping"], [PONG, "pong"], [CLOSE, "close"]] as const) {
  Deno.test(`decoder violation: a fragmented (FIN=0) ${name} fails with 1002`, () => {
    assertViolation(serverFrame(opcode, new Uint8Array(0), { fin: false }), 1002);
    assertViolation(
      serverFrame(opcode, opcode === CLOSE ? closeBody(1000) : "x", { fin: false }),
      1002,
    );
  });

  Deno.test(`decoder violation: a ${name} of 126 bytes (above the 125-byte control limit) fails with 1002`, () => {
    const payload = opcode === CLOSE ? closeBody(1000, "r".repeat(124)) : payloadOf(126);
    assert.equal(payload.length, 126);
    assertViolation(serverFrame(opcode, payload), 1002);
  });
}

Deno.test("decoder violation: a control frame above 125 bytes is refused at its header, before its payload", () => {
  const { decoder, events } = recordingDecoder();
  decoder.push(hex("89 7e 00 7e"));
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1002 }]);
  const big = recordingDecoder();
  big.decoder.push(hex("89 7f 00 00 00 00 00 01 00 00"));
  assert.deepEqual(comparable(big.events), [{ kind: "error", code: 1002 }]);
});

Deno.test("decoder violation: a continuation frame with no message to continue fails with 1002", () => {
  assertViolation(serverFrame(CONTINUATION, "lo"), 1002);
  assertViolation(serverFrame(CONTINUATION, "lo", { fin: false }), 1002);
  assertViolation(serverFrame(CONTINUATION), 1002);
});

Deno.test("decoder violation: a continuation after a finished message fails with 1002", () => {
  assertViolation(
    concat(serverFrame(TEXT, "done"), serverFrame(CONTINUATION, "more")),
    1002,
    { before: [{ kind: "text", data: "done" }] },
  );
});

Deno.test("decoder violation: a new text or binary frame in the middle of a fragmented message fails with 1002", () => {
  for (const first of [TEXT, BINARY]) {
    for (const second of [TEXT, BINARY]) {
      for (const fin of [true, false]) {
        assertViolation(
          concat(serverFrame(first, "Hel", { fin: false }), serverFrame(second, "lo", { fin })),
          1002,
        );
      }
    }
  }
  // Even after a continuation and an interleaved control frame.
  assertViolation(
    concat(
      serverFrame(TEXT, "a", { fin: false }),
      serverFrame(CONTINUATION, "b", { fin: false }),
      serverFrame(PING, "p"),
      serverFrame(TEXT, "c"),
    ),
    1002,
    { before: [{ kind: "ping", data: utf8("p") }] },
  );
});

Deno.test("decoder violation: a non-minimal 16-bit length fails with 1002", () => {
  for (const n of [0, 5, 125]) {
    assertViolation(serverFrame(BINARY, payloadOf(n), { length: 16 }), 1002);
    assertViolation(serverFrame(TEXT, asciiOf(n), { length: 16 }), 1002);
  }
});

Deno.test("decoder violation: a non-minimal 64-bit length fails with 1002", () => {
  for (const n of [0, 5, 125, 126, 65535]) {
    assertViolation(serverFrame(BINARY, payloadOf(n), { length: 64 }), 1002);
  }
});

Deno.test("decoder violation: a 64-bit length with the high bit set fails with 1002", () => {
  assertViolation(serverFrame(BINARY, new Uint8Array(0), { rawLength64: [0x80000000, 0] }), 1002);
  assertViolation(serverFrame(BINARY, new Uint8Array(0), { rawLength64: [0xffffffff, 5] }), 1002);
  assertViolation(
    serverFrame(TEXT, new Uint8Array(0), { rawLength64: [0x80000000, 0x10000] }),
    1002,
  );
});

Deno.test("decoder violation: a 64-bit length above 2^53 fails with 1009 at the header", () => {
  assertViolation(serverFrame(BINARY, new Uint8Array(0), { rawLength64: [0x00200000, 0] }), 1009);
  assertViolation(serverFrame(BINARY, new Uint8Array(0), { rawLength64: [0x7fffffff, 0] }), 1009);
});

Deno.test("decoder violation: a close frame with a 1-byte payload fails with 1002", () => {
  assertViolation(hex("88 01 03"), 1002);
});

for (const code of INVALID_CLOSE_CODES) {
  Deno.test(`decoder violation: close code ${code} may not be sent, fails with 1002`, () => {
    assertViolation(serverFrame(CLOSE, closeBody(code)), 1002);
    assertViolation(serverFrame(CLOSE, closeBody(code, "why")), 1002);
  });
}

Deno.test("decoder: every sendable close code is accepted with its reason", () => {
  for (const code of VALID_CLOSE_CODES) {
    assertDecodesEverywhere(serverFrame(CLOSE, closeBody(code)), [{
      kind: "close",
      code,
      reason: "",
    }]);
    assert.deepEqual(comparable(decodeChunks([serverFrame(CLOSE, closeBody(code, "ok"))])), [{
      kind: "close",
      code,
      reason: "ok",
    }]);
  }
});

Deno.test("decoder violation: a close reason that is not valid UTF-8 fails with 1007", () => {
  assertViolation(serverFrame(CLOSE, closeBody(1000, hex("ff"))), 1007);
  assertViolation(serverFrame(CLOSE, closeBody(1000, hex("c3"))), 1007, {}); // truncated
  assertViolation(serverFrame(CLOSE, closeBody(1000, hex("ed a0 80"))), 1007); // surrogate
  assertViolation(serverFrame(CLOSE, closeBody(1000, hex("41 c0 af"))), 1007); // overlong
});

Deno.test("decoder violation: invalid UTF-8 in a single text frame fails with 1007", () => {
  for (const bad of ["c3 28", "ff", "ed a0 80", "f4 90 80 80", "c0 af", "80", "41 42 fe 43"]) {
    assertViolation(serverFrame(TEXT, hex(bad)), 1007);
  }
});

Deno.test("decoder violation: invalid UTF-8 across fragments fails with 1007 at the offending fragment", () => {
  // c3 ends fragment 1 (fine so far), 28 starts fragment 2: invalid.
  const data = concat(
    serverFrame(TEXT, hex("41 c3"), { fin: false }),
    serverFrame(CONTINUATION, hex("28 41"), { fin: false }),
    serverFrame(CONTINUATION, "never reached"),
  );
  assertViolation(data, 1007);
  // Reported when the second fragment arrives, not when the message ends.
  const { decoder, events } = recordingDecoder();
  decoder.push(concat(
    serverFrame(TEXT, hex("41 c3"), { fin: false }),
    serverFrame(CONTINUATION, hex("28 41"), { fin: false }),
  ));
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }]);
});

Deno.test("decoder violation: invalid UTF-8 is reported as soon as the invalid byte arrives, mid-frame", () => {
  const payload = concat(utf8("abc"), hex("ff"), utf8("x".repeat(300)));
  const frame = serverFrame(TEXT, payload);
  const headLen = 4; // 16-bit length
  const { decoder, events } = recordingDecoder();
  decoder.push(frame.subarray(0, headLen + 3)); // header + "abc"
  assert.deepEqual(events, []);
  decoder.push(frame.subarray(headLen + 3, headLen + 4)); // the ff byte
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }], "before the frame's end");
  assert.equal(decoder.done, true);
  decoder.push(frame.subarray(headLen + 4));
  assert.equal(events.length, 1);
});

Deno.test("decoder violation: byte by byte, the UTF-8 error fires exactly with the offending byte", () => {
  for (const [prefix, bad] of [["61 62", "ff"], ["e2 82", "41"], ["ed", "a0"], ["f0", "8f"]]) {
    const payload = concat(hex(prefix), hex(bad), utf8("tail-tail-tail"));
    const frame = serverFrame(TEXT, payload);
    const offending = 2 + hex(prefix).length; // 7-bit length: 2-byte header
    const { decoder, events } = recordingDecoder();
    for (let i = 0; i < frame.length; i++) {
      decoder.push(frame.subarray(i, i + 1));
      if (i < offending) assert.equal(events.length, 0, `${prefix} ${bad}: byte ${i}`);
      else {
        assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }], `byte ${i}`);
      }
    }
  }
});

Deno.test("decoder violation: a mid-frame UTF-8 error in a later fragment is reported before that fragment ends", () => {
  const { decoder, events } = recordingDecoder();
  decoder.push(serverFrame(TEXT, "ok ", { fin: false }));
  const second = serverFrame(CONTINUATION, concat(utf8("fine"), hex("c0"), utf8("....")));
  decoder.push(second.subarray(0, 2 + 4)); // header + "fine"
  assert.deepEqual(events, []);
  decoder.push(second.subarray(6, 7)); // c0
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }]);
});

Deno.test("decoder violation: a text message that ends mid-sequence fails with 1007", () => {
  assertViolation(serverFrame(TEXT, hex("41 e2")), 1007);
  assertViolation(serverFrame(TEXT, hex("f0 9f 98")), 1007);
  assertViolation(
    concat(
      serverFrame(TEXT, hex("e2"), { fin: false }),
      serverFrame(CONTINUATION, hex("82")),
    ),
    1007,
  );
  // An incomplete character at the end of a non-final fragment is fine if the next completes it.
  assertDecodesEverywhere(
    concat(serverFrame(TEXT, hex("e2"), { fin: false }), serverFrame(CONTINUATION, hex("82 ac"))),
    [{ kind: "text", data: "€" }],
  );
});

Deno.test("decoder: invalid UTF-8 in a binary message is delivered as is", () => {
  assertDecodesEverywhere(serverFrame(BINARY, hex("ff c3 28 ed a0 80")), [{
    kind: "binary",
    data: hex("ff c3 28 ed a0 80"),
  }]);
});

Deno.test("decoder: a ping or pong payload is not validated as UTF-8", () => {
  assertDecodesEverywhere(
    concat(serverFrame(PING, hex("ff")), serverFrame(PONG, hex("c3"))),
    [{ kind: "ping", data: hex("ff") }, { kind: "pong", data: hex("c3") }],
  );
});

// ---------------------------------------------------------------------------------------------
// Limits.

Deno.test("decoder limits: a frame above maxFrameSize fails with 1009 at its header", () => {
  const lim = limits({ maxFrameSize: 10, maxMessageSize: 1000 });
  assertViolation(serverFrame(BINARY, payloadOf(11)), 1009, { limits: lim });
  assertViolation(serverFrame(TEXT, asciiOf(200)), 1009, { limits: lim });
  // Exactly the limit is fine.
  assertDecodesEverywhere(serverFrame(BINARY, payloadOf(10)), [{
    kind: "binary",
    data: payloadOf(10),
  }], lim);
  // Reported as soon as the header is complete, before any payload byte.
  const { decoder, events } = recordingDecoder(lim);
  decoder.push(hex("82 0b"));
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1009 }]);
  const big = recordingDecoder(lim);
  big.decoder.push(hex("82 7f 00 00 00 01 00 00 00 00")); // 4 GiB: not allocated
  assert.deepEqual(comparable(big.events), [{ kind: "error", code: 1009 }]);
});

Deno.test("decoder limits: a fragmented message above maxMessageSize fails with 1009 at the fragment's header", () => {
  const lim = limits({ maxFrameSize: 100, maxMessageSize: 10 });
  const data = concat(
    serverFrame(TEXT, "abcdef", { fin: false }),
    serverFrame(CONTINUATION, "ghijk"),
  );
  assertViolation(data, 1009, { limits: lim });
  const { decoder, events } = recordingDecoder(lim);
  decoder.push(serverFrame(TEXT, "abcdef", { fin: false }));
  decoder.push(hex("80 05")); // the continuation's header alone
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1009 }]);
  // Exactly the limit is fine, and the count restarts with each message.
  assertDecodesEverywhere(
    concat(
      serverFrame(TEXT, "abcdef", { fin: false }),
      serverFrame(CONTINUATION, "ghij"),
      serverFrame(BINARY, payloadOf(6), { fin: false }),
      serverFrame(CONTINUATION, payloadOf(4)),
    ),
    [{ kind: "text", data: "abcdefghij" }, {
      kind: "binary",
      data: concat(payloadOf(6), payloadOf(4)),
    }],
    lim,
  );
});

Deno.test("decoder limits: more than maxFragments fragments fails with 1009 at the extra fragment's header", () => {
  const lim = limits({ maxFragments: 3 });
  const three = concat(
    serverFrame(BINARY, bytes(1), { fin: false }),
    serverFrame(CONTINUATION, bytes(2), { fin: false }),
    serverFrame(CONTINUATION, bytes(3)),
  );
  assertDecodesEverywhere(three, [{ kind: "binary", data: bytes(1, 2, 3) }], lim);
  const four = concat(
    serverFrame(BINARY, bytes(1), { fin: false }),
    serverFrame(CONTINUATION, bytes(2), { fin: false }),
    serverFrame(CONTINUATION, bytes(3), { fin: false }),
    serverFrame(CONTINUATION, bytes(4)),
  );
  assertViolation(four, 1009, { limits: lim });
  const { decoder, events } = recordingDecoder(lim);
  decoder.push(four.subarray(0, 9)); // three 3-byte frames
  assert.deepEqual(events, []);
  decoder.push(four.subarray(9, 11)); // the fourth header, no payload yet
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1009 }]);
  // Control frames in between do not count as fragments.
  assertDecodesEverywhere(
    concat(
      serverFrame(BINARY, bytes(1), { fin: false }),
      serverFrame(PING),
      serverFrame(PONG),
      serverFrame(CONTINUATION, bytes(2), { fin: false }),
      serverFrame(CONTINUATION, bytes(3)),
    ),
    [
      { kind: "ping", data: new Uint8Array(0) },
      { kind: "pong", data: new Uint8Array(0) },
      { kind: "binary", data: bytes(1, 2, 3) },
    ],
    lim,
  );
});

// ---------------------------------------------------------------------------------------------
// Nothing after an error or a close.

Deno.test("decoder: after an error nothing more is decoded, in the same chunk or later ones", () => {
  const { decoder, events } = recordingDecoder();
  decoder.push(concat(serverFrame(TEXT, "a"), serverFrame(3), serverFrame(TEXT, "b")));
  assert.deepEqual(comparable(events), [{ kind: "text", data: "a" }, {
    kind: "error",
    code: 1002,
  }]);
  assert.equal(decoder.done, true);
  decoder.push(serverFrame(TEXT, "c"));
  decoder.push(serverFrame(CLOSE, closeBody(1000)));
  decoder.push(serverFrame(3)); // not reported twice
  assert.equal(events.length, 2);
});

Deno.test("decoder: after a close frame nothing more is decoded, not even a violation", () => {
  const { decoder, events } = recordingDecoder();
  assert.equal(decoder.done, false);
  decoder.push(concat(serverFrame(CLOSE, closeBody(1001)), serverFrame(TEXT, "after")));
  assert.deepEqual(comparable(events), [{ kind: "close", code: 1001, reason: "" }]);
  assert.equal(decoder.done, true);
  decoder.push(serverFrame(TEXT, "later"));
  decoder.push(hex("ff ff ff ff"));
  assert.equal(events.length, 1);
});

Deno.test("decoder: a close in the middle of a fragmented message ends decoding without delivering it", () => {
  assertDecodesEverywhere(
    concat(
      serverFrame(TEXT, "part", { fin: false }),
      serverFrame(CLOSE, closeBody(1000)),
      serverFrame(CONTINUATION, "rest"),
    ),
    [{ kind: "close", code: 1000, reason: "" }],
  );
});

Deno.test("decoder: events come out in wire order, control frames included", () => {
  // Events come out in wire order, control frames included.
  const data = concat(
    serverFrame(PING, "1"),
    serverFrame(TEXT, "2"),
    serverFrame(PONG, "3"),
    serverFrame(BINARY, bytes(4)),
  );
  assertDecodesEverywhere(data, [
    { kind: "ping", data: utf8("1") },
    { kind: "text", data: "2" },
    { kind: "pong", data: utf8("3") },
    { kind: "binary", data: bytes(4) },
  ]);
});

Deno.test("FrameDecoder: a message in pieces is joined into the injected allocator's buffer (garbage-filled, offset)", () => {
  const sizes: number[] = [];
  const allocate = (size: number) => {
    sizes.push(size);
    return new Uint8Array(size + 5).fill(0x5a).subarray(3, 3 + size);
  };
  const got: Uint8Array[] = [];
  const texts: string[] = [];
  const decoder = new FrameDecoder(DEFAULT_LIMITS, {
    text: (data) => texts.push(data),
    binary: (data) => got.push(data),
    ping() {},
    pong() {},
    remoteClose() {},
    error: (error) => assert.fail(error.message),
  }, allocate);
  const payload = new Uint8Array(70_000).map((_, i) => i * 7);
  const frame = serverFrame(BINARY, payload);
  // Split: the payload arrives in several chunks, so it is joined.
  for (let at = 0; at < frame.length; at += 16_384) decoder.push(frame.slice(at, at + 16_384));
  const fragmented = concat(
    serverFrame(TEXT, "héllo, ", { fin: false }),
    serverFrame(CONTINUATION, "wörld", { fin: true }),
  );
  decoder.push(fragmented);
  assert.equal(got.length, 1);
  assertBytes(got[0], payload);
  assert.deepEqual(texts, ["héllo, wörld"]);
  assert.deepEqual(sizes, [70_000, utf8("héllo, wörld").length]);
});

Deno.test("FrameDecoder: a large message arriving in many chunks goes into one buffer of its size once an eighth of it is here, and the next message in the same chunk follows", () => {
  for (const chunk of [1000, 4096, 65_536, 300_000]) {
    const sizes: number[] = [];
    const allocate = (size: number) => {
      sizes.push(size);
      return new Uint8Array(size).fill(0x5a);
    };
    const events: Array<string | Uint8Array> = [];
    const decoder = new FrameDecoder(DEFAULT_LIMITS, {
      text: (data) => events.push(data),
      binary: (data) => events.push(data),
      ping() {},
      pong() {},
      remoteClose() {},
      error: (error) => assert.fail(error.message),
    }, allocate);
    const payload = new Uint8Array(1_000_003).map((_, i) => i * 13);
    const text = asciiOf(200_000) + "€";
    const wire = concat(serverFrame(BINARY, payload), serverFrame(TEXT, text), serverFrame(BINARY));
    for (let at = 0; at < wire.length; at += chunk) decoder.push(wire.slice(at, at + chunk));
    assert.equal(events.length, 3, `${chunk}-byte chunks`);
    assertBytes(events[0] as Uint8Array, payload, `${chunk}-byte chunks`);
    assert.equal(events[1], text);
    assert.deepEqual(events[2], new Uint8Array(0));
    assert.deepEqual(sizes, [1_000_003, 200_003]);
  }
});

Deno.test("decoder violation: invalid UTF-8 late in a large text message arriving in chunks fails with 1007 in the chunk that brings it", () => {
  const bytes = utf8(asciiOf(300_000));
  bytes[250_000] = 0xff;
  const frame = serverFrame(TEXT, bytes);
  const { decoder, events } = recordingDecoder();
  let failedAt = -1;
  for (let at = 0; at < frame.length && failedAt < 0; at += 65_536) {
    decoder.push(frame.slice(at, at + 65_536));
    if (events.length > 0) failedAt = at;
  }
  assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }]);
  assert.equal(failedAt, 196_608);
});

Deno.test("decoder: a text message arriving whole is checked when decoded: a genuine U+FFFD passes, and each violation is told as when the message arrives in pieces", () => {
  // U+FFFD itself is valid text, alone, among other characters, and before the end.
  for (const text of ["\uFFFD", "a\uFFFDb€", "x".repeat(300) + "\uFFFD"]) {
    assertDecodesEverywhere(serverFrame(TEXT, text), [{ kind: "text", data: text }]);
  }
  const cases: Array<[string, string]> = [
    ["ef bf bd ff", "The server sent text that is not valid UTF-8"],
    ["41 ed a0 80 42", "The server sent text that is not valid UTF-8"],
    ["ef bf bd 41 e2 82", "The server ended a text message in the middle of a UTF-8 sequence"],
    ["f0 9f 98", "The server ended a text message in the middle of a UTF-8 sequence"],
  ];
  for (const [bad, message] of cases) {
    const frame = serverFrame(TEXT, hex(bad));
    const whole = decodeChunks([frame]);
    const split = decodeChunks([frame.subarray(0, frame.length - 1), frame.subarray(-1)]);
    for (const events of [whole, split]) {
      assert.deepEqual(comparable(events), [{ kind: "error", code: 1007 }], bad);
      assert.equal((events[0] as { error: Error }).error.message, message, bad);
    }
  }
});

Deno.test("FrameDecoder: a large message's remaining bytes are read straight into its own buffer (readInto)", () => {
  const payload = payloadOf(200_000);
  const frame = serverFrame(BINARY, payload);
  const head = headerSize(frame);
  const { decoder, events } = recordingDecoder(DEFAULT_LIMITS, false);
  assert.equal(decoder.readInto(), undefined, "no message under way");
  // An eighth of the message and more: it then has a buffer of its own.
  const first = head + 30_000;
  decoder.push(frame.slice(0, first));
  const into = decoder.readInto();
  assert.ok(into !== undefined);
  assert.equal(into.length, payload.length - 30_000);
  // Two reads into it, as a stream would: the first part, then the rest.
  into.set(frame.subarray(first, first + 100_000));
  decoder.push(into.subarray(0, 100_000));
  const rest = decoder.readInto()!;
  assert.equal(rest.length, payload.length - 130_000);
  assert.equal(rest.buffer, into.buffer);
  rest.set(frame.subarray(first + 100_000));
  decoder.push(rest);
  assert.equal(decoder.readInto(), undefined, "the message is complete");
  assert.equal(events.length, 1);
  const got = events[0];
  assert.ok(got.kind === "binary");
  assertBytes(got.data, payload);
  assert.equal(got.data.buffer, into.buffer, "delivered in the buffer it was read into");
});

Deno.test("FrameDecoder: readInto offers nothing for a message that arrives whole, or fragmented", () => {
  const { decoder } = recordingDecoder();
  const small = serverFrame(BINARY, payloadOf(1000));
  decoder.push(small.subarray(0, 500));
  assert.equal(decoder.readInto(), undefined);
  decoder.push(small.subarray(500));
  const fragment = serverFrame(BINARY, payloadOf(100_000), { fin: false });
  decoder.push(fragment.subarray(0, 50_000));
  assert.equal(decoder.readInto(), undefined);
});
