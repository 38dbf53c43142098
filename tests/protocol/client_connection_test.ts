import assert from "node:assert/strict";
import { HandshakeError } from "../../src/vocabulary/handshake_error.ts";
import { ClientConnection, type ConnectionParams } from "../../src/protocol/client_connection.ts";
import {
  acceptFor,
  buildRequest,
  handshakeKey,
  type Upgrade,
} from "../../src/protocol/handshake.ts";
import { DEFAULT_LIMITS } from "../../src/protocol/limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import type { RandomSource } from "../../src/protocol/random.ts";
import {
  bytes,
  closeBody,
  concat,
  latin1,
  limits,
  parseClientFrames,
  type ParsedFrame,
  seededRandom,
  serverFrame,
  utf8,
  xorMask,
} from "./_helpers.ts";

type Event =
  | { type: "opened"; upgrade: Upgrade; outputQueued: boolean }
  | { type: "text"; data: string }
  | { type: "binary"; data: Uint8Array }
  | { type: "ping"; data: Uint8Array; outputQueued: boolean }
  | { type: "pong"; data: Uint8Array }
  | { type: "closed"; code: number; reason: string; initiatedByServer: boolean }
  | { type: "failed"; error: Error; closeOwed: boolean };

const SEED = 1234;

interface Setup {
  conn: ClientConnection;
  events: Event[];
  /** The events without payload objects, for compact comparisons. */
  kinds(): string[];
  /** A twin of the connection's random source: what it will draw next. */
  twin: RandomSource;
}

function setup(
  overrides: Partial<ConnectionParams> = {},
  hooks: { opened?: (conn: ClientConnection) => void } = {},
): Setup {
  const events: Event[] = [];
  const conn: ClientConnection = new ClientConnection({
    url: new URL("ws://example.com:8080/chat?room=1"),
    headers: [],
    subprotocols: [],
    limits: DEFAULT_LIMITS,
    random: seededRandom(SEED),
    ...overrides,
  }, {
    opened: (upgrade) => {
      events.push({ type: "opened", upgrade, outputQueued: conn.hasOutput });
      hooks.opened?.(conn);
    },
    text: (data) => events.push({ type: "text", data }),
    binary: (data) => events.push({ type: "binary", data: data.slice() }),
    ping: (data) => events.push({ type: "ping", data: data.slice(), outputQueued: conn.hasOutput }),
    pong: (data) => events.push({ type: "pong", data: data.slice() }),
    remoteClose: (code, reason, initiatedByServer) =>
      events.push({ type: "closed", code, reason, initiatedByServer }),
    error: (error, closeOwed) => events.push({ type: "failed", error, closeOwed }),
  });
  const twin = seededRandom(SEED);
  twin(new Uint8Array(16)); // the handshake key
  return { conn, events, kinds: () => events.map((e) => e.type), twin };
}

/** The key the connection sent, read back from its request. */
function sentKey(request: Uint8Array): string {
  const m = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/.exec(new TextDecoder().decode(request));
  assert.ok(m, "the request has a key");
  return m[1];
}

function okResponse(key: string, extra = ""): Uint8Array {
  return latin1(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n${extra}\r\n`,
  );
}

/** Completes the handshake; returns the 101 bytes it used. */
function open(s: Setup, after: Uint8Array = new Uint8Array(0)): void {
  const [request] = s.conn.takeOutput();
  s.conn.receive(concat(okResponse(sentKey(request)), after));
}

/** The frames the connection wrote since the last take, parsed and unmasked. */
function written(conn: ClientConnection): ParsedFrame[] {
  return parseClientFrames(conn.takeOutput());
}

function nextKey(twin: RandomSource): Uint8Array {
  const k = new Uint8Array(4);
  twin(k);
  return k;
}

// ---------------------------------------------------------------------------------------------

Deno.test("ClientConnection: the first output is the upgrade request, with a key from the injected source", () => {
  const s = setup({
    headers: [["X-Client", "test"]],
    subprotocols: ["chat"],
  });
  assert.equal(s.conn.state, "connecting");
  assert.equal(s.conn.hasOutput, true);
  const out = s.conn.takeOutput();
  assert.equal(out.length, 1);
  const key = handshakeKey(seededRandom(SEED));
  assert.equal(
    new TextDecoder().decode(out[0]),
    buildRequest({
      url: new URL("ws://example.com:8080/chat?room=1"),
      key,
      headers: [["X-Client", "test"]],
      subprotocols: ["chat"],
    }),
  );
  assert.equal(s.conn.hasOutput, false);
  assert.deepEqual(s.conn.takeOutput(), []);
  assert.deepEqual(s.events, []);
});

Deno.test("ClientConnection: the request is UTF-8, whether it is ASCII or not", () => {
  for (const value of ["plain", "caf\u00e9 \u20ac", "\u{1f600}"]) {
    const s = setup({ headers: [["X-Value", value]] });
    const [request] = s.conn.takeOutput();
    const text = buildRequest({
      url: new URL("ws://example.com:8080/chat?room=1"),
      key: handshakeKey(seededRandom(SEED)),
      headers: [["X-Value", value]],
      subprotocols: [],
    });
    assert.deepEqual(request, new TextEncoder().encode(text));
  }
});

Deno.test("ClientConnection: a 101 opens the connection with the upgrade's details", () => {
  const s = setup({ subprotocols: ["a", "b"] });
  const [request] = s.conn.takeOutput();
  s.conn.receive(okResponse(sentKey(request), "Sec-WebSocket-Protocol: b\r\n"));
  assert.equal(s.conn.state, "open");
  assert.deepEqual(s.kinds(), ["opened"]);
  const e = s.events[0];
  assert.ok(e.type === "opened");
  assert.equal(e.upgrade.status, 101);
  assert.equal(e.upgrade.protocol, "b");
  assert.equal(s.conn.hasOutput, false, "nothing to write after the upgrade");
});

Deno.test("ClientConnection: prepareForResponse() after the request changes nothing the 101 does, and once open it does nothing", () => {
  const s = setup();
  const [request] = s.conn.takeOutput();
  s.conn.prepareForResponse();
  s.conn.receive(okResponse(sentKey(request)));
  assert.equal(s.conn.state, "open");
  assert.deepEqual(s.kinds(), ["opened"]);
  s.conn.prepareForResponse();
  assert.equal(s.conn.state, "open");
  assert.equal(s.conn.hasOutput, false);
});

Deno.test("ClientConnection: frames in the same chunk as the 101 are delivered after opened", () => {
  const frames = concat(
    serverFrame(TEXT, "first"),
    serverFrame(BINARY, bytes(1, 2)),
    serverFrame(TEXT, "sec", { fin: false }),
    serverFrame(CONTINUATION, "ond"),
  );
  const s = setup();
  open(s, frames);
  assert.deepEqual(s.kinds(), ["opened", "text", "binary", "text"]);
  assert.deepEqual(s.events.slice(1), [
    { type: "text", data: "first" },
    { type: "binary", data: bytes(1, 2) },
    { type: "text", data: "second" },
  ]);
});

Deno.test("ClientConnection: the 101 and the first frames split at every offset give the same events", () => {
  const frames = concat(serverFrame(TEXT, "hi"), serverFrame(PING, "p"), serverFrame(TEXT, "yo"));
  const key = handshakeKey(seededRandom(SEED));
  const data = concat(okResponse(key), frames);
  for (let i = 0; i <= data.length; i++) {
    const s = setup();
    s.conn.takeOutput();
    s.conn.receive(data.subarray(0, i));
    s.conn.receive(data.subarray(i));
    assert.deepEqual(s.kinds(), ["opened", "text", "ping", "text"], `split at ${i}`);
    const out = written(s.conn);
    assert.equal(out.length, 1, "one pong");
    assert.equal(out[0].opcode, PONG);
    assert.deepEqual(out[0].payload, utf8("p"));
  }
});

Deno.test("ClientConnection: a ping is answered at once with a masked pong carrying the same payload", () => {
  for (const payload of [utf8("Hello"), new Uint8Array(0), new Uint8Array(125).map((_, i) => i)]) {
    const s = setup();
    open(s);
    s.conn.receive(serverFrame(PING, payload));
    const ping = s.events[1];
    assert.ok(ping.type === "ping");
    assert.deepEqual(ping.data, payload);
    assert.equal(ping.outputQueued, true, "the pong is in the output when ping fires");
    const out = s.conn.takeOutput();
    assert.equal(out.length, 1);
    const raw = out[0];
    // Unmask by hand with the key in the frame, which is the injected source's next 4 bytes.
    const key = nextKey(s.twin);
    const headLen = 2;
    assert.equal(raw[0], 0x80 | PONG);
    assert.equal(raw[1], 0x80 | payload.length);
    assert.deepEqual(raw.subarray(headLen, headLen + 4), key);
    assert.deepEqual(xorMask(raw.subarray(headLen + 4), key), payload);
  }
});

Deno.test("ClientConnection: a pong from the server is reported and not answered", () => {
  const s = setup();
  open(s);
  s.conn.receive(serverFrame(PONG, "beat"));
  assert.deepEqual(s.events.slice(1), [{ type: "pong", data: utf8("beat") }]);
  assert.equal(s.conn.hasOutput, false);
});

Deno.test("ClientConnection: a server close is echoed with the same code, then closed(code, reason, true)", () => {
  const s = setup();
  open(s);
  s.conn.receive(serverFrame(CLOSE, closeBody(4001, "going away now")));
  assert.deepEqual(s.events.slice(1), [{
    type: "closed",
    code: 4001,
    reason: "going away now",
    initiatedByServer: true,
  }]);
  // The echo is owed until the client has handled what came before the close.
  assert.equal(s.conn.state, "closeReceived");
  assert.equal(s.conn.hasOutput, false);
  s.conn.sendText("a reply to an earlier message");
  assert.equal(s.conn.sendOwedClose(), true);
  assert.equal(s.conn.sendOwedClose(), false, "owed once");
  assert.equal(s.conn.state, "closed");
  const out = written(s.conn).slice(1);
  assert.equal(out.length, 1);
  assert.equal(out[0].opcode, CLOSE);
  assert.equal(out[0].masked, true);
  assert.deepEqual(out[0].payload, closeBody(4001), "the code echoed, without the reason");
});

Deno.test("ClientConnection: a codeless server close is echoed with an empty payload, closed(1005)", () => {
  const s = setup();
  open(s);
  s.conn.receive(serverFrame(CLOSE));
  assert.deepEqual(s.events.slice(1), [{
    type: "closed",
    code: 1005,
    reason: "",
    initiatedByServer: true,
  }]);
  s.conn.close(1000, "the owed echo goes out instead");
  const out = written(s.conn);
  assert.equal(out.length, 1);
  assert.equal(out[0].opcode, CLOSE);
  assert.equal(out[0].payload.length, 0);
});

Deno.test("ClientConnection: close(1000, 'bye') writes a close frame and waits in 'closing' for the server's", () => {
  const s = setup();
  open(s);
  s.conn.close(1000, "bye");
  assert.equal(s.conn.state, "closing");
  const out = written(s.conn);
  assert.equal(out.length, 1);
  assert.equal(out[0].opcode, CLOSE);
  assert.equal(out[0].fin, true);
  assert.deepEqual(out[0].payload, closeBody(1000, "bye"));
  // Messages the server sent before it saw our close are still delivered.
  s.conn.receive(serverFrame(TEXT, "late"));
  // A second close does nothing.
  s.conn.close(1001, "again");
  assert.equal(s.conn.hasOutput, false);
  s.conn.receive(serverFrame(CLOSE, closeBody(1000)));
  assert.deepEqual(s.events.slice(1), [
    { type: "text", data: "late" },
    { type: "closed", code: 1000, reason: "", initiatedByServer: false },
  ]);
  assert.equal(s.conn.state, "closed");
  assert.equal(s.conn.hasOutput, false, "no echo of the server's answer");
});

Deno.test("ClientConnection: a ping while closing is reported and answered (a pong is owed until the server's close)", () => {
  const s = setup();
  open(s);
  s.conn.close(1000, "");
  s.conn.takeOutput();
  s.conn.receive(serverFrame(PING, "x"));
  assert.deepEqual(s.kinds(), ["opened", "ping"]);
  assert.equal(s.conn.state, "closing");
  const out = written(s.conn);
  assert.deepEqual(out.map((f) => f.opcode), [PONG]);
  assert.deepEqual(out[0].payload, utf8("x"));
});

Deno.test("ClientConnection: a protocol error writes a close frame with the error's code and fails(err, true)", () => {
  const cases: Array<[string, Uint8Array, number]> = [
    ["reserved opcode", serverFrame(3), 1002],
    ["masked frame", serverFrame(TEXT, "x", { maskKey: bytes(1, 2, 3, 4) }), 1002],
    ["invalid UTF-8", serverFrame(TEXT, bytes(0xff)), 1007],
    ["bad close code", serverFrame(CLOSE, closeBody(1005)), 1002],
  ];
  for (const [name, frame, code] of cases) {
    const s = setup();
    open(s);
    s.conn.receive(concat(frame, serverFrame(TEXT, "never")));
    assert.deepEqual(s.kinds(), ["opened", "failed"], name);
    const f = s.events[1];
    assert.ok(f.type === "failed");
    assert.ok(f.error instanceof ProtocolError, name);
    assert.equal((f.error as ProtocolError).code, code, name);
    assert.equal(f.closeOwed, true);
    assert.equal(s.conn.state, "failing");
    assert.equal(s.conn.hasOutput, false, "the close waits for sendOwedClose()");
    assert.equal(s.conn.sendOwedClose(), true);
    assert.equal(s.conn.state, "closed");
    const out = written(s.conn);
    assert.equal(out.length, 1, name);
    assert.equal(out[0].opcode, CLOSE);
    assert.deepEqual(out[0].payload, closeBody(code), name);
    // Nothing after the failure is decoded or answered.
    s.conn.receive(serverFrame(PING, "late"));
    assert.equal(s.events.length, 2);
    assert.equal(s.conn.hasOutput, false);
  }
});

Deno.test("ClientConnection: a limit violation fails with 1009 in the close frame", () => {
  const s = setup({ limits: limits({ maxFrameSize: 4, maxMessageSize: 4 }) });
  open(s);
  s.conn.receive(serverFrame(BINARY, bytes(1, 2, 3, 4, 5)).subarray(0, 2)); // the header alone
  const f = s.events[1];
  assert.ok(f.type === "failed");
  assert.equal((f.error as ProtocolError).code, 1009);
  s.conn.sendOwedClose();
  assert.deepEqual(written(s.conn)[0].payload, closeBody(1009));
});

Deno.test("ClientConnection: a protocol error in the frames that came with the 101 fails after opened", () => {
  const s = setup();
  open(s, concat(serverFrame(TEXT, "ok"), serverFrame(TEXT, "x", { rsv: 4 })));
  assert.deepEqual(s.kinds(), ["opened", "text", "failed"]);
  const f = s.events[2];
  assert.ok(f.type === "failed" && f.closeOwed);
  s.conn.sendOwedClose();
  assert.deepEqual(written(s.conn).map((fr) => fr.opcode), [CLOSE]);
});

Deno.test("ClientConnection: a protocol error while closing fails without another close frame", () => {
  const s = setup();
  open(s);
  s.conn.close(1000, "");
  s.conn.takeOutput();
  s.conn.receive(serverFrame(CLOSE, closeBody(999)));
  assert.deepEqual(s.kinds(), ["opened", "failed"]);
  const f = s.events[1];
  assert.ok(f.type === "failed");
  assert.equal((f.error as ProtocolError).code, 1002);
  assert.equal(f.closeOwed, false);
  assert.equal(s.conn.hasOutput, false);
  assert.equal(s.conn.state, "closed");
});

Deno.test("ClientConnection: end() while open fails with an abnormal-closure (1006) error and no close frame", () => {
  const s = setup();
  open(s);
  s.conn.end();
  assert.deepEqual(s.kinds(), ["opened", "failed"]);
  const f = s.events[1];
  assert.ok(f.type === "failed");
  assert.ok(f.error instanceof Error);
  assert.ok(!(f.error instanceof ProtocolError));
  assert.match(f.error.message, /1006/);
  assert.match(f.error.message, /without a close frame/);
  assert.equal(f.closeOwed, false);
  assert.equal(s.conn.state, "closed");
  assert.equal(s.conn.hasOutput, false);
  s.conn.end(); // a second end does nothing
  assert.equal(s.events.length, 2);
});

Deno.test("ClientConnection: end() while closing is the end, not a failure (the client already reported its own close)", () => {
  const s = setup();
  open(s);
  s.conn.close(1000, "");
  s.conn.end();
  assert.deepEqual(s.kinds(), ["opened"]);
  assert.equal(s.conn.state, "closed");
});

Deno.test("ClientConnection: end() while a close is owed drops it (the server is gone)", () => {
  const s = setup();
  open(s);
  s.conn.receive(serverFrame(CLOSE, closeBody(1000)));
  s.conn.end();
  assert.equal(s.conn.state, "closed");
  assert.equal(s.conn.sendOwedClose(), false);
  assert.equal(s.conn.hasOutput, false);
});

Deno.test("ClientConnection: end() after the close handshake does nothing", () => {
  const s = setup();
  open(s);
  s.conn.receive(serverFrame(CLOSE, closeBody(1000)));
  s.conn.end();
  assert.deepEqual(s.kinds(), ["opened", "closed"]);
});

Deno.test("ClientConnection: end() while connecting fails with a HandshakeError", () => {
  const s = setup();
  s.conn.takeOutput();
  s.conn.receive(latin1("HTTP/1.1 101 Switching"));
  s.conn.end();
  assert.deepEqual(s.kinds(), ["failed"]);
  const f = s.events[0];
  assert.ok(f.type === "failed");
  assert.ok(f.error instanceof HandshakeError);
  assert.equal(f.closeOwed, false);
  assert.equal(s.conn.state, "closed");
  const t = setup();
  t.conn.end();
  assert.ok(t.events[0].type === "failed" && t.events[0].error instanceof HandshakeError);
});

Deno.test("ClientConnection: a refused handshake fails with the HandshakeError and writes nothing", () => {
  const s = setup();
  s.conn.takeOutput();
  s.conn.receive(latin1("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"));
  assert.deepEqual(s.kinds(), ["failed"]);
  const f = s.events[0];
  assert.ok(f.type === "failed");
  assert.ok(f.error instanceof HandshakeError);
  assert.equal((f.error as HandshakeError).status, 403);
  assert.equal((f.error as HandshakeError).body, "no");
  assert.equal(f.closeOwed, false);
  assert.equal(s.conn.state, "closed");
  assert.equal(s.conn.hasOutput, false);
  s.conn.receive(serverFrame(TEXT, "ignored"));
  s.conn.end();
  assert.equal(s.events.length, 1);
});

Deno.test("ClientConnection: a wrong accept key fails the handshake", () => {
  const s = setup();
  s.conn.takeOutput();
  s.conn.receive(okResponse("not-the-key"));
  assert.ok(s.events[0].type === "failed" && s.events[0].error instanceof HandshakeError);
});

Deno.test("ClientConnection: sendText/sendBinary/sendPing/sendPong write frames masked with the injected keys", () => {
  const s = setup();
  open(s);
  const big = new Uint8Array(80_000).map((_, i) => (i * 13) & 0xff);
  s.conn.sendText("héllo €");
  s.conn.sendBinary(bytes(0, 1, 2, 255));
  s.conn.sendBinary(big);
  s.conn.sendPing(utf8("are you there"));
  s.conn.sendPing();
  s.conn.sendPong(utf8("unsolicited"));
  s.conn.sendPong();
  s.conn.sendText("");
  const out = s.conn.takeOutput();
  // Small frames written in a row lie next to each other in one block: one piece each run; the
  // 80,000-byte frame has a buffer of its own.
  assert.deepEqual(out.map((c) => c.length), [
    2 + 4 + 10 + 2 + 4 + 4,
    14 + 80_000,
    6 + 13 + 6 + 6 + 11 + 6 + 6,
  ]);
  const frames = parseClientFrames(out);
  const expected: Array<[number, Uint8Array]> = [
    [TEXT, utf8("héllo €")],
    [BINARY, bytes(0, 1, 2, 255)],
    [BINARY, big],
    [PING, utf8("are you there")],
    [PING, new Uint8Array(0)],
    [PONG, utf8("unsolicited")],
    [PONG, new Uint8Array(0)],
    [TEXT, new Uint8Array(0)],
  ];
  assert.equal(frames.length, expected.length);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const [opcode, payload] = expected[i];
    assert.equal(f.opcode, opcode, `frame ${i}`);
    assert.equal(f.fin, true);
    assert.equal(f.rsv, 0);
    assert.equal(f.masked, true);
    assert.deepEqual(f.key, nextKey(s.twin), `frame ${i}: the injected source's next key`);
    assert.deepEqual(f.payload, payload, `frame ${i}`);
  }
});

Deno.test("ClientConnection: sendBinary copies the caller's bytes", () => {
  const s = setup();
  open(s);
  const data = bytes(1, 2, 3);
  s.conn.sendBinary(data);
  data.fill(9);
  assert.deepEqual(written(s.conn)[0].payload, bytes(1, 2, 3));
});

Deno.test("ClientConnection: a ping or pong above 125 bytes is a RangeError and writes nothing", () => {
  const s = setup();
  open(s);
  assert.throws(() => s.conn.sendPing(new Uint8Array(126)), RangeError);
  assert.throws(() => s.conn.sendPong(new Uint8Array(126)), RangeError);
  assert.throws(() => s.conn.sendPing(new Uint8Array(1000)), /limit 125/);
  assert.equal(s.conn.hasOutput, false);
  s.conn.sendPing(new Uint8Array(125));
  s.conn.sendPong(new Uint8Array(125));
  assert.equal(written(s.conn).length, 2);
  assert.equal(s.conn.state, "open");
});

Deno.test("ClientConnection: sending when not open throws and writes nothing", () => {
  const sends: Array<[string, (c: ClientConnection) => void]> = [
    ["text", (c) => c.sendText("x")],
    ["binary", (c) => c.sendBinary(bytes(1))],
    ["ping", (c) => c.sendPing()],
    ["pong", (c) => c.sendPong()],
  ];
  /** Each state that is not open, and how a fresh connection gets there. */
  const states: Array<[string, (s: Setup) => void]> = [
    ["connecting", () => {}],
    ["closing", (s) => {
      open(s);
      s.conn.close(1000, "");
    }],
    ["closed", (s) => {
      open(s);
      s.conn.receive(serverFrame(CLOSE));
      s.conn.sendOwedClose();
    }],
  ];
  for (const [state, reach] of states) {
    for (const [what, send] of sends) {
      const s = setup();
      reach(s);
      s.conn.takeOutput();
      assert.throws(() => send(s.conn), new RegExp(`${what} frame as the connection is ${state}`));
      assert.equal(s.conn.hasOutput, false);
    }
  }
  // An oversized ping when not open: the state is reported first.
  const s = setup();
  assert.throws(() => s.conn.sendPing(new Uint8Array(200)), /connecting/);
});

Deno.test("ClientConnection: close() while connecting closes silently and ignores the response", () => {
  const s = setup();
  const [request] = s.conn.takeOutput();
  s.conn.close(1000, "");
  assert.equal(s.conn.state, "closed");
  assert.equal(s.conn.hasOutput, false);
  s.conn.receive(okResponse(sentKey(request)));
  s.conn.end();
  assert.deepEqual(s.events, []);
});

Deno.test("ClientConnection: opened may start the close; the frames that came with the 101 still arrive", () => {
  const s = setup({}, { opened: (conn) => conn.close(1000, "early") });
  open(s, concat(serverFrame(TEXT, "welcome"), serverFrame(CLOSE, closeBody(1000))));
  assert.deepEqual(s.kinds(), ["opened", "text", "closed"]);
  const closed = s.events[2];
  assert.ok(closed.type === "closed" && closed.initiatedByServer === false);
  const out = written(s.conn);
  assert.equal(out.length, 1, "only our close: the server's answer is not echoed");
  assert.deepEqual(out[0].payload, closeBody(1000, "early"));
});

Deno.test("ClientConnection: messages split across many receives are reassembled", () => {
  const s = setup();
  open(s);
  const data = concat(
    serverFrame(TEXT, "Hel", { fin: false }),
    serverFrame(PING, "mid"),
    serverFrame(CONTINUATION, "lo"),
    serverFrame(BINARY, new Uint8Array(300).fill(4)),
  );
  for (let i = 0; i < data.length; i++) s.conn.receive(data.slice(i, i + 1));
  assert.deepEqual(s.kinds(), ["opened", "ping", "text", "binary"]);
  assert.deepEqual(s.events[2], { type: "text", data: "Hello" });
  assert.deepEqual(written(s.conn).map((f) => [f.opcode, new TextDecoder().decode(f.payload)]), [[
    PONG,
    "mid",
  ]]);
});
