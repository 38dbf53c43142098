// Property tests across the protocol core: encoder → decoder round trips under random
// fragmentation and chunking, the decoder on arbitrary bytes, and UTF-8 validation through the
// decoder. (The validator's own properties against TextDecoder are in utf8_test.ts.)

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.11.0";
import { ClientConnection } from "../../src/protocol/client_connection.ts";
import { isValidCloseCode } from "../../src/protocol/close_codes.ts";
import { encodeFrame } from "../../src/protocol/frame_encoder.ts";
import { acceptFor } from "../../src/protocol/handshake.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import {
  closeBody,
  comparable,
  concat,
  decodeChunks,
  type DecoderEvent,
  fixedRandom,
  latin1,
  parseClientFrame,
  parseClientFrames,
  seededRandom,
  serverFrame,
  splitAt,
  utf8,
} from "./_helpers.ts";

/** A message or control frame the "server" sends. */
type Item =
  | { kind: "text"; data: string; cuts: number[] }
  | { kind: "binary"; data: Uint8Array; cuts: number[] }
  | { kind: "ping"; data: Uint8Array }
  | { kind: "pong"; data: Uint8Array };

const controlPayload = fc.uint8Array({ maxLength: 125 });

const itemArb: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("text" as const),
      data: fc.string({ unit: "binary", maxLength: 60 }),
      cuts: fc.array(fc.nat({ max: 200 }), { maxLength: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("binary" as const),
      data: fc.oneof(
        { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 65530, maxLength: 65540 }) },
      ),
      cuts: fc.array(fc.nat({ max: 70000 }), { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("ping" as const), data: controlPayload }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pong" as const), data: controlPayload }) },
);

const closeArb = fc.option(
  fc.record({
    code: fc.oneof(
      fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014),
      fc.integer({ min: 3000, max: 4999 }),
    ),
    reason: fc.string({ maxLength: 30 }).filter((r) => utf8(r).length <= 123),
  }),
  { nil: undefined },
);

/** The payload bytes of a message item. */
function itemBytes(item: Item): Uint8Array {
  return item.kind === "text" ? utf8(item.data) : item.data;
}

/**
 * Encodes items as a client would (masked, with random keys), then turns each client frame into
 * the server frame a server would send (the test unmasks it with the key in the frame): the
 * encoder is checked by the decoder and the decoder by the encoder, with the test's own
 * masking in between. Control frames go between the fragments of the message after them.
 */
function serverStream(
  items: readonly Item[],
  close?: { code: number; reason: string },
): Uint8Array {
  const random = seededRandom(99);
  const frames: Uint8Array[] = [];
  const pendingControls: Uint8Array[] = [];
  const reframe = (clientFrame: Uint8Array) => {
    const f = parseClientFrame(clientFrame);
    assert.equal(f.masked, true);
    assert.equal(f.length, clientFrame.length);
    return serverFrame(f.opcode, f.payload, { fin: f.fin, rsv: f.rsv });
  };
  for (const item of items) {
    if (item.kind === "ping" || item.kind === "pong") {
      pendingControls.push(
        reframe(encodeFrame(item.kind === "ping" ? PING : PONG, item.data, random)),
      );
      continue;
    }
    const payload = itemBytes(item);
    const pieces = splitAt(payload, item.cuts.map((c) => c % (payload.length + 1)));
    pieces.forEach((piece, i) => {
      const opcode = i === 0 ? (item.kind === "text" ? TEXT : BINARY) : CONTINUATION;
      const last = i === pieces.length - 1;
      // Text fragments are sent as bytes (they may end mid-character); a whole-message text
      // frame goes through the encoder's string path.
      const body = item.kind === "text" && pieces.length === 1 ? item.data : piece;
      frames.push(reframe(encodeFrame(opcode, body, random, last)));
      // Controls land after the first fragment: between fragments, or after a 1-frame message.
      frames.push(...pendingControls.splice(0));
    });
  }
  frames.push(...pendingControls);
  if (close) frames.push(reframe(encodeFrame(CLOSE, closeBody(close.code, close.reason), random)));
  return concat(...frames);
}

/** What the decoder should report for `items` (and a final close). */
function expectedEvents(
  items: readonly Item[],
  close?: { code: number; reason: string },
): unknown[] {
  const out: unknown[] = [];
  const controls: unknown[] = [];
  for (const item of items) {
    if (item.kind === "ping" || item.kind === "pong") {
      controls.push({ kind: item.kind, data: item.data });
      continue;
    }
    const payload = itemBytes(item);
    const pieces = splitAt(payload, item.cuts.map((c) => c % (payload.length + 1)));
    // The pending controls go out right after the first fragment, before the message completes
    // (or after it, for a single-frame message).
    if (pieces.length === 1) {
      out.push(
        item.kind === "text"
          ? { kind: "text", data: new TextDecoder().decode(utf8(item.data)) }
          : { kind: "binary", data: payload },
      );
      out.push(...controls.splice(0));
    } else {
      out.push(...controls.splice(0));
      out.push(
        item.kind === "text"
          ? { kind: "text", data: new TextDecoder().decode(utf8(item.data)) }
          : { kind: "binary", data: payload },
      );
    }
  }
  out.push(...controls);
  if (close) out.push({ kind: "close", code: close.code, reason: close.reason });
  return out;
}

const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

function chunk(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  return splitAt(data, cuts.map((c) => c % (data.length + 1)));
}

Deno.test("property: encode → unmask → decode round-trips any messages, fragmentation and chunking", () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 6 }), closeArb, cutsArb, (items, close, cuts) => {
      const stream = serverStream(items, close);
      const events = decodeChunks(chunk(stream, cuts));
      assert.deepEqual(comparable(events), expectedEvents(items, close));
    }),
    { numRuns: 150 },
  );
});

Deno.test("property: a single random frame round-trips for any opcode, fin and payload", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(TEXT, BINARY, PING, PONG),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      cutsArb,
      (opcode, raw, key, cuts) => {
        const payload = opcode === PING || opcode === PONG ? raw.subarray(0, 125) : raw;
        const text = opcode === TEXT ? new TextDecoder().decode(payload) : "";
        const body = opcode === TEXT ? text : payload;
        const f = parseClientFrame(encodeFrame(opcode, body, fixedRandom(key)));
        const events = decodeChunks(chunk(serverFrame(f.opcode, f.payload, { fin: f.fin }), cuts));
        const expected = opcode === TEXT ? { kind: "text", data: text } : {
          kind: opcode === BINARY ? "binary" : opcode === PING ? "ping" : "pong",
          data: payload,
        };
        assert.deepEqual(comparable(events), [expected]);
      },
    ),
    { numRuns: 300 },
  );
});

// Bytes that look like frames: valid frames with a few bytes changed, or frame headers with
// random fields, or plain random bytes.
const headerByte = fc.oneof(
  fc.constantFrom(0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x88, 0x89, 0x8a, 0x09, 0xc1, 0x83, 0x8b),
  fc.integer({ min: 0, max: 255 }),
);
const lengthByte = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.constantFrom(125, 126, 127, 0x80, 0x85, 0xfe, 0xff),
  fc.integer({ min: 0, max: 255 }),
);
const frameish = fc.array(
  fc.oneof(
    fc.tuple(headerByte, lengthByte, fc.uint8Array({ maxLength: 12 })).map(([a, b, rest]) =>
      concat(new Uint8Array([a, b]), rest)
    ),
    fc.record({
      op: fc.constantFrom(TEXT, BINARY, CONTINUATION, PING, PONG, CLOSE),
      fin: fc.boolean(),
      data: fc.uint8Array({ maxLength: 20 }),
    }).map(({ op, fin, data }) => serverFrame(op, data, { fin })),
    fc.string({ maxLength: 10 }).map((s) => serverFrame(TEXT, s)),
  ),
  { maxLength: 8 },
).map((parts) => concat(...parts));
const mutated = fc.tuple(
  frameish,
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
).map(([data, flips]) => {
  const copy = data.slice();
  for (const [at, b] of flips) if (copy.length > 0) copy[at % copy.length] = b;
  return copy;
});
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 80 }), frameish, mutated);

/** Asserts a decoder event list is well-formed. */
function assertSane(events: readonly DecoderEvent[], lim: ResolvedLimits): void {
  let ended = false;
  for (const e of events) {
    assert.equal(ended, false, "nothing after an error or a close");
    switch (e.kind) {
      case "error":
        assert.ok(e.error instanceof ProtocolError);
        assert.ok([1002, 1007, 1009].includes(e.code), `code ${e.code}`);
        ended = true;
        break;
      case "close":
        assert.ok(e.code === 1005 || isValidCloseCode(e.code), `close code ${e.code}`);
        assert.equal(typeof e.reason, "string");
        ended = true;
        break;
      case "ping":
      case "pong":
        assert.ok(e.data.length <= 125);
        break;
      case "text":
        assert.equal(typeof e.data, "string");
        assert.ok(utf8(e.data).length <= lim.maxMessageSize);
        break;
      case "binary":
        assert.ok(e.data.length <= lim.maxMessageSize);
        break;
    }
  }
}

Deno.test("property: the decoder on arbitrary bytes never throws and reports only valid events or 1002/1007/1009", () => {
  fc.assert(
    fc.property(anyBytes, cutsArb, (data, cuts) => {
      const events = decodeChunks(chunk(data, cuts));
      assertSane(events, DEFAULT_LIMITS);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("property: the decoder reports the same events for any chunking of the same bytes", () => {
  fc.assert(
    fc.property(anyBytes, cutsArb, (data, cuts) => {
      const whole = comparable(decodeChunks([data]));
      assert.deepEqual(comparable(decodeChunks(chunk(data, cuts))), whole);
      const single: Uint8Array[] = [];
      for (let i = 0; i < data.length; i++) single.push(data.subarray(i, i + 1));
      assert.deepEqual(comparable(decodeChunks(single)), whole);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: with small random limits, a message is delivered whole or the connection fails with 1009", () => {
  fc.assert(
    fc.property(
      fc.record({
        maxFrameSize: fc.integer({ min: 0, max: 40 }),
        maxMessageSize: fc.integer({ min: 0, max: 60 }),
        maxFragments: fc.integer({ min: 1, max: 4 }),
      }),
      fc.array(itemArb.filter((i) => i.kind !== "binary" || i.data.length < 1000), {
        maxLength: 4,
      }),
      cutsArb,
      (lim, items, cuts) => {
        const stream = serverStream(items);
        const events = decodeChunks(chunk(stream, cuts), lim);
        assertSane(events, lim);
        const expected = expectedEvents(items);
        const got = comparable(events);
        const last = events[events.length - 1];
        if (last?.kind === "error") {
          assert.equal(last.code, 1009);
          // Everything before the failure is what was expected, in order.
          assert.deepEqual(got.slice(0, -1), expected.slice(0, got.length - 1));
        } else {
          assert.deepEqual(got, expected);
        }
        assert.deepEqual(comparable(decodeChunks([stream], lim)), got, "chunking-independent");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: a text message is delivered iff its bytes are valid UTF-8 (else 1007), however fragmented and chunked", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const textBytes = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 20 }).map((s) => utf8(s)),
    fc.tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 20 }), fc.nat(), fc.nat(255))
      .map(([s, at, b]) => {
        const d = utf8(s);
        d[at % d.length] = b;
        return d;
      }),
  );
  fc.assert(
    fc.property(
      textBytes,
      fc.array(fc.nat(), { maxLength: 4 }),
      cutsArb,
      (payload, frags, cuts) => {
        const pieces = splitAt(payload, frags.map((c) => c % (payload.length + 1)));
        const stream = concat(
          ...pieces.map((p, i) =>
            serverFrame(i === 0 ? TEXT : CONTINUATION, p, { fin: i === pieces.length - 1 })
          ),
        );
        let valid = true;
        let text = "";
        try {
          text = fatal.decode(payload);
        } catch {
          valid = false;
        }
        const events = comparable(decodeChunks(chunk(stream, cuts)));
        assert.deepEqual(
          events,
          valid ? [{ kind: "text", data: text }] : [{ kind: "error", code: 1007 }],
        );
      },
    ),
    { numRuns: 800 },
  );
});

Deno.test("property: a connection answers every ping with a pong of the same payload, in order, whatever the chunking", () => {
  fc.assert(
    fc.property(fc.array(itemArb, { maxLength: 6 }), closeArb, cutsArb, (items, close, cuts) => {
      const events: string[] = [];
      const conn = new ClientConnection({
        url: new URL("ws://h/"),
        headers: [],
        subprotocols: [],
        limits: DEFAULT_LIMITS,
        random: seededRandom(5),
      }, {
        opened: () => events.push("opened"),
        text: () => events.push("text"),
        binary: () => events.push("binary"),
        ping: () => events.push("ping"),
        pong: () => events.push("pong"),
        remoteClose: (_c, _r, byServer) => events.push(`closed ${byServer}`),
        error: (e) => events.push(`failed ${e.message}`),
      });
      const request = new TextDecoder().decode(conn.takeOutput()[0]);
      const key = /Sec-WebSocket-Key: (.+)\r\n/.exec(request)![1];
      const head = latin1(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      );
      const stream = concat(head, serverStream(items, close));
      for (const piece of chunk(stream, cuts)) conn.receive(piece);
      conn.sendOwedClose();
      const written = parseClientFrames(conn.takeOutput());
      const pings = items.filter((i) => i.kind === "ping").map((i) => i.data);
      const pongs = written.filter((f) => f.opcode === PONG).map((f) => f.payload);
      assert.deepEqual(pongs, pings);
      assert.ok(written.every((f) => f.masked && f.fin && f.rsv === 0));
      const closes = written.filter((f) => f.opcode === CLOSE);
      if (close) {
        assert.equal(events[events.length - 1], "closed true");
        assert.equal(closes.length, 1);
        assert.deepEqual(closes[0].payload, closeBody(close.code));
        assert.equal(conn.state, "closed");
      } else {
        assert.equal(closes.length, 0);
        assert.equal(conn.state, "open");
      }
      assert.equal(events[0], "opened");
    }),
    { numRuns: 100 },
  );
});
