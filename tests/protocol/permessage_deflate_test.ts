// permessage-deflate (RFC 7692) in the protocol core: the offer, every kind of answer the client
// accepts or refuses, and compressed messages both ways through ClientConnection, on the socket
// transport's codec (node:zlib). What the client sends is checked with node:zlib's own functions
// and what the server sends is made with them (tests/conformance/deflate_peer.ts for messages
// that refer back to earlier ones), not with the code under test.

import assert from "node:assert/strict";
import zlib from "node:zlib";
import { ClientConnection } from "../../src/protocol/client_connection.ts";
import type { DeflateCodec, Inflater } from "../../src/protocol/deflate_codec.ts";
import { acceptFor, ResponseParser } from "../../src/protocol/handshake.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import {
  acceptDeflate,
  DEFAULT_DEFLATE,
  type DeflateAgreement,
  deflateOffer,
  type DeflateSettings,
} from "../../src/protocol/permessage_deflate.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import { HandshakeError } from "../../src/vocabulary/handshake_error.ts";
import { nodeZlibCodec } from "../../src/transport/_deflate_codec.ts";
import { PeerCompressor } from "../conformance/deflate_peer.ts";
import {
  closeBody,
  concat,
  limits,
  parseClientFrames,
  type ParsedFrame,
  seededRandom,
  serverFrame,
  utf8,
} from "./_helpers.ts";

const CODEC = nodeZlibCodec()!;
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const TAIL = new Uint8Array([0, 0, 0xff, 0xff]);

const settings = (s: Partial<DeflateSettings> = {}): DeflateSettings => ({
  ...DEFAULT_DEFLATE,
  ...s,
});
const agreed = (a: Partial<DeflateAgreement> = {}): DeflateAgreement => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
  ...a,
});

/** A message compressed on its own (no window before it), as a server sends it. */
function compressAlone(data: Uint8Array | string, windowBits = 15): Uint8Array {
  const bytes = typeof data === "string" ? utf8(data) : data;
  const out = zlib.deflateRawSync(bytes, { ...SYNC, windowBits });
  assert.deepEqual([...out.subarray(-4)], [...TAIL]);
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/** Inflates payloads the client sent as one stream (each message refers back to the last). */
function inflateStream(payloads: readonly Uint8Array[]): Uint8Array[] {
  // One inflate of everything, then cut at the message boundaries by length is not possible;
  // inflate each prefix instead and take the difference.
  const out: Uint8Array[] = [];
  let previous = 0;
  for (let i = 1; i <= payloads.length; i++) {
    const stream = concat(...payloads.slice(0, i).flatMap((p) => [p, TAIL]));
    const all = zlib.inflateRawSync(stream, SYNC);
    out.push(new Uint8Array(all.subarray(previous)));
    previous = all.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The offer

Deno.test("permessage-deflate offer: every setting becomes its parameter; client_max_window_bits always", () => {
  const table: Array<[Partial<DeflateSettings>, string]> = [
    [{}, "permessage-deflate; client_max_window_bits"],
    [
      { serverNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover; client_max_window_bits",
    ],
    [
      { clientNoContextTakeover: true },
      "permessage-deflate; client_no_context_takeover; client_max_window_bits",
    ],
    [
      { serverMaxWindowBits: 10 },
      "permessage-deflate; server_max_window_bits=10; client_max_window_bits",
    ],
    [{ clientMaxWindowBits: 8 }, "permessage-deflate; client_max_window_bits=8"],
    [
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 12,
      },
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
      "server_max_window_bits=15; client_max_window_bits=12",
    ],
    // threshold and level are the client's own: not offered.
    [{ threshold: 0, level: 9 }, "permessage-deflate; client_max_window_bits"],
  ];
  for (const [s, header] of table) {
    assert.equal(deflateOffer(settings(s)), header, JSON.stringify(s));
  }
});

// ---------------------------------------------------------------------------------------------
// The answer

Deno.test("permessage-deflate answers the client accepts, and what they agree", () => {
  const table: Array<[Partial<DeflateSettings>, string, Partial<DeflateAgreement> | undefined]> = [
    [{}, "", undefined],
    [{}, "  ", undefined],
    [{}, ",", undefined],
    [{}, "permessage-deflate", {}],
    [{}, "Permessage-Deflate", {}],
    [{}, "permessage-deflate ; client_max_window_bits=10", { clientMaxWindowBits: 10 }],
    [{}, "permessage-deflate; client_max_window_bits=8", { clientMaxWindowBits: 8 }],
    [{}, 'permessage-deflate; client_max_window_bits="9"', { clientMaxWindowBits: 9 }],
    [{}, "permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 12 }],
    [{}, "permessage-deflate; server_no_context_takeover", { serverNoContextTakeover: true }],
    [{}, "permessage-deflate; client_no_context_takeover", { clientNoContextTakeover: true }],
    [{}, "permessage-deflate;Client_No_Context_Takeover", { clientNoContextTakeover: true }],
    [{}, "permessage-deflate, ", {}],
    // The client's own no-context-takeover holds whatever the answer says.
    [{ clientNoContextTakeover: true }, "permessage-deflate", { clientNoContextTakeover: true }],
    // What the client asked of the server, answered with the same or less.
    [{ serverNoContextTakeover: true }, "permessage-deflate; server_no_context_takeover", {
      serverNoContextTakeover: true,
    }],
    [{ serverMaxWindowBits: 10 }, "permessage-deflate; server_max_window_bits=10", {
      serverMaxWindowBits: 10,
    }],
    [{ serverMaxWindowBits: 10 }, "permessage-deflate; server_max_window_bits=9", {
      serverMaxWindowBits: 9,
    }],
    // The client's window: the smaller of what it offered and what the server allows.
    [{ clientMaxWindowBits: 12 }, "permessage-deflate", { clientMaxWindowBits: 12 }],
    [{ clientMaxWindowBits: 12 }, "permessage-deflate; client_max_window_bits=11", {
      clientMaxWindowBits: 11,
    }],
    [{ clientMaxWindowBits: 12 }, "permessage-deflate; client_max_window_bits=12", {
      clientMaxWindowBits: 12,
    }],
    [
      {},
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
      "server_max_window_bits=15; client_max_window_bits=15",
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
    ],
  ];
  for (const [s, header, expected] of table) {
    assert.deepEqual(
      acceptDeflate(settings(s), header),
      expected === undefined ? undefined : agreed(expected),
      `${JSON.stringify(s)} answered ${JSON.stringify(header)}`,
    );
  }
});

Deno.test("permessage-deflate answers that fail the handshake, each with a sentence naming the problem", () => {
  const table: Array<[Partial<DeflateSettings> | undefined, string, RegExp]> = [
    // Nothing offered, or something else chosen.
    [
      undefined,
      "permessage-deflate",
      /extension "permessage-deflate", which the client did not offer/,
    ],
    [
      {},
      "x-webkit-deflate-frame",
      /extension "x-webkit-deflate-frame", which the client did not offer/,
    ],
    [{}, "permessage-deflate, foo", /extension "foo", which the client did not offer/],
    [{}, "permessage-deflate, permessage-deflate", /permessage-deflate more than once/],
    // Malformed values of the header.
    [{}, "permessage-deflate;", /is malformed/],
    [{}, "permessage-deflate; =1", /is malformed/],
    [{}, "permessage-deflate; client_max_window_bits=", /is malformed/],
    [{}, 'permessage-deflate; client_max_window_bits="10', /is malformed/],
    [{}, "permessage-deflate client_max_window_bits", /is malformed/],
    [{}, "permessage deflate", /is malformed/],
    // Unknown or repeated parameters, values where none may be.
    [
      {},
      "permessage-deflate; max_window_bits=10",
      /parameter "max_window_bits", which RFC 7692 does not define/,
    ],
    [
      {},
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      /server_no_context_takeover more than once/,
    ],
    [
      {},
      "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
      /client_max_window_bits more than once/,
    ],
    [
      {},
      "permessage-deflate; server_no_context_takeover=1",
      /server_no_context_takeover=1, which takes no value/,
    ],
    [
      {},
      "permessage-deflate; client_no_context_takeover=true",
      /client_no_context_takeover=true, which takes no value/,
    ],
    // Window sizes: a value is required, 8-15, without leading zeros.
    [
      {},
      "permessage-deflate; client_max_window_bits",
      /client_max_window_bits without a value, not a number 8-15/,
    ],
    [{}, "permessage-deflate; server_max_window_bits", /server_max_window_bits without a value/],
    [
      {},
      "permessage-deflate; server_max_window_bits=7",
      /server_max_window_bits="7", not a number 8-15/,
    ],
    [
      {},
      "permessage-deflate; server_max_window_bits=16",
      /server_max_window_bits="16", not a number 8-15/,
    ],
    [{}, "permessage-deflate; client_max_window_bits=08", /client_max_window_bits="08"/],
    [{}, "permessage-deflate; client_max_window_bits=1a", /client_max_window_bits="1a"/],
    [{}, "permessage-deflate; client_max_window_bits=-9", /client_max_window_bits="-9"/],
    // More than the client offered or asked for, or less than it asked for.
    [
      { clientMaxWindowBits: 10 },
      "permessage-deflate; client_max_window_bits=11",
      /client_max_window_bits=11, above the 10 the client offered/,
    ],
    [
      { serverMaxWindowBits: 10 },
      "permessage-deflate; server_max_window_bits=11",
      /server_max_window_bits=11, above the 10 the client asked for/,
    ],
    [
      { serverMaxWindowBits: 10 },
      "permessage-deflate",
      /without the server_max_window_bits the client asked for/,
    ],
    [
      { serverNoContextTakeover: true },
      "permessage-deflate",
      /without the server_no_context_takeover the client asked for/,
    ],
  ];
  for (const [s, header, expected] of table) {
    const result = acceptDeflate(s === undefined ? undefined : settings(s), header);
    assert.equal(typeof result, "string", `${header}: ${JSON.stringify(result)}`);
    assert.match(result as string, expected, header);
  }
});

/** A 101 response for `key` with extra header lines. */
function response101(key: string, ...lines: string[]): Uint8Array {
  return utf8(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`,
  );
}

Deno.test("ResponseParser with an offer: an accepted answer upgrades with the header as extensions and the agreement; a bad one is a HandshakeError", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  const parse = (...lines: string[]) =>
    new ResponseParser(key, [], "ws://h/", undefined, DEFAULT_DEFLATE).push(
      response101(key, ...lines),
    );
  const ok = parse("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12");
  assert.equal(ok.kind, "upgraded");
  if (ok.kind === "upgraded") {
    assert.equal(ok.upgrade.extensions, "permessage-deflate; client_max_window_bits=12");
    assert.deepEqual(ok.upgrade.deflate, agreed({ clientMaxWindowBits: 12 }));
  }
  const none = parse();
  assert.equal(none.kind, "upgraded");
  if (none.kind === "upgraded") {
    assert.equal(none.upgrade.extensions, "");
    assert.equal(none.upgrade.deflate, undefined);
  }
  // Two header lines are one list.
  const twice = parse(
    "Sec-WebSocket-Extensions: permessage-deflate",
    "Sec-WebSocket-Extensions: permessage-deflate",
  );
  assert.equal(twice.kind, "error");
  const bad = parse("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99");
  assert.equal(bad.kind, "error");
  if (bad.kind === "error") {
    assert.ok(bad.error instanceof HandshakeError);
    assert.equal(bad.error.status, 101);
    assert.match(
      bad.error.message,
      /^Cannot connect to ws:\/\/h\/ as the server answered permessage-deflate with server_max_window_bits="99", not a number 8-15$/,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// A connection that agreed on compression

type Event =
  | { readonly kind: "text"; readonly data: string }
  | { readonly kind: "binary"; readonly data: Uint8Array }
  | { readonly kind: "ping" | "pong"; readonly data: Uint8Array }
  | { readonly kind: "closed"; readonly code: number }
  | { readonly kind: "failed"; readonly error: Error; readonly closeOwed: boolean };

interface Open {
  readonly conn: ClientConnection;
  readonly events: Event[];
  readonly request: string;
  /** Feeds server bytes. */
  send(...chunks: Uint8Array[]): void;
  /** The client frames written since the last call. */
  written(): ParsedFrame[];
}

/**
 * Opens a connection that offered `offer` (undefined: no compression) and got `answer` as the
 * server's Sec-WebSocket-Extensions (undefined: none).
 */
function open(
  offer: DeflateSettings | undefined,
  answer: string | undefined,
  options: { limits?: ResolvedLimits; codec?: DeflateCodec } = {},
): Open {
  const events: Event[] = [];
  const conn = new ClientConnection({
    url: new URL("ws://127.0.0.1/"),
    headers: [],
    subprotocols: [],
    limits: options.limits ?? DEFAULT_LIMITS,
    random: seededRandom(7),
    compression: offer === undefined
      ? undefined
      : { settings: offer, codec: options.codec ?? CODEC },
  }, {
    opened() {},
    text: (data) => events.push({ kind: "text", data }),
    binary: (data) => events.push({ kind: "binary", data: data.slice() }),
    ping: (data) => events.push({ kind: "ping", data: data.slice() }),
    pong: (data) => events.push({ kind: "pong", data: data.slice() }),
    remoteClose: (code) => events.push({ kind: "closed", code }),
    error: (error, closeOwed) => events.push({ kind: "failed", error, closeOwed }),
  });
  const request = new TextDecoder().decode(concat(...conn.takeOutput()));
  const key = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/.exec(request)![1];
  conn.receive(
    response101(key, ...(answer === undefined ? [] : [`Sec-WebSocket-Extensions: ${answer}`])),
  );
  assert.equal(conn.state, "open");
  return {
    conn,
    events,
    request,
    send: (...chunks) => {
      for (const c of chunks) conn.receive(c);
      conn.sendOwedClose();
    },
    written: () => parseClientFrames(conn.takeOutput()),
  };
}

/** Asserts the connection failed with `code`, a ProtocolError whose message matches `message`. */
function assertFailed(o: Open, code: number, message: RegExp): void {
  const last = o.events.at(-1);
  assert.equal(last?.kind, "failed", JSON.stringify(o.events.map((e) => e.kind)));
  if (last?.kind !== "failed") return;
  assert.ok(last.error instanceof ProtocolError, String(last.error));
  assert.equal(last.error.code, code);
  assert.match(last.error.message, message);
  assert.equal(last.closeOwed, true);
  const frames = o.written();
  assert.equal(frames.at(-1)?.opcode, CLOSE);
  assert.deepEqual(frames.at(-1)?.payload, closeBody(code));
  assert.equal(o.conn.state, "closed");
}

Deno.test("ClientConnection: the request offers permessage-deflate only when compression is asked for", () => {
  const on = open(DEFAULT_DEFLATE, undefined);
  assert.match(
    on.request,
    /\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n/,
  );
  const off = open(undefined, undefined);
  assert.doesNotMatch(off.request, /Sec-WebSocket-Extensions/i);
});

const JSONISH = JSON.stringify(
  Array.from({ length: 60 }, (_, i) => ({ id: i, name: `item-${i % 7}`, tags: ["a", "b"] })),
);

Deno.test("compressed messages from the server decode: text and binary, one frame or fragmented, whole or split at every byte", () => {
  const text = JSONISH;
  const binary = new Uint8Array(3000).map((_, i) => (i * 7) % 13);
  const t = compressAlone(text);
  const b = compressAlone(binary);
  const third = Math.floor(b.length / 3);
  // Autobahn's fragmented messages: the compressed payload cut into frames, RSV1 on the first.
  const wire = concat(
    serverFrame(TEXT, t, { rsv: 4 }),
    serverFrame(BINARY, b.subarray(0, third), { rsv: 4, fin: false }),
    serverFrame(PING, "in between"),
    serverFrame(CONTINUATION, b.subarray(third, 2 * third), { fin: false }),
    serverFrame(CONTINUATION, new Uint8Array(0), { fin: false }),
    serverFrame(CONTINUATION, b.subarray(2 * third)),
    // An uncompressed message between compressed ones.
    serverFrame(TEXT, "plain"),
  );
  const expected: Event[] = [
    { kind: "text", data: text },
    { kind: "ping", data: utf8("in between") },
    { kind: "binary", data: binary },
    { kind: "text", data: "plain" },
  ];
  const whole = open(DEFAULT_DEFLATE, "permessage-deflate");
  whole.send(wire);
  assert.deepEqual(whole.events, expected);
  for (let cut = 1; cut < wire.length; cut++) {
    const o = open(DEFAULT_DEFLATE, "permessage-deflate");
    o.send(wire.subarray(0, cut), wire.subarray(cut));
    assert.deepEqual(o.events, expected, `split at ${cut}`);
  }
  const bytewise = open(DEFAULT_DEFLATE, "permessage-deflate");
  for (let i = 0; i < wire.length; i++) bytewise.send(wire.subarray(i, i + 1));
  assert.deepEqual(bytewise.events, expected, "byte by byte");
});

Deno.test("compressed messages from the server: an empty one, and one that ends with a final block (then the next starts afresh)", () => {
  const o = open(DEFAULT_DEFLATE, "permessage-deflate");
  // An empty message compressed: a single 0x00 octet (an empty stored block, §7.2.3.6); or no
  // payload at all, which is not a whole DEFLATE block even with 00 00 ff ff put back: taken as
  // an empty message, with the stream left as it was.
  o.send(serverFrame(TEXT, new Uint8Array([0x00]), { rsv: 4 }));
  o.send(serverFrame(BINARY, new Uint8Array(0), { rsv: 4 }));
  // deflateRawSync's default flush ends the stream with a final block (§7.2.3.3 allows it).
  const final = zlib.deflateRawSync(utf8("the end of a stream"));
  o.send(serverFrame(TEXT, final, { rsv: 4 }));
  o.send(serverFrame(TEXT, compressAlone("a new stream"), { rsv: 4 }));
  assert.deepEqual(o.events, [
    { kind: "text", data: "" },
    { kind: "binary", data: new Uint8Array(0) },
    { kind: "text", data: "the end of a stream" },
    { kind: "text", data: "a new stream" },
  ]);
});

Deno.test("compressed messages from the server that refer back to earlier ones decode (context takeover)", async () => {
  const server = new PeerCompressor();
  try {
    const o = open(DEFAULT_DEFLATE, "permessage-deflate");
    const messages = Array.from({ length: 5 }, (_, i) => `${JSONISH.slice(i * 10)}#${i}`);
    for (const m of messages) {
      const payload = await server.compress(utf8(m));
      o.send(serverFrame(TEXT, payload, { rsv: 4 }));
    }
    assert.deepEqual(o.events, messages.map((data) => ({ kind: "text", data })));
    // The later messages are much smaller than the first: they refer back.
    const again = await server.compress(utf8(messages[0]));
    assert.ok(again.length < 40, `a repeated message compresses to ${again.length} bytes`);
  } finally {
    server.close();
  }
});

Deno.test("server_no_context_takeover: the window is forgotten after each message, so one that refers back fails with 1007", async () => {
  const server = new PeerCompressor();
  try {
    const o = open(DEFAULT_DEFLATE, "permessage-deflate; server_no_context_takeover");
    o.send(serverFrame(TEXT, await server.compress(utf8(JSONISH)), { rsv: 4 }));
    o.send(serverFrame(TEXT, compressAlone("on its own"), { rsv: 4 }));
    assert.deepEqual(o.events, [{ kind: "text", data: JSONISH }, {
      kind: "text",
      data: "on its own",
    }]);
    // The server's stream goes on as if the window were kept: a sequence the client cannot read.
    await server.compress(utf8("on its own"));
    o.send(serverFrame(TEXT, await server.compress(utf8(JSONISH)), { rsv: 4 }));
    assertFailed(o, 1007, /not valid DEFLATE \(.*\)/);
  } finally {
    server.close();
  }
});

Deno.test("messages the client sends: compressed from the threshold on, RSV1 on their one frame, one stream with the window carried over", () => {
  const o = open(settings({ threshold: 100 }), "permessage-deflate");
  const long = JSONISH;
  const binary = new Uint8Array(500).map((_, i) => i % 5);
  o.conn.sendText("x".repeat(99)); // below the threshold
  o.conn.sendText(long);
  o.conn.sendBinary(binary);
  o.conn.sendText("é".repeat(50)); // 100 bytes of UTF-8: at the threshold
  o.conn.sendText(long); // refers back to the first
  o.conn.sendBinary(new Uint8Array(99));
  o.conn.sendPing(utf8("ping"));
  o.conn.sendPong(utf8("pong"));
  const frames = o.written();
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.rsv, f.fin]),
    [
      [TEXT, 0, true],
      [TEXT, 4, true],
      [BINARY, 4, true],
      [TEXT, 4, true],
      [TEXT, 4, true],
      [BINARY, 0, true],
      [PING, 0, true],
      [PONG, 0, true],
    ],
  );
  assert.deepEqual(frames[0].payload, utf8("x".repeat(99)));
  const compressed = frames.filter((f) => f.rsv === 4).map((f) => f.payload);
  const inflated = inflateStream(compressed);
  assert.deepEqual(inflated, [utf8(long), binary, utf8("é".repeat(50)), utf8(long)]);
  assert.ok(
    compressed[3].length < compressed[0].length / 4,
    `the repeat refers back: ${compressed[3].length} bytes, ${compressed[0].length} the first time`,
  );
  // Close frames are never compressed either.
  o.conn.close(1000, "bye");
  const [close] = o.written();
  assert.deepEqual([close.opcode, close.rsv], [CLOSE, 0]);
});

Deno.test("client_no_context_takeover (offered, or asked for by the server): each message the client sends inflates on its own", () => {
  for (
    const [offer, answer] of [
      [settings({ clientNoContextTakeover: true, threshold: 0 }), "permessage-deflate"],
      [settings({ threshold: 0 }), "permessage-deflate; client_no_context_takeover"],
    ] as const
  ) {
    const o = open(offer, answer);
    for (let i = 0; i < 3; i++) o.conn.sendText(JSONISH);
    const payloads = o.written().map((f) => f.payload);
    assert.equal(payloads.length, 3);
    for (const p of payloads) {
      assert.equal(new TextDecoder().decode(zlib.inflateRawSync(concat(p, TAIL), SYNC)), JSONISH);
    }
    assert.equal(payloads[2].length, payloads[0].length, `${answer}: no message refers back`);
  }
});

Deno.test("client_max_window_bits: the client's window is the agreed one (8 compresses with 9, which never reaches back further than 250 bytes)", () => {
  const codec = recordingCodec();
  const o = open(settings({ threshold: 0 }), "permessage-deflate; client_max_window_bits=8", {
    codec,
  });
  const text = "0123456789abcdef".repeat(64);
  o.conn.sendText(text);
  o.conn.sendText(text);
  // zlib's memory level follows the window: 2 for 2^9.
  assert.deepEqual(codec.deflaters, [{ windowBits: 9, level: DEFAULT_DEFLATE.level, memLevel: 2 }]);
  const payloads = o.written().map((f) => f.payload);
  // A 256-byte window inflates it.
  const stream = concat(payloads[0], TAIL, payloads[1], TAIL);
  assert.equal(
    new TextDecoder().decode(zlib.inflateRawSync(stream, { ...SYNC, windowBits: 8 })),
    text + text,
  );
  const p = open(settings({ threshold: 0, clientMaxWindowBits: 12 }), "permessage-deflate", {
    codec,
  });
  p.conn.sendText(text);
  assert.deepEqual(codec.deflaters.at(-1), { windowBits: 12, level: 1, memLevel: 5 });
  const q = open(settings({ threshold: 0 }), "permessage-deflate", { codec });
  q.conn.sendText(text);
  assert.deepEqual(codec.deflaters.at(-1), { windowBits: 15, level: 1, memLevel: 8 });
});

Deno.test("RSV bits: RSV1 only on the first frame of a data message once compression is agreed; RSV2 and RSV3 never (1002)", () => {
  const cases: Array<[string | undefined, Uint8Array, RegExp]> = [
    [undefined, serverFrame(TEXT, compressAlone("x"), { rsv: 4 }), /reserved bits \(RSV\)/],
    ["permessage-deflate", serverFrame(TEXT, "x", { rsv: 2 }), /reserved bits \(RSV\)/],
    ["permessage-deflate", serverFrame(TEXT, "x", { rsv: 1 }), /reserved bits \(RSV\)/],
    ["permessage-deflate", serverFrame(TEXT, compressAlone("x"), { rsv: 6 }), /reserved bits/],
    [
      "permessage-deflate",
      serverFrame(PING, "x", { rsv: 4 }),
      /RSV1 \(compressed\) on a control frame/,
    ],
    ["permessage-deflate", serverFrame(CLOSE, closeBody(1000), { rsv: 4 }), /on a control frame/],
    [
      "permessage-deflate",
      concat(
        serverFrame(TEXT, compressAlone("xy").subarray(0, 1), { rsv: 4, fin: false }),
        serverFrame(CONTINUATION, compressAlone("xy").subarray(1), { rsv: 4 }),
      ),
      /RSV1 \(compressed\) on a continuation frame/,
    ],
    [
      "permessage-deflate",
      serverFrame(3, "x", { rsv: 4 }),
      /RSV1 \(compressed\) on a frame with a reserved opcode/,
    ],
  ];
  for (const [answer, wire, message] of cases) {
    const o = open(answer === undefined ? undefined : DEFAULT_DEFLATE, answer);
    o.send(wire);
    assertFailed(o, 1002, message);
  }
});

/** A codec that records what it made and counts what its inflaters output. */
function recordingCodec(): DeflateCodec & {
  deflaters: Array<{ windowBits: number; level: number; memLevel: number }>;
  inflaters: number[];
  inflated: number;
  closed: number;
} {
  const record = {
    deflaters: [] as Array<{ windowBits: number; level: number; memLevel: number }>,
    inflaters: [] as number[],
    inflated: 0,
    closed: 0,
    deflater(options: { windowBits: number; level: number; memLevel: number }) {
      record.deflaters.push({ ...options });
      const d = CODEC.deflater(options);
      return {
        deflate: (data: Uint8Array) => d.deflate(data),
        reset: () => d.reset(),
        close: () => {
          record.closed++;
          d.close();
        },
      };
    },
    inflater(windowBits: number): Inflater {
      record.inflaters.push(windowBits);
      const i = CODEC.inflater(windowBits);
      return {
        get ended() {
          return i.ended;
        },
        inflate(data: Uint8Array, limit: number, out: Uint8Array[]) {
          const n = i.inflate(data, limit, out);
          record.inflated += n;
          return n;
        },
        reset: () => i.reset(),
        close: () => {
          record.closed++;
          i.close();
        },
      };
    },
  };
  return record;
}

Deno.test("a compression bomb fails with 1009 before more than maxMessageSize + 1 bytes are inflated, in one frame or many", () => {
  const bomb = compressAlone(new Uint8Array(32 * 1024 * 1024)); // 32 MiB of zeros, ~32 KiB
  assert.ok(bomb.length < 64 * 1024);
  const max = 1024 * 1024;
  for (const split of [1, 16]) {
    const codec = recordingCodec();
    const o = open(DEFAULT_DEFLATE, "permessage-deflate", {
      codec,
      limits: limits({ maxMessageSize: max, maxFrameSize: max }),
    });
    const size = Math.ceil(bomb.length / split);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < split; i++) {
      const part = bomb.subarray(i * size, (i + 1) * size);
      frames.push(
        serverFrame(i === 0 ? BINARY : CONTINUATION, part, {
          rsv: i === 0 ? 4 : 0,
          fin: i === split - 1,
        }),
      );
    }
    o.send(concat(...frames));
    assertFailed(o, 1009, /inflates to more than 1048576 bytes \(maxMessageSize\)/);
    assert.ok(codec.inflated <= max + 1, `${split} frames: ${codec.inflated} bytes inflated`);
    assert.ok(
      codec.inflated > max - 64 * 1024,
      `it did inflate up to the limit: ${codec.inflated}`,
    );
  }
});

Deno.test("limits: maxMessageSize counts inflated bytes (exactly at the limit passes), maxFrameSize and maxFragments the frames on the wire", () => {
  const data = new Uint8Array(10_000).fill(65);
  const payload = compressAlone(data);
  const at = open(DEFAULT_DEFLATE, "permessage-deflate", {
    limits: limits({ maxMessageSize: 10_000, maxFrameSize: 10_000 }),
  });
  at.send(serverFrame(BINARY, payload, { rsv: 4 }));
  assert.deepEqual(at.events, [{ kind: "binary", data }]);
  const over = open(DEFAULT_DEFLATE, "permessage-deflate", {
    limits: limits({ maxMessageSize: 9_999, maxFrameSize: 10_000 }),
  });
  over.send(serverFrame(BINARY, payload, { rsv: 4 }));
  assertFailed(over, 1009, /inflates to more than 9999 bytes/);
  // A frame is judged by its length on the wire.
  const frame = open(DEFAULT_DEFLATE, "permessage-deflate", {
    limits: limits({ maxFrameSize: payload.length - 1 }),
  });
  frame.send(serverFrame(BINARY, payload, { rsv: 4 }));
  assertFailed(frame, 1009, /above maxFrameSize/);
  const fragments = open(DEFAULT_DEFLATE, "permessage-deflate", {
    limits: limits({ maxFragments: 2 }),
  });
  fragments.send(
    serverFrame(BINARY, payload.subarray(0, 1), { rsv: 4, fin: false }),
    serverFrame(CONTINUATION, payload.subarray(1, 2), { fin: false }),
    serverFrame(CONTINUATION, payload.subarray(2)),
  );
  assertFailed(fragments, 1009, /maxFragments/);
});

Deno.test("a bad DEFLATE stream fails with 1007: an invalid block, a bad distance, data after the final block", () => {
  const final = zlib.deflateRawSync(utf8("done"));
  const cases: Array<[Uint8Array, RegExp]> = [
    // BTYPE 11 is reserved.
    [new Uint8Array([0xff, 0xff, 0xff]), /not valid DEFLATE \(invalid block type\)/],
    // A stored block whose length and its complement disagree.
    [
      new Uint8Array([0x00, 0x05, 0x00, 0x00, 0x00]),
      /not valid DEFLATE \(invalid stored block lengths\)/,
    ],
    // A fixed-Huffman block whose first symbol copies 3 bytes from 1 byte back: before the start.
    [new Uint8Array([0x02, 0x02, 0x00]), /not valid DEFLATE \(invalid distance too far back\)/],
    [concat(final, compressAlone("more")), /final block/],
  ];
  for (const [payload, message] of cases) {
    const o = open(DEFAULT_DEFLATE, "permessage-deflate");
    o.send(serverFrame(TEXT, payload, { rsv: 4 }));
    assertFailed(o, 1007, message);
  }
});

Deno.test("compressed text that inflates to invalid UTF-8 fails with 1007 as soon as the bad byte comes out", () => {
  const bad = concat(utf8("valid so far "), new Uint8Array([0xc0, 0xaf]), utf8(" and more"));
  const payload = compressAlone(bad);
  const o = open(DEFAULT_DEFLATE, "permessage-deflate");
  // Fragmented, the bad bytes come out with the first fragment's bytes: the client fails then.
  o.send(serverFrame(TEXT, payload, { rsv: 4, fin: false }));
  assertFailed(o, 1007, /not valid UTF-8/);
});

Deno.test("the codec is made on first use and released when the connection ends (close, failure, dispose), or after each message when the client asked for no context takeover", () => {
  const idle = recordingCodec();
  const a = open(DEFAULT_DEFLATE, "permessage-deflate", { codec: idle });
  a.send(serverFrame(TEXT, "plain"), serverFrame(CLOSE, closeBody(1000)));
  assert.equal(a.conn.state, "closed");
  assert.deepEqual([idle.deflaters.length, idle.inflaters.length, idle.closed], [0, 0, 0]);

  const used = recordingCodec();
  const b = open(settings({ threshold: 0 }), "permessage-deflate; server_max_window_bits=10", {
    codec: used,
  });
  b.conn.sendText("hi");
  b.send(serverFrame(TEXT, compressAlone("yo", 10), { rsv: 4 }));
  assert.deepEqual(used.inflaters, [10]);
  assert.equal(used.closed, 0);
  b.conn.close(1000, "");
  b.send(serverFrame(CLOSE, closeBody(1000)));
  assert.equal(b.conn.state, "closed");
  assert.equal(used.closed, 2);

  const failed = recordingCodec();
  const c = open(settings({ threshold: 0 }), "permessage-deflate", { codec: failed });
  c.conn.sendText("hi");
  c.send(serverFrame(TEXT, new Uint8Array([0xff]), { rsv: 4 }));
  assert.equal(failed.closed, 2, "the deflater and the inflater are released");
  assert.throws(() => c.conn.sendText("x"), /closed/);

  // Without context takeover asked by the client, each direction's zlib memory goes after each
  // message; asked by the server only, it stays (reset).
  const kept = recordingCodec();
  const k = open(
    settings({ threshold: 0 }),
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    { codec: kept },
  );
  for (let i = 0; i < 3; i++) {
    k.conn.sendText(JSONISH);
    k.send(serverFrame(TEXT, compressAlone(JSONISH), { rsv: 4 }));
  }
  assert.deepEqual([kept.deflaters.length, kept.inflaters.length, kept.closed], [1, 1, 0]);
  for (const f of k.written()) {
    assert.equal(
      new TextDecoder().decode(zlib.inflateRawSync(concat(f.payload, TAIL), SYNC)),
      JSONISH,
    );
  }
  const fresh = recordingCodec();
  const e = open(
    settings({ threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true }),
    "permessage-deflate; server_no_context_takeover",
    { codec: fresh },
  );
  for (let i = 0; i < 3; i++) {
    e.conn.sendText(JSONISH);
    e.send(serverFrame(TEXT, compressAlone(JSONISH), { rsv: 4 }));
  }
  assert.deepEqual(e.events, Array(3).fill({ kind: "text", data: JSONISH }));
  assert.deepEqual([fresh.deflaters.length, fresh.inflaters.length, fresh.closed], [3, 3, 6]);
  for (const f of e.written()) {
    assert.equal(
      new TextDecoder().decode(zlib.inflateRawSync(concat(f.payload, TAIL), SYNC)),
      JSONISH,
    );
  }

  const dropped = recordingCodec();
  const d = open(settings({ threshold: 0 }), "permessage-deflate", { codec: dropped });
  d.conn.sendText("hi");
  d.conn.dispose();
  d.conn.dispose();
  assert.equal(dropped.closed, 1);
  assert.equal(d.conn.state, "closed");
});
