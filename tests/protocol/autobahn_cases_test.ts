// The Autobahn|Testsuite client cases (groups 1-7, 9, 10, 12 and 13), replayed at the sans-I/O
// level from the same definitions the fuzzing server plays (tests/conformance/cases.ts).
//
// Each test plays the fuzzing server against one ClientConnection: it answers the upgrade with a
// 101, writes the case's frames and reads back every frame the client writes, unmasked with its
// key. The client side is the echo driver Autobahn's client harness assumes: each text or binary
// message is sent straight back through sendText/sendBinary from the handler; nothing else is
// answered by hand (pongs and close replies are the connection's own).
//
// A scripted case is replayed three ways: in the writes the fuzzing server makes (frames coalesced
// unless the case sends them alone or in chops), one frame per write, and (up to 4 KiB) one octet
// per write. After every write the client must have written exactly what a strict client owes by
// then: a pong as soon as its ping is whole, an echo as soon as its message is, the answer to the
// server's close as soon as it arrives, and nothing else. Where the case says a strict client
// fails (`fails`), its close frame with that code comes while the offending frame arrives (with
// `octet`: right at that payload octet, as fail-fast UTF-8 needs for 6.4.x), and nothing follows.
// Every message and control frame the connection reports is checked too, and what a strict
// client answers must be what Autobahn expects for an OK verdict.
//
// Group 9 keeps the suite's sizes (up to 16 MiB, 65,536 fragments) and 9.7/9.8 their 1000 round
// trips; only timing is left out. Groups 12 and 13 (compression) negotiate as the fuzzing server
// does (the case's accept rule), then send 10 of each case's 1000 compressed messages (as the
// scaled fuzzing server does), made and checked with node:zlib's streams: the first whole, the
// second frame by frame, the third octet by octet, the rest whole; every echo is inflated with
// what was agreed (window, context takeover) and compared. The tests after the cases go further than the suite: every
// split of the opening handshake, pings of every length, valid UTF-8 split at every octet, and
// each invalid sequence failing at its first impossible octet.

import assert from "node:assert/strict";
import { ClientConnection, type ConnectionHandler } from "../../src/protocol/client_connection.ts";
import { DEFAULT_DEFLATE } from "../../src/protocol/permessage_deflate.ts";
import { nodeZlibCodec } from "../../src/transport/_deflate_codec.ts";
import { acceptFor } from "../../src/protocol/handshake.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import type { RandomSource } from "../../src/protocol/random.ts";
import { concat } from "../support/bytes.ts";
import { streamingFailIndex } from "./_helpers.ts";
import {
  CASES,
  FAIL_FAST_UTF8,
  HELLO_UTF8,
  INVALID_UTF8,
  KOSME,
  repeatTo,
} from "../conformance/cases.ts";
import type {
  CaseEvent,
  DeflateCase,
  EchoCase,
  ScriptedCase,
  Step,
} from "../conformance/case_types.ts";
import { deflateCount } from "../conformance/case_script.ts";
import { deflateDataSets, deflateMessage } from "../conformance/deflate_data.ts";
import { type DeflateAccept, negotiateDeflate } from "../conformance/deflate_negotiation.ts";
import { PeerCompressor, PeerDecompressor } from "../conformance/deflate_peer.ts";
import { utf8TestSequences } from "../conformance/utf8_sequences.ts";
import { closePayload, encodeFrame } from "../conformance/wire.ts";

// ---------------------------------------------------------------------------------------------
// Bytes

const enc = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

type Bytes = Uint8Array | string;

function toBytes(data: Bytes): Uint8Array {
  return typeof data === "string" ? enc.encode(data) : data;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
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
// Server frames (unmasked, as a server writes them: the fuzzing server's encoder)

/** One server frame. */
function frame(
  opcode: number,
  payload: Bytes = EMPTY,
  options: { fin?: boolean; rsv?: number } = {},
): Uint8Array {
  return encodeFrame({ opcode, payload, ...options });
}

/** A close frame: no payload, a code, or a code and a reason (bytes, to allow invalid UTF-8). */
function closeFrame(code?: number, reason?: Bytes): Uint8Array {
  return encodeFrame({ opcode: CLOSE, payload: closePayload(code, reason) });
}

/**
 * A message split into frames of `size` payload bytes (the last may be shorter); with `finish`
 * false, the last frame has no FIN and the message stays open.
 */
function fragmented(opcode: number, payload: Bytes, size: number, finish = true): Uint8Array {
  const data = toBytes(payload);
  const count = Math.max(1, Math.ceil(data.length / size));
  return concat(
    ...Array.from({ length: count }, (_, i) =>
      frame(
        i === 0 ? opcode : CONTINUATION,
        data.subarray(i * size, Math.min(data.length, (i + 1) * size)),
        { fin: finish && i === count - 1 },
      )),
  );
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
  | { readonly op: "close"; readonly code: number | null; readonly reason: string }
  /** A compressed message (RSV1, once compression is agreed): its opcode and raw payload. */
  | { readonly op: "compressed"; readonly opcode: number; readonly data: Uint8Array };

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
function readClientFrames(
  buf: Uint8Array,
  compression = false,
): { frames: Wire[]; rest: Uint8Array } {
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
    const compressed = (b0 & 0x70) === 0x40 && compression;
    if (compressed) {
      assert.ok((b0 & 0x0f) === TEXT || (b0 & 0x0f) === BINARY, "RSV1 on a data frame only");
    } else assert.equal(b0 & 0x70, 0, "the client set RSV bits");
    assert.equal(b0 & 0x80, 0x80, "the echo driver's frames are never fragmented");
    const opcode = b0 & 0x0f;
    const key = buf.subarray(at + head, at + head + 4);
    const payload = unmask(buf.subarray(at + head + 4, at + head + 4 + length), key);
    at += head + 4 + length;
    if (compressed) {
      frames.push({ op: "compressed", opcode, data: payload });
      continue;
    }
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
  /** What the server answered to the client's permessage-deflate offer, if it agreed. */
  readonly deflate: ReturnType<typeof negotiateDeflate> | undefined;
  #taken = 0;
  #partial: Uint8Array = EMPTY;

  /**
   * Opens the connection: reads the upgrade request and answers 101. `early` bytes (the case's
   * first frames) go in the same write as the response, which is then fed in two chunks split
   * at `split` (default: all in one).
   */
  constructor(
    limits: ResolvedLimits = DEFAULT_LIMITS,
    early: Uint8Array = EMPTY,
    split = -1,
    accept?: DeflateAccept,
  ) {
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
      // The client's default offer, on the socket transport's codec.
      compression: accept === undefined
        ? undefined
        : { settings: DEFAULT_DEFLATE, codec: nodeZlibCodec()! },
    }, handler);
    const request = new TextDecoder().decode(concat(...this.conn.takeOutput()));
    const key = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/i.exec(request)?.[1];
    assert.ok(key !== undefined, "the upgrade request has a Sec-WebSocket-Key");
    // The fuzzing server's answer to the offer, by the case's accept rule.
    const offer = /\r\nSec-WebSocket-Extensions: ([^\r]+)\r\n/i.exec(request)?.[1];
    this.deflate = accept === undefined ? undefined : negotiateDeflate(offer, accept);
    const extensions = this.deflate?.kind === "accepted"
      ? `Sec-WebSocket-Extensions: ${this.deflate.response}\r\n`
      : "";
    const response = concat(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n${extensions}\r\n`,
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
    const { frames, rest } = readClientFrames(buf, this.deflate?.kind === "accepted");
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
// Replaying a case of tests/conformance/cases.ts

/** A frame of a case's script, where it lies in the script's octets. */
interface ServerFrame {
  readonly start: number;
  readonly payloadStart: number;
  readonly end: number;
  readonly opcode: number;
  readonly fin: boolean;
  readonly payload: Uint8Array;
}

/**
 * A script's octets, and where each write the fuzzing server makes ends: frames in a row go out
 * together; a frame sent `sync` goes alone, one sent in chops one chop at a time; a wait or the
 * final timer ends a write.
 */
function scriptOctets(script: readonly Step[]): { octets: Uint8Array; writes: number[] } {
  const parts: Uint8Array[] = [];
  const writes: number[] = [];
  let at = 0;
  let pending = false;
  const flush = () => {
    if (pending) writes.push(at);
    pending = false;
  };
  const write = (bytes: Uint8Array, options: { chop?: number; sync?: boolean }) => {
    parts.push(bytes);
    if (options.chop !== undefined) {
      flush();
      for (let i = 0; i < bytes.length; i += options.chop) {
        writes.push(at + Math.min(bytes.length, i + options.chop));
      }
      at += bytes.length;
    } else if (options.sync) {
      flush();
      at += bytes.length;
      writes.push(at);
    } else {
      at += bytes.length;
      pending = true;
    }
  };
  for (const step of script) {
    if (step.kind === "frame") write(encodeFrame(step.frame), step.frame);
    else if (step.kind === "raw") write(step.bytes, step);
    else if (step.kind === "close") write(closeFrame(step.code, step.reason), {});
    else flush();
  }
  flush();
  return { octets: concat(...parts), writes };
}

/** The frames in `octets` (unmasked server frames, as encodeFrame writes them). */
function serverFrames(octets: Uint8Array): ServerFrame[] {
  const frames: ServerFrame[] = [];
  const view = new DataView(octets.buffer, octets.byteOffset, octets.byteLength);
  for (let at = 0; at < octets.length;) {
    let length = octets[at + 1] & 0x7f;
    let head = 2;
    if (length === 126) [length, head] = [view.getUint16(at + 2), 4];
    else if (length === 127) [length, head] = [Number(view.getBigUint64(at + 2)), 10];
    const payloadStart = at + head;
    const end = payloadStart + length;
    assert.ok(end <= octets.length, "the script ends inside a frame");
    frames.push({
      start: at,
      payloadStart,
      end,
      opcode: octets[at] & 0x0f,
      fin: (octets[at] & 0x80) !== 0,
      payload: octets.subarray(payloadStart, end),
    });
    at = end;
  }
  return frames;
}

/** What a strict client owes the script, and how its connection ends. */
interface Owed {
  /** Each frame the client must write once the first `at` octets have arrived (not before). */
  readonly answers: ReadonlyArray<{ readonly at: number; readonly wire: Wire }>;
  /** What the connection reports before its end (messages, pings, pongs). */
  readonly events: ConnEvent[];
  readonly end:
    /** The client fails with `code` once `from` octets arrived, at the latest once `by` did. */
    | { readonly kind: "fails"; readonly code: number; readonly from: number; readonly by: number }
    /** The server's close arrives whole with the first `at` octets; the client answers it. */
    | {
      readonly kind: "closed";
      readonly code: number | null;
      readonly reason: string;
      readonly at: number;
    }
    /** The script leaves the connection open: the server then closes with 1000. */
    | { readonly kind: "open" };
}

/** What a strict client owes `c`, frame by frame up to where it fails or the server closes. */
function owed(c: ScriptedCase, frames: readonly ServerFrame[]): Owed {
  const answers: Array<{ at: number; wire: Wire }> = [];
  const events: ConnEvent[] = [];
  let message: { opcode: number; parts: Uint8Array[] } | undefined;
  for (const [i, f] of frames.entries()) {
    if (c.fails?.frame === i) {
      const { code, octet } = c.fails;
      const end = octet === undefined
        ? { kind: "fails" as const, code, from: f.start + 1, by: f.end }
        : {
          kind: "fails" as const,
          code,
          from: f.payloadStart + octet + 1,
          by: f.payloadStart + octet + 1,
        };
      return { answers, events, end };
    }
    if (f.opcode === CLOSE) {
      const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : null;
      const reason = strictUtf8.decode(f.payload.subarray(2));
      return { answers, events, end: { kind: "closed", code, reason, at: f.end } };
    }
    if (f.opcode === PING) {
      answers.push({ at: f.end, wire: pong(f.payload) });
      events.push({ kind: "ping", data: f.payload });
    } else if (f.opcode === PONG) {
      events.push({ kind: "pong", data: f.payload });
    } else {
      assert.ok(
        f.opcode === TEXT || f.opcode === BINARY || f.opcode === CONTINUATION,
        `${c.id}: frame ${i} has opcode ${f.opcode}, but the case names no failure there`,
      );
      message ??= { opcode: f.opcode, parts: [] };
      message.parts.push(f.payload);
      if (!f.fin) continue;
      const data = concat(...message.parts);
      const kind = message.opcode === TEXT ? "text" : "binary";
      message = undefined;
      if (kind === "text") {
        const text = strictUtf8.decode(data);
        answers.push({ at: f.end, wire: { op: "text", data: text } });
        events.push({ kind: "text", data: text });
      } else {
        answers.push({ at: f.end, wire: binary(data) });
        events.push({ kind: "binary", data });
      }
    }
  }
  return { answers, events, end: { kind: "open" } };
}

/** A strict client's answers as Autobahn's events (what the server records of it). */
function asCaseEvents(answers: Owed["answers"]): CaseEvent[] {
  return answers.map(({ wire }) =>
    wire.op === "pong" ? { kind: "pong", data: wire.data } : {
      kind: "message",
      data: toBytes((wire as { data: Bytes }).data),
      binary: wire.op === "binary",
    }
  );
}

/** In words, for the test's name. */
function describeOwed(o: Owed): string {
  const counts = new Map<string, number>();
  for (const { wire } of o.answers) {
    const what = wire.op === "pong" ? "pong" : `${wire.op} echo`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  const answered = [...counts].map(([what, n]) => n === 1 ? `a ${what}` : `${n} ${what}s`);
  const end = o.end.kind === "fails"
    ? `fails with ${o.end.code}`
    : o.end.kind === "closed"
    ? `answers the server's close with ${o.end.code === null ? "an empty close" : o.end.code}`
    : "answers the server's close with 1000";
  return answered.length === 0 ? end : `${answered.join(", ")}, then ${end}`;
}

/**
 * Plays `octets` to a fresh client in writes ending at `ends`, checking after each write what
 * the client wrote, then everything the connection reported and how it ended.
 */
function replay(
  c: ScriptedCase,
  octets: Uint8Array,
  ends: readonly number[],
  o: Owed,
  how: string,
): void {
  const s = new Fuzzer();
  let prev = 0;
  let closed = false;
  for (const at of ends) {
    s.send(octets.subarray(prev, at));
    const got = s.take();
    const where = `${c.id} ${how}: after ${at} of ${octets.length} octets`;
    const due = o.answers.filter((a) => a.at > prev && a.at <= at).map((a) => a.wire);
    if (o.end.kind === "closed" && o.end.at > prev && o.end.at <= at) due.push(close(o.end.code));
    if (o.end.kind === "fails" && !closed && at >= o.end.from) {
      const failing = [...due, close(o.end.code)];
      if (at >= o.end.by || got.length > due.length) assert.deepStrictEqual(got, failing, where);
      else assert.deepStrictEqual(got, due, where);
    } else assert.deepStrictEqual(got, due, where);
    closed ||= got.some((w) => w.op === "close");
    assert.equal(s.conn.state, closed ? "closed" : "open", where);
    prev = at;
  }
  assert.deepStrictEqual(
    s.events.filter((e) => e.kind !== "closed" && e.kind !== "failed"),
    o.events,
    `${c.id} ${how}: what the connection reported`,
  );
  if (o.end.kind === "fails") s.expectFailed(o.end.code);
  else if (o.end.kind === "closed") {
    s.expectClosedByServer(o.end.code, o.end.reason, close(o.end.code));
  } else {
    assert.ok(c.close.closedByMe, `${c.id}: the script leaves it open, so the server closes`);
    s.closeNormally();
  }
}

/** Replays `c` in the fuzzing server's writes, frame by frame, and (up to 4 KiB) octet by octet. */
function replayCase(c: ScriptedCase): void {
  const { octets, writes } = scriptOctets(c.script);
  const frames = serverFrames(octets);
  const o = owed(c, frames);
  if (c.fails) assert.ok(c.close.closeCode.includes(c.fails.code), "Autobahn accepts that code");
  if (c.verdict !== "informational") {
    const ok = (c.expected.OK ?? []).filter((e) => e.kind !== "timeout");
    assert.deepStrictEqual(asCaseEvents(o.answers), ok, "a strict client's answers are OK");
  }
  replay(c, octets, writes, o, "in the server's writes");
  replay(c, octets, frames.map((f) => f.end), o, "frame by frame");
  if (octets.length <= 4096) {
    replay(c, octets, Array.from(octets, (_, i) => i + 1), o, "octet by octet");
  }
}

/** Sends an echo case's payload (all of it: the suite's sizes) and checks each echo. */
function replayEcho(c: EchoCase): void {
  const s = new Fuzzer();
  const payload = repeatTo(c.pattern, c.length);
  const opcode = c.binary ? BINARY : TEXT;
  const data = c.fragmentSize === undefined
    ? frame(opcode, payload)
    : fragmented(opcode, payload, c.fragmentSize);
  const expected = c.binary ? payload : strictUtf8.decode(payload);
  for (let n = 0; n < (c.roundTrips ?? 1); n++) {
    s.send(data, c.chop);
    assertEcho(s.take(), c.binary ? "binary" : "text", expected);
  }
  s.closeNormally();
}

/**
 * Replays a compression case: the negotiation by the case's rule, then the scaled fuzzing
 * server's messages (compressed by node:zlib's streams with the server's agreed window and
 * context takeover, auto-fragmented, RSV1 on the first frame), each echo inflated with the
 * client's agreed window and context takeover and compared.
 */
async function replayDeflate(c: DeflateCase): Promise<void> {
  const s = new Fuzzer(DEFAULT_LIMITS, EMPTY, -1, c.accept);
  const negotiation = s.deflate!;
  assert.equal(negotiation.kind, "accepted", `${c.id}: the default offer is accepted`);
  if (negotiation.kind !== "accepted") return;
  const p = negotiation.params;
  const server = new PeerCompressor(p.serverMaxWindowBits, p.serverNoContextTakeover);
  const client = new PeerDecompressor(p.clientMaxWindowBits, p.clientNoContextTakeover);
  try {
    const data = deflateDataSets().get(c.data)!;
    const opcode = data.binary ? BINARY : TEXT;
    for (let n = 0; n < deflateCount(c, false); n++) {
      const message = deflateMessage(data.bytes, c.length, n);
      const compressed = await server.compress(message);
      const frames: Uint8Array[] = [];
      const size = c.fragmentSize > 0 && compressed.length > c.fragmentSize
        ? c.fragmentSize
        : Math.max(1, compressed.length);
      for (let at = 0; at < compressed.length || at === 0; at += size) {
        frames.push(
          frame(at === 0 ? opcode : CONTINUATION, compressed.subarray(at, at + size), {
            fin: at + size >= compressed.length,
            rsv: at === 0 ? 4 : 0,
          }),
        );
      }
      const how = n === 1
        ? "frame-wise chops"
        : n === 2 && compressed.length <= 4096
        ? "octet-wise chops"
        : "one chop";
      s.sendFrames(frames, how);
      const echo = s.take();
      const where = `${c.id}: message ${n + 1} (${how})`;
      assert.equal(echo.length, 1, `${where}: one echo`);
      const w = echo[0];
      let got: Uint8Array;
      if (w.op === "compressed") {
        assert.equal(w.opcode, opcode, where);
        assert.ok(
          c.length >= DEFAULT_DEFLATE.threshold,
          `${where}: compressed from the threshold on`,
        );
        got = await client.decompress(w.data);
      } else {
        assert.equal(w.op, data.binary ? "binary" : "text", where);
        assert.ok(
          c.length < DEFAULT_DEFLATE.threshold,
          `${where}: uncompressed below the threshold`,
        );
        got = toBytes((w as { data: Bytes }).data);
      }
      assert.equal(firstDifference(got, message), -1, `${where}: the echo differs`);
    }
    s.closeNormally();
  } finally {
    server.close();
    client.close();
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
// Every case of tests/conformance/cases.ts

for (const c of CASES) {
  if (c.kind === "deflate") {
    Deno.test(`autobahn ${c.id}: ${c.description.replace(/\.$/, "")} -> every echo exact`, async () => {
      await replayDeflate(c);
    });
    continue;
  }
  if (c.kind === "echo") {
    Deno.test(`autobahn ${c.id}: ${c.description.replace(/\.$/, "")} -> echoed whole`, () => {
      replayEcho(c);
    });
    continue;
  }
  const o = owed(c, serverFrames(scriptOctets(c.script).octets));
  Deno.test(`autobahn ${c.id}: ${c.description.replace(/\.$/, "")} -> ${describeOwed(o)}`, () => {
    replayCase(c);
  });
}

// ---------------------------------------------------------------------------------------------
// Beyond the suite

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

Deno.test("autobahn 6.3, 6.4, 6.5-6.23 (fail fast): each sequence fed octet by octet, as chops of one frame and as 1-octet fragments, fails with 1007 right at its first impossible octet", () => {
  const cases = [
    { id: "6.3.1", payload: INVALID_UTF8 },
    { id: "6.4.1", payload: FAIL_FAST_UTF8 },
    ...UTF8_CASES,
  ];
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

const MiB = 1024 * 1024;

Deno.test("autobahn 9.1.6, 9.3.1 (limits): DEFAULT_LIMITS accept a 16 MiB message and a 65,537-fragment message", () => {
  assert.ok(DEFAULT_LIMITS.maxFrameSize >= 16 * MiB);
  assert.ok(DEFAULT_LIMITS.maxMessageSize >= 16 * MiB);
  assert.ok(DEFAULT_LIMITS.maxFragments >= 65_537);
  const s = new Fuzzer();
  // 16 MiB in 4 MiB fragments, then 65,537 fragments (65,536 of 64 B and an empty last one).
  const big = new Uint8Array(16 * MiB).fill(0xfe);
  s.send(fragmented(BINARY, big, 4 * MiB));
  assertEcho(s.take(), "binary", big);
  const payload = strictUtf8.decode(repeatTo(enc.encode("BAsd7&jh23"), 4 * MiB));
  const data = concat(
    fragmented(TEXT, payload, 64, false),
    frame(CONTINUATION),
  );
  assert.equal(data.length, 4 * MiB + 65537 * 2);
  s.send(data);
  assertEcho(s.take(), "text", payload);
  s.closeNormally();
});

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
