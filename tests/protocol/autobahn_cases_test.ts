// The Autobahn|Testsuite client cases (groups 1-7, 9 and 10), replayed at the sans-I/O level.
//
// Each test plays the fuzzing server against one ClientConnection: it answers the upgrade with a
// 101, writes the case's frames (whole, or split into chops at the points the case describes),
// and reads back every frame the client writes, unmasked with its key. The client side is the
// echo driver Autobahn's client harness assumes: each text or binary message is sent straight
// back through sendText/sendBinary from the handler; nothing else is answered by hand (pongs and
// close replies are the connection's own). Where the case expects the client to fail, the test
// checks the close code and, for the fail-fast cases (6.4.x and the octet-wise variants), that
// the close frame is written as soon as the offending chop is fed, before the rest of the message.
//
// Case numbers and payloads follow autobahntestsuite/case/*.py. Group 9 keeps the suite's sizes
// (up to 16 MiB, 65,536 fragments) and 9.7/9.8 their 1000 round trips; only timing is left out.

import assert from "node:assert/strict";
import { ClientConnection, type ConnectionHandler } from "../../src/protocol/client_connection.ts";
import { acceptFor } from "../../src/protocol/handshake.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import type { RandomSource } from "../../src/protocol/random.ts";
import { concat } from "../support/bytes.ts";
import { streamingFailIndex } from "./_helpers.ts";
// The 6.5-6.23 sequences are shared with the fuzzing server (tests/conformance/).
import { utf8TestSequences } from "../conformance/utf8_sequences.ts";

// ---------------------------------------------------------------------------------------------
// Bytes

const enc = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

type Bytes = Uint8Array | string;

function toBytes(data: Bytes): Uint8Array {
  return typeof data === "string" ? enc.encode(data) : data;
}

/** Bytes from hex pairs, spaces ignored: `hex("ce ba")`. */
function hex(s: string): Uint8Array {
  const digits = s.replace(/\s+/g, "");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

/** `pattern` repeated and cut to `length` characters (the suite's large text payloads). */
function repeated(pattern: string, length: number): string {
  return pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length);
}

/** The index of the first difference, or -1 (fast enough for 16 MiB). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A deterministic random source (xorshift32), so mask keys vary but runs repeat. */
function seededRandom(seed = 0x9e3779b9): RandomSource {
  let x = seed | 0;
  return (target) => {
    for (let i = 0; i < target.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      target[i] = x & 0xff;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Server frames (unmasked, as a server writes them)

interface FrameOptions {
  readonly fin?: boolean;
  readonly rsv?: number;
}

function frameHeaderLength(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

function writeHeader(
  out: Uint8Array,
  at: number,
  opcode: number,
  length: number,
  fin: boolean,
  rsv: number,
): number {
  out[at] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 65536) {
    out[at + 1] = 126;
    out[at + 2] = length >>> 8;
    out[at + 3] = length & 0xff;
    return at + 4;
  }
  out[at + 1] = 127;
  new DataView(out.buffer, out.byteOffset).setBigUint64(at + 2, BigInt(length));
  return at + 10;
}

/** One server frame. */
function frame(opcode: number, payload: Bytes = EMPTY, options: FrameOptions = {}): Uint8Array {
  const data = toBytes(payload);
  const out = new Uint8Array(frameHeaderLength(data.length) + data.length);
  const at = writeHeader(out, 0, opcode, data.length, options.fin ?? true, options.rsv ?? 0);
  out.set(data, at);
  return out;
}

/** A close frame: no payload, a code, or a code and a reason (bytes, to allow invalid UTF-8). */
function closeFrame(code?: number, reason: Bytes = EMPTY): Uint8Array {
  if (code === undefined) return frame(CLOSE);
  return frame(CLOSE, concat(new Uint8Array([code >>> 8, code & 0xff]), toBytes(reason)));
}

/**
 * A message split into frames of `size` payload bytes (the last may be shorter); with `finish`
 * false, the last frame has no FIN and the message stays open.
 */
function fragmented(opcode: number, payload: Bytes, size: number, finish = true): Uint8Array {
  const data = toBytes(payload);
  const count = Math.max(1, Math.ceil(data.length / size));
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += frameHeaderLength(Math.min(size, data.length - i * size)) +
      Math.min(size, data.length - i * size);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const part = data.subarray(i * size, Math.min(data.length, (i + 1) * size));
    const fin = finish && i === count - 1;
    at = writeHeader(out, at, i === 0 ? opcode : CONTINUATION, part.length, fin, 0);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A message as one frame per given payload. */
function fragments(opcode: number, parts: readonly Bytes[]): Uint8Array {
  return concat(
    ...parts.map((p, i) =>
      frame(i === 0 ? opcode : CONTINUATION, p, { fin: i === parts.length - 1 })
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Client frames (what the client wrote, unmasked)

/** A client frame as the fuzzing server reads it. */
type Wire =
  | { readonly op: "text"; readonly data: string }
  | { readonly op: "binary" | "ping" | "pong"; readonly data: Uint8Array }
  | { readonly op: "close"; readonly code: number | null; readonly reason: string };

const text = (data: string): Wire => ({ op: "text", data });
const binary = (data: Bytes): Wire => ({ op: "binary", data: toBytes(data) });
const pong = (data: Bytes = EMPTY): Wire => ({ op: "pong", data: toBytes(data) });
const close = (code: number | null, reason = ""): Wire => ({ op: "close", code, reason });

/** XORs with the 4-byte key into a fresh (aligned) array, 32 bits at a time. */
function unmask(payload: Uint8Array, key: Uint8Array): Uint8Array {
  const out = payload.slice();
  const words = out.length >>> 2;
  const k = new Uint32Array(key.slice().buffer)[0];
  const w = new Uint32Array(out.buffer, 0, words);
  for (let i = 0; i < words; i++) w[i] ^= k;
  for (let i = words << 2; i < out.length; i++) out[i] ^= key[i & 3];
  return out;
}

/**
 * Reads whole client frames from `buf`; returns them and the bytes of an unfinished frame.
 * Checks what RFC 6455 requires of every client frame: masked, no RSV bits, a known opcode,
 * minimal length encoding, control frames short; the echo driver never fragments.
 */
function readClientFrames(buf: Uint8Array): { frames: Wire[]; rest: Uint8Array } {
  const frames: Wire[] = [];
  let at = 0;
  while (buf.length - at >= 2) {
    const b0 = buf[at];
    const b1 = buf[at + 1];
    let length = b1 & 0x7f;
    let head = 2;
    if (length === 126) head = 4;
    else if (length === 127) head = 10;
    if (buf.length - at < head + 4) break;
    if (length === 126) {
      length = (buf[at + 2] << 8) | buf[at + 3];
      assert.ok(length >= 126, `client used a 16-bit length for ${length} bytes`);
    } else if (length === 127) {
      length = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(at + 2));
      assert.ok(length >= 65536, `client used a 64-bit length for ${length} bytes`);
    }
    if (buf.length - at < head + 4 + length) break;
    assert.equal(b1 & 0x80, 0x80, "every client frame must be masked");
    assert.equal(b0 & 0x70, 0, "the client set RSV bits");
    assert.equal(b0 & 0x80, 0x80, "the echo driver's frames are never fragmented");
    const opcode = b0 & 0x0f;
    const key = buf.subarray(at + head, at + head + 4);
    const payload = unmask(buf.subarray(at + head + 4, at + head + 4 + length), key);
    at += head + 4 + length;
    switch (opcode) {
      case TEXT:
        frames.push(text(strictUtf8.decode(payload)));
        break;
      case BINARY:
        frames.push({ op: "binary", data: payload });
        break;
      case PING:
      case PONG:
        assert.ok(payload.length <= 125, "control frame payload above 125 bytes");
        frames.push({ op: opcode === PING ? "ping" : "pong", data: payload });
        break;
      case CLOSE: {
        assert.ok(payload.length <= 125, "control frame payload above 125 bytes");
        assert.notEqual(payload.length, 1, "a close payload of 1 byte");
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : null;
        frames.push(close(code, strictUtf8.decode(payload.subarray(2))));
        break;
      }
      default:
        assert.fail(`the client wrote opcode ${opcode}`);
    }
  }
  return { frames, rest: buf.subarray(at) };
}

// ---------------------------------------------------------------------------------------------
// The fuzzing server with the echo driver on the other side

/** How a case's bytes are split into writes (each one `receive` call). */
type Chopping = "one chop" | "frame-wise chops" | "octet-wise chops";

type ConnEvent =
  | { readonly kind: "opened" }
  | { readonly kind: "text"; readonly data: string }
  | { readonly kind: "binary" | "ping" | "pong"; readonly data: Uint8Array }
  | {
    readonly kind: "closed";
    readonly code: number;
    readonly reason: string;
    readonly byServer: boolean;
  }
  | { readonly kind: "failed"; readonly error: Error; readonly closeOwed: boolean };

class Fuzzer {
  readonly conn: ClientConnection;
  /** What the connection reported, in order. */
  readonly events: ConnEvent[] = [];
  /** Every frame the client wrote after the upgrade request. */
  readonly written: Wire[] = [];
  /** The length of the 101 response and the early frames. */
  readonly responseLength: number;
  #taken = 0;
  #partial: Uint8Array = EMPTY;

  /**
   * Opens the connection: reads the upgrade request and answers 101. `early` bytes (the case's
   * first frames) go in the same write as the response, which is then fed in two chunks split
   * at `split` (default: all in one).
   */
  constructor(limits: ResolvedLimits = DEFAULT_LIMITS, early: Uint8Array = EMPTY, split = -1) {
    const handler: ConnectionHandler = {
      opened: () => this.events.push({ kind: "opened" }),
      // The echo driver: every message goes straight back, nothing else is answered by hand.
      text: (data) => {
        this.events.push({ kind: "text", data });
        this.conn.sendText(data);
      },
      binary: (data) => {
        this.events.push({ kind: "binary", data });
        this.conn.sendBinary(data);
      },
      ping: (data) => this.events.push({ kind: "ping", data: data.slice() }),
      pong: (data) => this.events.push({ kind: "pong", data: data.slice() }),
      remoteClose: (code, reason, byServer) =>
        this.events.push({ kind: "closed", code, reason, byServer }),
      error: (error, closeOwed) => this.events.push({ kind: "failed", error, closeOwed }),
    };
    this.conn = new ClientConnection({
      url: new URL("ws://127.0.0.1:9001/runCase?case=1&agent=parley"),
      headers: [],
      subprotocols: [],
      limits,
      random: seededRandom(),
    }, handler);
    const request = new TextDecoder().decode(concat(...this.conn.takeOutput()));
    const key = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/i.exec(request)?.[1];
    assert.ok(key !== undefined, "the upgrade request has a Sec-WebSocket-Key");
    const response = concat(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      early,
    );
    this.responseLength = response.length;
    if (split < 0) this.conn.receive(response);
    else {
      this.conn.receive(response.subarray(0, split));
      this.conn.receive(response.subarray(split));
    }
    assert.equal(this.conn.state, "open");
    assert.deepEqual(this.events[0], { kind: "opened" });
    this.events.shift();
    if (early.length === 0) assert.equal(this.conn.hasOutput, false);
  }

  /** Writes `data` to the client, in chops of `chop` bytes (each one `receive` call). */
  send(data: Uint8Array, chop = Infinity): void {
    if (chop >= data.length) {
      this.conn.receive(data);
      this.#collect();
      return;
    }
    for (let at = 0; at < data.length; at += chop) {
      this.conn.receive(data.subarray(at, at + chop));
      this.#collect();
    }
  }

  /** Writes each frame as its own chop (Autobahn's `sync = True`). */
  sendEach(frames: readonly Uint8Array[]): void {
    for (const f of frames) this.send(f);
  }

  /** Writes `frames` chopped the way a case describes. */
  sendFrames(frames: readonly Uint8Array[], chopping: Chopping): void {
    if (chopping === "frame-wise chops") this.sendEach(frames);
    else this.send(concat(...frames), chopping === "octet-wise chops" ? 1 : Infinity);
  }

  /** The client frames written since the last call. */
  take(): Wire[] {
    this.#collect();
    const out = this.written.slice(this.#taken);
    this.#taken = this.written.length;
    return out;
  }

  /** Asserts the client wrote exactly `expected` since the last check. */
  expect(expected: Wire[], message?: string): void {
    assert.deepStrictEqual(this.take(), expected, message ?? "the client's frames");
  }

  /** Asserts the client wrote nothing since the last check. */
  expectNothing(message?: string): void {
    this.expect([], message);
  }

  /** The messages the echo driver saw. */
  get messages(): ConnEvent[] {
    return this.events.filter((e) => e.kind === "text" || e.kind === "binary");
  }

  /**
   * The client failed the connection with `code`: a close frame with that code is the last
   * (and only) close it wrote, it reported one `failed` with `closeOwed`, and it decodes
   * nothing more: later frames get neither pongs nor echoes, and the socket's end is quiet.
   */
  expectFailed(code: number): void {
    this.#collect();
    const closes = this.written.filter((w) => w.op === "close");
    assert.deepStrictEqual(closes, [close(code)], "exactly one close frame, with the error code");
    assert.deepStrictEqual(this.written.at(-1), close(code), "the close frame is written last");
    assert.equal(this.conn.state, "closed");
    const failures = this.events.filter((e) => e.kind === "failed");
    assert.equal(failures.length, 1, "one failed event");
    const last = this.events.at(-1)!;
    assert.equal(last.kind, "failed", "nothing is reported after the failure");
    if (last.kind === "failed") {
      assert.ok(last.error instanceof ProtocolError, `a ProtocolError, got ${last.error}`);
      assert.equal(last.error.code, code);
      assert.equal(last.closeOwed, true);
    }
    this.#assertQuietAfterEnd();
  }

  /**
   * The server started the close handshake with `code` (`null`: no payload): the client
   * answered with one close frame (`echo`), reported `closed`, and decodes nothing more.
   */
  expectClosedByServer(
    code: number | null,
    reason = "",
    echo: Wire = close(code === null ? null : code),
  ): void {
    this.#collect();
    const closes = this.written.filter((w) => w.op === "close");
    assert.deepStrictEqual(closes, [echo], "exactly one close frame");
    assert.deepStrictEqual(this.written.at(-1), echo, "the close frame is written last");
    assert.equal(this.conn.state, "closed");
    assert.deepStrictEqual(this.events.filter((e) => e.kind === "closed" || e.kind === "failed"), [
      { kind: "closed", code: code ?? 1005, reason, byServer: true },
    ]);
    assert.equal(this.events.at(-1)?.kind, "closed", "nothing is reported after the close");
    this.#assertQuietAfterEnd();
  }

  /** The end of a passing case: the server closes with 1000 and the client echoes it. */
  closeNormally(): void {
    this.expectNothing("nothing unexpected before the server's close");
    this.send(closeFrame(1000));
    this.expect([close(1000)]);
    this.expectClosedByServer(1000);
  }

  #assertQuietAfterEnd(): void {
    const written = this.written.length;
    const events = this.events.length;
    this.send(concat(frame(PING, "late"), frame(TEXT, "late"), closeFrame(1000)));
    this.conn.end();
    this.#collect();
    assert.equal(this.written.length, written, "nothing is written after the close");
    assert.equal(this.events.length, events, "nothing is reported after the close");
    assert.throws(() => this.conn.sendText("x"), /not open|closed/);
    this.#taken = this.written.length;
  }

  #collect(): void {
    // The client handled everything this chop delivered (the echoes are out): now it writes the
    // close it owes after the server's close or a violation, as the socket transport does.
    this.conn.sendOwedClose();
    if (!this.conn.hasOutput) return;
    const chunks = this.conn.takeOutput();
    const buf = this.#partial.length === 0 && chunks.length === 1
      ? chunks[0]
      : concat(this.#partial, ...chunks);
    const { frames, rest } = readClientFrames(buf);
    assert.equal(rest.length, 0, "the client's output holds whole frames only");
    this.#partial = rest;
    for (const f of frames) this.written.push(f);
  }
}

/** Asserts one echoed message of `expected` bytes (large payloads, compared fast). */
function assertEcho(got: Wire[], op: "text" | "binary", expected: Bytes): void {
  assert.equal(got.length, 1, `one ${op} echo, got ${got.map((w) => w.op).join(", ")}`);
  const w = got[0];
  assert.equal(w.op, op);
  if (w.op === "text") {
    assert.equal(typeof expected, "string");
    assert.ok(w.data === expected, `the ${op} echo differs (length ${w.data.length})`);
  } else if (w.op === "binary") {
    assert.equal(firstDifference(w.data, toBytes(expected)), -1, `the ${op} echo differs`);
  }
}

// ---------------------------------------------------------------------------------------------
// The opening handshake: the fuzzer writes its first frames right behind the 101

Deno.test("autobahn (every case, handshake): frames written right behind the 101 response are decoded, whatever the split", () => {
  const early = concat(frame(TEXT), frame(PING, "Hello, world!"), frame(TEXT, "Hello, world!"));
  const whole = new Fuzzer(DEFAULT_LIMITS, early);
  whole.expect([text(""), pong("Hello, world!"), text("Hello, world!")]);
  whole.closeNormally();
  for (let split = 1; split < whole.responseLength; split++) {
    const s = new Fuzzer(DEFAULT_LIMITS, early, split);
    s.expect([text(""), pong("Hello, world!"), text("Hello, world!")], `split at ${split}`);
    s.closeNormally();
  }
});

// ---------------------------------------------------------------------------------------------
// 1 Framing

const FRAMING_LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

for (const [i, n] of FRAMING_LENGTHS.entries()) {
  Deno.test(`autobahn 1.1.${i + 1}: text message with payload of length ${n} is echoed`, () => {
    const s = new Fuzzer();
    const payload = "*".repeat(n);
    s.send(frame(TEXT, payload));
    s.expect([text(payload)]);
    s.closeNormally();
  });
  Deno.test(`autobahn 1.2.${i + 1}: binary message with payload of length ${n} is echoed`, () => {
    const s = new Fuzzer();
    const payload = filled(n, 0xfe);
    s.send(frame(BINARY, payload));
    s.expect([binary(payload)]);
    s.closeNormally();
  });
}

Deno.test("autobahn 1.1.8: text message of length 65536 sent in chops of 997 octets is echoed", () => {
  const s = new Fuzzer();
  const payload = "*".repeat(65536);
  const data = frame(TEXT, payload);
  for (let at = 0; at < data.length; at += 997) {
    s.expectNothing("no echo before the last chop");
    s.send(data.subarray(at, at + 997));
  }
  s.expect([text(payload)]);
  s.closeNormally();
});

Deno.test("autobahn 1.2.8: binary message of length 65536 sent in chops of 997 octets is echoed", () => {
  const s = new Fuzzer();
  const payload = filled(65536, 0xfe);
  s.send(frame(BINARY, payload), 997);
  s.expect([binary(payload)]);
  s.closeNormally();
});

// ---------------------------------------------------------------------------------------------
// 2 Pings/Pongs

const PING_CASES: ReadonlyArray<readonly [string, string, Uint8Array, number]> = [
  ["2.1", "ping without payload", EMPTY, Infinity],
  ["2.2", "ping with small text payload", enc.encode("Hello, world!"), Infinity],
  ["2.3", "ping with small binary (non UTF-8) payload", hex("00 ff fe fd fc fb 00 ff"), Infinity],
  ["2.4", "ping with binary payload of 125 octets", filled(125, 0xfe), Infinity],
  ["2.6", "ping with binary payload of 125 octets, sent in octet-wise chops", filled(125, 0xfe), 1],
];

for (const [id, what, payload, chop] of PING_CASES) {
  Deno.test(`autobahn ${id}: ${what} is answered with an identical pong`, () => {
    const s = new Fuzzer();
    s.send(frame(PING, payload), chop);
    s.expect([pong(payload)]);
    assert.deepStrictEqual(s.events, [{ kind: "ping", data: payload }]);
    s.closeNormally();
  });
}

Deno.test("autobahn 2.1-2.4, 2.6 (every length): pings of 0..125 octets get identical pongs, whole and octet-wise", () => {
  for (const chop of [Infinity, 1]) {
    const s = new Fuzzer();
    for (let n = 0; n <= 125; n++) {
      const payload = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      s.send(frame(PING, payload), chop);
      s.expect([pong(payload)], `ping of ${n} octets, chops of ${chop}`);
    }
    s.closeNormally();
  }
});

Deno.test("autobahn 2.5: ping with payload of 126 octets fails the connection with 1002", () => {
  const s = new Fuzzer();
  s.send(frame(PING, filled(126, 0xfe)));
  s.expect([close(1002)], "no pong, only the close");
  s.expectFailed(1002);
});

Deno.test("autobahn 2.7: unsolicited pong without payload is ignored", () => {
  const s = new Fuzzer();
  s.send(frame(PONG));
  s.expectNothing();
  assert.deepStrictEqual(s.events, [{ kind: "pong", data: EMPTY }]);
  s.closeNormally();
});

Deno.test("autobahn 2.8: unsolicited pong with payload is ignored", () => {
  const s = new Fuzzer();
  s.send(frame(PONG, "unsolicited pong payload"));
  s.expectNothing();
  s.closeNormally();
});

Deno.test("autobahn 2.9: unsolicited pong, then ping: only the ping is answered", () => {
  const s = new Fuzzer();
  s.send(concat(frame(PONG, "unsolicited pong payload"), frame(PING, "ping payload")));
  s.expect([pong("ping payload")]);
  s.closeNormally();
});

for (
  const [id, chop, how] of [["2.10", Infinity, ""], ["2.11", 1, ", octet-wise chops"]] as const
) {
  Deno.test(`autobahn ${id}: 10 pings with payload${how} get 10 pongs in order`, () => {
    const s = new Fuzzer();
    const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
    for (const p of payloads) s.send(frame(PING, p), chop);
    s.expect(payloads.map((p) => pong(p)));
    s.closeNormally();
  });
}

// ---------------------------------------------------------------------------------------------
// 3 Reserved bits

Deno.test("autobahn 3.1: text message with RSV = 1 fails the connection with 1002", () => {
  const s = new Fuzzer();
  s.send(frame(TEXT, "Hello, world!", { rsv: 1 }));
  s.expect([close(1002)], "no echo");
  s.expectFailed(1002);
});

const RSV_AFTER_MESSAGE = [
  ["3.2", 2, "one chop"],
  ["3.3", 3, "frame-wise chops"],
  ["3.4", 4, "octet-wise chops"],
] as const;

for (const [id, rsv, chopping] of RSV_AFTER_MESSAGE) {
  Deno.test(`autobahn ${id}: valid text, then text with RSV = ${rsv}, then ping, in ${chopping}: echo first, then 1002, no pong`, () => {
    const s = new Fuzzer();
    s.sendFrames([
      frame(TEXT, "Hello, world!"),
      frame(TEXT, "Hello, world!", { rsv }),
      frame(PING),
    ], chopping);
    s.expect([text("Hello, world!"), close(1002)]);
    s.expectFailed(1002);
  });
}

Deno.test("autobahn 3.5: binary message with RSV = 5 fails the connection with 1002", () => {
  const s = new Fuzzer();
  s.send(frame(BINARY, hex("00 ff fe fd fc fb 00 ff"), { rsv: 5 }));
  s.expect([close(1002)]);
  s.expectFailed(1002);
});

Deno.test("autobahn 3.6: ping with RSV = 6 fails the connection with 1002, no pong", () => {
  const s = new Fuzzer();
  s.send(frame(PING, "Hello, world!", { rsv: 6 }));
  s.expect([close(1002)]);
  s.expectFailed(1002);
});

Deno.test("autobahn 3.7: close with RSV = 7 fails the connection with 1002", () => {
  const s = new Fuzzer();
  s.send(frame(CLOSE, new Uint8Array([0x03, 0xe8]), { rsv: 7 }));
  s.expect([close(1002)], "not an echo of the close");
  s.expectFailed(1002);
});

// ---------------------------------------------------------------------------------------------
// 4 Opcodes

for (const [group, opcodes] of [["4.1", [3, 4, 5, 6, 7]], ["4.2", [11, 12, 13, 14, 15]]] as const) {
  const kind = group === "4.1" ? "non-control" : "control";
  const [a, b, c, d, e] = opcodes;
  Deno.test(`autobahn ${group}.1: reserved ${kind} opcode ${a} fails the connection with 1002`, () => {
    const s = new Fuzzer();
    s.send(frame(a));
    s.expect([close(1002)]);
    s.expectFailed(1002);
  });
  Deno.test(`autobahn ${group}.2: reserved ${kind} opcode ${b} with payload fails with 1002`, () => {
    const s = new Fuzzer();
    s.send(frame(b, "reserved opcode payload"));
    s.expect([close(1002)]);
    s.expectFailed(1002);
  });
  const afterMessage = [
    [3, c, false, "one chop"],
    [4, d, true, "one chop"],
    [5, e, true, "octet-wise chops"],
  ] as const;
  for (const [n, opcode, withPayload, chopping] of afterMessage) {
    const what = withPayload ? " with payload" : "";
    Deno.test(`autobahn ${group}.${n}: text, then reserved ${kind} opcode ${opcode}${what}, then ping, in ${chopping}: echo, then 1002, no pong`, () => {
      const s = new Fuzzer();
      s.sendFrames([
        frame(TEXT, "Hello, world!"),
        frame(opcode, withPayload ? "reserved opcode payload" : EMPTY),
        frame(PING),
      ], chopping);
      s.expect([text("Hello, world!"), close(1002)]);
      s.expectFailed(1002);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 5 Fragmentation

for (const [id, opcode, name] of [["5.1", PING, "ping"], ["5.2", PONG, "pong"]] as const) {
  Deno.test(`autobahn ${id}: ${name} fragmented into 2 fragments fails the connection with 1002`, () => {
    const s = new Fuzzer();
    s.send(concat(
      frame(opcode, "fragment1", { fin: false }),
      frame(CONTINUATION, "fragment2"),
    ));
    s.expect([close(1002)]);
    s.expectFailed(1002);
  });
}

for (
  const [id, chopping] of [["5.3", "one chop"], ["5.4", "frame-wise chops"], [
    "5.5",
    "octet-wise chops",
  ]] as const
) {
  Deno.test(`autobahn ${id}: text message in 2 fragments, in ${chopping}, is echoed whole once complete`, () => {
    const s = new Fuzzer();
    const first = frame(TEXT, "fragment1", { fin: false });
    const last = frame(CONTINUATION, "fragment2");
    if (chopping === "one chop") s.send(concat(first, last));
    else {
      s.sendFrames([first], chopping);
      s.expectNothing("no echo after the first fragment");
      s.sendFrames([last], chopping);
    }
    s.expect([text("fragment1fragment2")]);
    s.closeNormally();
  });
}

for (
  const [id, chopping] of [["5.6", "one chop"], ["5.7", "frame-wise chops"], [
    "5.8",
    "octet-wise chops",
  ]] as const
) {
  Deno.test(`autobahn ${id}: text in 2 fragments with a ping in between, in ${chopping}: pong at once, then the echo`, () => {
    const s = new Fuzzer();
    const first = frame(TEXT, "fragment1", { fin: false });
    const ping = frame(PING, "ping payload");
    const last = frame(CONTINUATION, "fragment2");
    if (chopping === "one chop") {
      s.send(concat(first, ping, last));
      s.expect([pong("ping payload"), text("fragment1fragment2")]);
    } else {
      s.sendFrames([first, ping], chopping);
      s.expect([pong("ping payload")], "the pong is written before the message ends");
      s.sendFrames([last], chopping);
      s.expect([text("fragment1fragment2")]);
    }
    s.closeNormally();
  });
}

const NOTHING_TO_CONTINUE = [
  ["5.9", true, "one chop"],
  ["5.10", true, "frame-wise chops"],
  ["5.11", true, "octet-wise chops"],
  ["5.12", false, "one chop"],
  ["5.13", false, "frame-wise chops"],
  ["5.14", false, "octet-wise chops"],
] as const;

for (const [id, fin, chopping] of NOTHING_TO_CONTINUE) {
  Deno.test(`autobahn ${id}: continuation with FIN = ${fin} and nothing to continue, then text, in ${chopping}: 1002 at the continuation, nothing echoed`, () => {
    const s = new Fuzzer();
    const continuation = frame(CONTINUATION, "non-continuation payload", { fin });
    const message = frame(TEXT, "Hello, world!");
    if (chopping === "one chop") s.send(concat(continuation, message));
    else {
      s.sendFrames([continuation], chopping);
      s.expect([close(1002)], "failed at the continuation frame");
      s.sendFrames([message], chopping);
    }
    s.expect(chopping === "one chop" ? [close(1002)] : []);
    s.expectFailed(1002);
  });
}

Deno.test("autobahn 5.15: 2 fragments, then a continuation with nothing to continue, then text: echo, then 1002", () => {
  const s = new Fuzzer();
  s.send(concat(
    frame(TEXT, "fragment1", { fin: false }),
    frame(CONTINUATION, "fragment2"),
    frame(CONTINUATION, "fragment3", { fin: false }),
    frame(TEXT, "fragment4"),
  ));
  s.expect([text("fragment1fragment2"), close(1002)]);
  s.expectFailed(1002);
});

for (const [id, fin] of [["5.16", false], ["5.17", true]] as const) {
  Deno.test(`autobahn ${id}: repeated 2x continuation (FIN = ${fin}) with nothing to continue, then a 2-fragment text: 1002 at once`, () => {
    const s = new Fuzzer();
    const round = concat(
      frame(CONTINUATION, "fragment1", { fin }),
      frame(TEXT, "fragment2", { fin: false }),
      frame(CONTINUATION, "fragment3"),
    );
    s.send(concat(round, round));
    s.expect([close(1002)], "nothing echoed");
    s.expectFailed(1002);
  });
}

Deno.test("autobahn 5.18: text in 2 fragments both with the text opcode fails with 1002", () => {
  const s = new Fuzzer();
  s.send(concat(frame(TEXT, "fragment1", { fin: false }), frame(TEXT, "fragment2")));
  s.expect([close(1002)]);
  s.expectFailed(1002);
});

for (const [id, how] of [["5.19", "in two bursts"], ["5.20", "frame by frame (sync)"]] as const) {
  Deno.test(`autobahn ${id}: text in 5 fragments with 2 pings in between, ${how}: each pong before the message ends, then the echo`, () => {
    const s = new Fuzzer();
    const part1 = [
      frame(TEXT, "fragment1", { fin: false }),
      frame(CONTINUATION, "fragment2", { fin: false }),
      frame(PING, "pongme 1!"),
    ];
    const part2 = [
      frame(CONTINUATION, "fragment3", { fin: false }),
      frame(CONTINUATION, "fragment4", { fin: false }),
      frame(PING, "pongme 2!"),
    ];
    const last = frame(CONTINUATION, "fragment5");
    if (id === "5.19") {
      s.send(concat(...part1));
      s.expect([pong("pongme 1!")], "the first pong comes during the wait");
      s.send(concat(...part2, last));
      s.expect([pong("pongme 2!"), text("fragment1fragment2fragment3fragment4fragment5")]);
    } else {
      s.sendEach(part1);
      s.expect([pong("pongme 1!")]);
      s.sendEach(part2);
      s.expect([pong("pongme 2!")], "the second pong comes before the last fragment");
      s.send(last);
      s.expect([text("fragment1fragment2fragment3fragment4fragment5")]);
    }
    s.closeNormally();
  });
}

// ---------------------------------------------------------------------------------------------
// 6 UTF-8 handling

Deno.test("autobahn 6.1.1: empty text message is echoed", () => {
  const s = new Fuzzer();
  s.send(frame(TEXT));
  s.expect([text("")]);
  s.closeNormally();
});

Deno.test("autobahn 6.1.2: text message in 3 empty fragments is echoed as one empty message", () => {
  const s = new Fuzzer();
  s.send(fragments(TEXT, ["", "", ""]));
  s.expect([text("")]);
  s.closeNormally();
});

Deno.test("autobahn 6.1.3: text in 3 fragments, first and last empty, is echoed", () => {
  const s = new Fuzzer();
  s.send(fragments(TEXT, ["", "middle frame payload", ""]));
  s.expect([text("middle frame payload")]);
  s.closeNormally();
});

const HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!";
const KOSME = hex("ce ba e1 bd b9 cf 83 ce bc ce b5"); // κόσμε

Deno.test("autobahn 6.2.1: valid UTF-8 text in one fragment is echoed", () => {
  const s = new Fuzzer();
  s.send(frame(TEXT, HELLO_UTF8));
  s.expect([text(HELLO_UTF8)]);
  s.closeNormally();
});

Deno.test("autobahn 6.2.2: valid UTF-8 text in 2 fragments split on a code point boundary is echoed", () => {
  const s = new Fuzzer();
  s.send(fragments(TEXT, ["Hello-µ@ßöä", "üàá-UTF-8!!"]));
  s.expect([text(HELLO_UTF8)]);
  s.closeNormally();
});

Deno.test("autobahn 6.2.3: valid UTF-8 text in 1-octet fragments is echoed", () => {
  const s = new Fuzzer();
  const bytes = enc.encode(HELLO_UTF8);
  s.send(fragmented(TEXT, bytes, 1));
  s.expect([text(HELLO_UTF8)]);
  s.closeNormally();
});

Deno.test("autobahn 6.2.4: valid UTF-8 text κόσμε in 1-octet fragments is echoed", () => {
  const s = new Fuzzer();
  s.send(fragmented(TEXT, KOSME, 1));
  s.expect([text(strictUtf8.decode(KOSME))]);
  s.closeNormally();
});

Deno.test("autobahn 6.2.2-6.2.4 (every split): valid UTF-8 split into 2 or 3 fragments, or 2 chops, at every octet is echoed", () => {
  for (const message of [HELLO_UTF8, strictUtf8.decode(KOSME), "a€😀\u{10FFFF}\u{FFFD}ß"]) {
    const bytes = enc.encode(message);
    const s = new Fuzzer();
    for (let i = 0; i <= bytes.length; i++) {
      s.send(fragments(TEXT, [bytes.subarray(0, i), bytes.subarray(i)]));
      s.expect([text(message)], `2 fragments split at octet ${i} of ${JSON.stringify(message)}`);
      for (let j = i; j <= bytes.length; j += 3) {
        s.send(fragments(TEXT, [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]));
        s.expect([text(message)], `3 fragments split at octets ${i} and ${j}`);
      }
      if (i === bytes.length) continue;
      const whole = frame(TEXT, bytes);
      s.send(whole.subarray(0, 2 + i));
      s.expectNothing(`one frame, first chop up to payload octet ${i}`);
      s.send(whole.subarray(2 + i));
      s.expect([text(message)], `one frame in 2 chops split at payload octet ${i}`);
    }
    s.closeNormally();
  }
});

const INVALID_6_3 = concat(KOSME, hex("ed a0 80"), "edited");

Deno.test("autobahn 6.3.1: invalid UTF-8 text in one fragment fails with 1007, nothing echoed", () => {
  const s = new Fuzzer();
  s.send(frame(TEXT, INVALID_6_3));
  s.expect([close(1007)]);
  s.expectFailed(1007);
});

Deno.test("autobahn 6.3.2: invalid UTF-8 text in 1-octet fragments fails with 1007 at the fragment of the bad octet", () => {
  const s = new Fuzzer();
  // Octet 12 (0xa0 after 0xed) makes the sequence a surrogate: nothing can follow it.
  for (let i = 0; i < INVALID_6_3.length; i++) {
    const opcode = i === 0 ? TEXT : CONTINUATION;
    s.send(frame(opcode, INVALID_6_3.subarray(i, i + 1), { fin: i === INVALID_6_3.length - 1 }));
    if (i < 12) s.expectNothing(`fragment ${i} is a valid prefix`);
    else if (i === 12) s.expect([close(1007)], "the close follows the fragment with 0xa0");
    else s.expectNothing(`fragment ${i} after the failure`);
  }
  s.expectFailed(1007);
});

// 6.4.x: PART1 is valid, PART2 makes the message invalid, PART3 is the rest. The client must
// fail as soon as PART2 arrives (Autobahn waits 1 s after each part; "OK" needs the close before
// PART3 is sent, "NON-STRICT" is failing only at the end).
const P6_4 = concat(KOSME, hex("f4 90 80 80"), "edited");

// PART2 is 0xf4908080 (11..15: "above U+10FFFF" shows at 0x90) or just the octet 0x90 (12..13).
const FAIL_FAST_CASES = [
  { id: "6.4.1", frames: true, cuts: [11, 15], part2: "0xf4908080 (above U+10FFFF)" },
  { id: "6.4.2", frames: true, cuts: [12, 13], part2: "only the octet 0x90 after 0xf4" },
  { id: "6.4.3", frames: false, cuts: [11, 15], part2: "0xf4908080 (above U+10FFFF)" },
  { id: "6.4.4", frames: false, cuts: [12, 13], part2: "only the octet 0x90 after 0xf4" },
] as const;

for (const { id, frames, cuts: [cut1, cut2], part2 } of FAIL_FAST_CASES) {
  const shape = frames ? "3 fragments" : "3 chops of one frame";
  const where = frames ? "the second fragment" : "the second chop";
  Deno.test(`autobahn ${id}: invalid UTF-8 text in ${shape} fails with 1007 at ${where} (${part2}), before the message ends`, () => {
    const s = new Fuzzer();
    const whole = frame(TEXT, P6_4);
    const head = whole.length - P6_4.length;
    const sends = frames
      ? [P6_4.subarray(0, cut1), P6_4.subarray(cut1, cut2), P6_4.subarray(cut2)].map((p, i) =>
        frame(i === 0 ? TEXT : CONTINUATION, p, { fin: i === 2 })
      )
      : [
        whole.subarray(0, head + cut1),
        whole.subarray(head + cut1, head + cut2),
        whole.subarray(head + cut2),
      ];
    s.send(sends[0]);
    s.expectNothing("PART1 is valid: the client waits");
    assert.equal(s.conn.state, "open");
    s.send(sends[1]);
    s.expect([close(1007)], "the close is written as soon as PART2 is fed");
    assert.equal(s.conn.state, "closed", "failed before PART3");
    s.send(sends[2]);
    s.expectNothing("PART3 changes nothing");
    s.expectFailed(1007);
  });
}

const UTF8_CASES: Array<{ id: string; category: string; valid: boolean; payload: Uint8Array }> = [];
for (const [i, [category, list]] of utf8TestSequences().entries()) {
  for (const [j, [valid, payload]] of list.entries()) {
    UTF8_CASES.push({ id: `6.${i + 5}.${j + 1}`, category, valid, payload });
  }
}

Deno.test("autobahn 6.5-6.23: the table has the suite's 132 cases, 6.5.1 to 6.23.7", () => {
  assert.equal(UTF8_CASES.length, 132);
  assert.equal(UTF8_CASES[0].id, "6.5.1");
  assert.equal(UTF8_CASES.at(-1)!.id, "6.23.7");
  assert.equal(UTF8_CASES.filter((c) => c.id.startsWith("6.22.")).length, 34);
  for (const c of UTF8_CASES) {
    let decodes = true;
    try {
      strictUtf8.decode(c.payload);
    } catch {
      decodes = false;
    }
    assert.equal(decodes, c.valid, `${c.id}: the table's validity matches a strict decoder`);
  }
});

for (const { id, category, valid, payload } of UTF8_CASES) {
  const shown = payload.length > 16 ? `${toHex(payload.subarray(0, 16))}...` : toHex(payload);
  Deno.test(
    `autobahn ${id}: ${category}: ${valid ? "valid" : "invalid"} UTF-8 0x${shown} in one frame ${
      valid ? "is echoed" : "fails with 1007"
    }`,
    () => {
      const s = new Fuzzer();
      s.send(frame(TEXT, payload));
      if (valid) {
        s.expect([text(strictUtf8.decode(payload))]);
        s.closeNormally();
      } else {
        s.expect([close(1007)], "no echo, the close at once");
        s.expectFailed(1007);
      }
    },
  );
}

/**
 * Where a strict streaming decoder (WHATWG, fail-fast) first rejects `bytes`: the index of the
 * first octet that no continuation could make valid, `bytes.length` when only the end is
 * missing, or -1 when valid.
 */
function firstInvalidOctet(bytes: Uint8Array): number {
  const at = streamingFailIndex(bytes);
  if (at !== -1) return at;
  try {
    strictUtf8.decode(bytes);
  } catch {
    return bytes.length;
  }
  return -1;
}

Deno.test("autobahn 6.3, 6.5-6.23 (fail fast): each sequence fed octet by octet, as chops of one frame and as 1-octet fragments, fails with 1007 right at its first impossible octet", () => {
  const cases = [{ id: "6.3.1", payload: INVALID_6_3 }, ...UTF8_CASES];
  for (const { id, payload } of cases) {
    const bad = firstInvalidOctet(payload);
    // The octet after which the client must have failed (a truncated sequence: the last one).
    const failAt = bad < 0 ? -1 : Math.min(bad, payload.length - 1);
    for (const mode of ["chops", "fragments"] as const) {
      const s = new Fuzzer();
      const whole = frame(TEXT, payload);
      const head = whole.length - payload.length;
      if (mode === "chops") s.send(whole.subarray(0, head));
      for (let i = 0; i < payload.length; i++) {
        if (mode === "chops") s.send(whole.subarray(head + i, head + i + 1));
        else {
          const opcode = i === 0 ? TEXT : CONTINUATION;
          s.send(frame(opcode, payload.subarray(i, i + 1), { fin: i === payload.length - 1 }));
        }
        const got = s.take();
        const where = `${id} in 1-octet ${mode}, after octet ${i} of 0x${toHex(payload)}`;
        if (i === failAt) assert.deepStrictEqual(got, [close(1007)], where);
        else if (bad < 0 && i === payload.length - 1) {
          assert.deepStrictEqual(got, [text(strictUtf8.decode(payload))], where);
        } else assert.deepStrictEqual(got, [], where);
        if (i === failAt) break;
      }
      if (bad < 0) s.closeNormally();
      else s.expectFailed(1007);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 7 Close handling

Deno.test("autobahn 7.1.1: a message, then the server's close: echo, then close 1000", () => {
  const s = new Fuzzer();
  s.send(frame(TEXT, "Hello World!"));
  s.expect([text("Hello World!")]);
  s.closeNormally();
});

Deno.test("autobahn 7.1.2: two close frames: the client sends exactly one close", () => {
  const s = new Fuzzer();
  s.send(concat(closeFrame(1000), closeFrame(1000)));
  s.expect([close(1000)]);
  s.expectClosedByServer(1000);
});

Deno.test("autobahn 7.1.3: ping after close is not answered", () => {
  const s = new Fuzzer();
  s.send(concat(closeFrame(1000), frame(PING, "ping payload")));
  s.expect([close(1000)], "no pong");
  assert.equal(s.events.some((e) => e.kind === "ping"), false);
  s.expectClosedByServer(1000);
});

Deno.test("autobahn 7.1.4: text message after close is not echoed", () => {
  const s = new Fuzzer();
  s.send(concat(closeFrame(1000), frame(TEXT, "Hello World!")));
  s.expect([close(1000)]);
  assert.deepStrictEqual(s.messages, []);
  s.expectClosedByServer(1000);
});

Deno.test("autobahn 7.1.5: fragment, close, last fragment: close 1000, the message is never echoed", () => {
  const s = new Fuzzer();
  s.send(concat(
    frame(TEXT, "fragment1", { fin: false }),
    closeFrame(1000),
    frame(CONTINUATION, "fragment2"),
  ));
  s.expect([close(1000)]);
  assert.deepStrictEqual(s.messages, []);
  s.expectClosedByServer(1000);
});

Deno.test("autobahn 7.1.6: 256K message, a small message, close, ping: both echoed, then close 1000, no pong", () => {
  const s = new Fuzzer();
  const big = repeated("BAsd7&jh23", 256 * 1024);
  s.send(concat(
    frame(TEXT, big),
    frame(TEXT, "Hello World!"),
    closeFrame(1000),
    frame(PING),
  ));
  const got = s.take();
  assertEcho(got.slice(0, 1), "text", big);
  assert.deepStrictEqual(got.slice(1), [text("Hello World!"), close(1000)]);
  s.expectClosedByServer(1000);
});

Deno.test("autobahn 7.3.1: close with an empty payload is answered with an empty close", () => {
  const s = new Fuzzer();
  s.send(closeFrame());
  s.expect([close(null)]);
  s.expectClosedByServer(null);
});

Deno.test("autobahn 7.3.2: close with a 1-octet payload fails the connection with 1002", () => {
  const s = new Fuzzer();
  s.send(frame(CLOSE, hex("03")));
  s.expect([close(1002)]);
  s.expectFailed(1002);
});

Deno.test("autobahn 7.3.3: close with code 1000 and no reason is answered with 1000", () => {
  const s = new Fuzzer();
  s.send(closeFrame(1000));
  s.expect([close(1000)]);
  s.expectClosedByServer(1000);
});

for (
  const [id, reason, what] of [["7.3.4", "Hello World!", "a reason"], [
    "7.3.5",
    "*".repeat(123),
    "a reason of 123 octets (the most)",
  ]] as const
) {
  Deno.test(`autobahn ${id}: close with code 1000 and ${what} is answered with 1000`, () => {
    const s = new Fuzzer();
    s.send(closeFrame(1000, reason));
    s.expect([close(1000)]);
    s.expectClosedByServer(1000, reason, close(1000));
  });
}

Deno.test("autobahn 7.3.6: close with a 124-octet reason (a 126-octet control frame) fails with 1002", () => {
  const s = new Fuzzer();
  s.send(closeFrame(1000, "*".repeat(124)));
  s.expect([close(1002)]);
  s.expectFailed(1002);
});

Deno.test("autobahn 7.5.1: close with an invalid UTF-8 reason fails with 1007", () => {
  const s = new Fuzzer();
  s.send(closeFrame(1000, INVALID_6_3));
  s.expect([close(1007)]);
  s.expectFailed(1007);
});

/** Autobahn's case 7.7 close codes, in its order (the case numbers follow it). */
const CODES_7_7 = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];

for (const [i, code] of CODES_7_7.entries()) {
  Deno.test(`autobahn 7.7.${i + 1}: close with valid code ${code} is echoed with ${code}`, () => {
    const s = new Fuzzer();
    s.send(closeFrame(code));
    s.expect([close(code)]);
    s.expectClosedByServer(code);
  });
}

/** Autobahn's case 7.9 close codes, in its order (the case numbers follow it). */
const CODES_7_9 = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];

for (const [i, code] of CODES_7_9.entries()) {
  Deno.test(`autobahn 7.9.${i + 1}: close with invalid code ${code} fails with 1002`, () => {
    const s = new Fuzzer();
    s.send(closeFrame(code));
    s.expect([close(1002)]);
    s.expectFailed(1002);
  });
}

for (const [id, code] of [["7.13.1", 5000], ["7.13.2", 65535]] as const) {
  Deno.test(`autobahn ${id}: close with code ${code} (informational) fails with 1002`, () => {
    const s = new Fuzzer();
    s.send(closeFrame(code));
    s.expect([close(1002)]);
    s.expectFailed(1002);
  });
}

// ---------------------------------------------------------------------------------------------
// 9 Limits/Performance (the suite's sizes; its timing is not measured here)

const KiB = 1024;
const MiB = 1024 * 1024;

function largePayload(op: "text" | "binary", length: number): Bytes {
  return op === "text" ? repeated("BAsd7&jh23", length) : filled(length, 0xfe);
}

const SINGLE_FRAME_SIZES = [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 16 * MiB];

for (const [group, op] of [["9.1", "text"], ["9.2", "binary"]] as const) {
  Deno.test(`autobahn ${group}.1-${group}.6: ${op} messages of 64 KiB to 16 MiB in one frame are echoed (DEFAULT_LIMITS)`, () => {
    for (const size of SINGLE_FRAME_SIZES) {
      const s = new Fuzzer();
      const payload = largePayload(op, size);
      s.send(frame(op === "text" ? TEXT : BINARY, payload));
      assertEcho(s.take(), op, payload);
      s.closeNormally();
    }
  });
}

const FRAGMENT_SIZES = [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB];

for (const [group, op] of [["9.3", "text"], ["9.4", "binary"]] as const) {
  Deno.test(`autobahn ${group}.1-${group}.9: a 4 MiB ${op} message in fragments of 64 B to 4 MiB (65,536 fragments at 64 B) is echoed`, () => {
    const payload = largePayload(op, 4 * MiB);
    for (const size of FRAGMENT_SIZES) {
      const s = new Fuzzer();
      const data = fragmented(op === "text" ? TEXT : BINARY, payload, size);
      if (size === 64) assert.equal(data.length, 4 * MiB + 65536 * 2, "65,536 fragments");
      s.send(data);
      assertEcho(s.take(), op, payload);
      s.closeNormally();
    }
  });
}

const CHOP_SIZES = [64, 128, 256, 512, 1 * KiB, 2 * KiB];

for (const [group, op] of [["9.5", "text"], ["9.6", "binary"]] as const) {
  Deno.test(`autobahn ${group}.1-${group}.6: a 1 MiB ${op} frame sent in chops of 64 B to 2 KiB is echoed`, () => {
    const payload = largePayload(op, 1 * MiB);
    const data = frame(op === "text" ? TEXT : BINARY, payload);
    for (const chop of CHOP_SIZES) {
      const s = new Fuzzer();
      s.send(data, chop);
      assertEcho(s.take(), op, payload);
      s.closeNormally();
    }
  });
}

const ROUND_TRIP_SIZES = [0, 16, 64, 256, 1 * KiB, 4 * KiB];

for (const [group, op] of [["9.7", "text"], ["9.8", "binary"]] as const) {
  Deno.test(`autobahn ${group}.1-${group}.6: 1000 ${op} messages of 0 B to 4 KiB, each echoed before the next is sent`, () => {
    for (const size of ROUND_TRIP_SIZES) {
      const s = new Fuzzer();
      const payload = largePayload(op, size);
      const data = frame(op === "text" ? TEXT : BINARY, payload);
      for (let n = 0; n < 1000; n++) {
        s.send(data);
        assertEcho(s.take(), op, payload);
      }
      s.closeNormally();
    }
  });
}

Deno.test("autobahn 9.1.6, 9.3.1 (limits): DEFAULT_LIMITS accept a 16 MiB message and a 65,537-fragment message", () => {
  assert.ok(DEFAULT_LIMITS.maxFrameSize >= 16 * MiB);
  assert.ok(DEFAULT_LIMITS.maxMessageSize >= 16 * MiB);
  assert.ok(DEFAULT_LIMITS.maxFragments >= 65_537);
  const s = new Fuzzer();
  // 16 MiB in 4 MiB fragments, then 65,537 fragments (65,536 of 64 B and an empty last one).
  const big = filled(16 * MiB, 0xfe);
  s.send(fragmented(BINARY, big, 4 * MiB));
  assertEcho(s.take(), "binary", big);
  const payload = repeated("BAsd7&jh23", 4 * MiB);
  const data = concat(
    fragmented(TEXT, payload, 64, false),
    frame(CONTINUATION),
  );
  assert.equal(data.length, 4 * MiB + 65537 * 2);
  s.send(data);
  assertEcho(s.take(), "text", payload);
  s.closeNormally();
});

// ---------------------------------------------------------------------------------------------
// 10 Misc

Deno.test("autobahn 10.1.1: a 65536-octet text auto-fragmented in 1300-octet frames, in chops of any size, is echoed", () => {
  const payload = "*".repeat(65536);
  const data = fragmented(TEXT, payload, 1300);
  const random = seededRandom(42);
  const r = new Uint8Array(2);
  const sizes = [Infinity, 1, 2, 3, 7, 64, 997, 1300, 1301, 1304, 4096, 65535];
  for (let i = 0; i < 8; i++) {
    random(r);
    sizes.push(1 + ((r[0] << 8) | r[1]) % 5000);
  }
  for (const chop of sizes) {
    const s = new Fuzzer();
    s.send(data, chop);
    s.expect([text(payload)], `chops of ${chop}`);
    s.closeNormally();
  }
});

Deno.test("autobahn 10.1.1 (one frame): a 65536-octet text in one frame, split into chunks of any size, is echoed", () => {
  const payload = "*".repeat(65536);
  const data = frame(TEXT, payload);
  const random = seededRandom(7);
  const r = new Uint8Array(2);
  const s = new Fuzzer();
  for (const chop of [Infinity, 1, 2, 3, 9, 10, 11, 127, 4096, 65535, 65536, 65545]) {
    s.send(data, chop);
    s.expect([text(payload)], `chops of ${chop}`);
  }
  // Irregular chunk sizes.
  for (let round = 0; round < 8; round++) {
    let at = 0;
    while (at < data.length) {
      random(r);
      const n = 1 + (((r[0] << 8) | r[1]) % (round < 4 ? 17 : 9000));
      s.send(data.subarray(at, at + n));
      at += n;
    }
    s.expect([text(payload)], `irregular chunks, round ${round}`);
  }
  s.closeNormally();
});
