// The socket transport against hostile and broken raw TCP servers: every protocol violation
// fails the connection with the right close code (read from the client's own close frame on the
// server side) and the same ProtocolError code in handleDisconnect, nothing malformed reaches
// handleFrame, the close handshake is bounded by closeTimeout, and handshake failures are clear
// HandshakeErrors that leave the client alive.

import assert from "node:assert/strict";
import {
  type Callbacks,
  type ConnectInfo,
  defineClient,
  type DisconnectReason,
  HandshakeError,
  ok,
  ProtocolError,
  push,
} from "../../mod.ts";
import {
  nextDisconnect,
  Recorder,
  recordingCallbacks,
  recordingLogger,
  sleep,
  within,
} from "../support/recorder.ts";
import {
  binaryFrame,
  closeFrame,
  concat,
  continuationFrame,
  frame,
  OP,
  type RawConnection,
  type RawRequest,
  type RawWsServer,
  type RawWsServerOptions,
  response101,
  startRawWsServer,
  textFrame,
} from "../support/raw_ws_server.ts";
import { freePort } from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

type Options = Record<string, unknown>;
type Cb = Callbacks<null, null, unknown>;
type Client = Awaited<ReturnType<typeof startClient>>;

/** Starts a socket-transport client for `server` that records every callback in `rec`. */
function startClient(
  server: RawWsServer,
  rec: Recorder,
  options: Options = {},
  overrides: Partial<Cb> = {},
) {
  return defineClient<null, null, unknown>(recordingCallbacks(rec, overrides)).start(null, {
    url: server.url(),
    transport: "socket",
    logger: recordingLogger(),
    closeTimeout: 2000,
    ...options,
  });
}

/** A raw server and a client of it, stopped together at the end of an `await using` block. */
interface ClientAndServer extends AsyncDisposable {
  readonly server: RawWsServer;
  readonly rec: Recorder;
  readonly conn: Client;
}

/**
 * Starts a raw server with `serverOptions` and a socket-transport client for it (options made
 * from the server if a function) that records every callback. `await using` stops the client
 * and closes the server together: the server drops its connections, so the client's close does
 * not wait for closeTimeout.
 */
async function clientAndServer(
  serverOptions: RawWsServerOptions = {},
  options: Options | ((server: RawWsServer) => Options) = {},
  overrides: Partial<Cb> = {},
): Promise<ClientAndServer> {
  await using started = new AsyncDisposableStack();
  const server = started.use(await startRawWsServer(serverOptions));
  const rec = new Recorder();
  const conn = await startClient(
    server,
    rec,
    typeof options === "function" ? options(server) : options,
    overrides,
  );
  started.move(); // both are the caller's now
  return {
    server,
    rec,
    conn,
    [Symbol.asyncDispose]: async () => void await Promise.all([conn.stop(), server.close()]),
  };
}

type WithConnectionBody = (
  c: RawConnection,
  rec: Recorder,
  conn: Client,
  server: RawWsServer,
) => Promise<void>;

/**
 * A server, a connected client and the server's side of the connection, all released after `fn`
 * (which may stop the client).
 */
async function withClient(
  fn: WithConnectionBody,
  options: Options = {},
  overrides: Partial<Cb> = {},
  serverOptions: RawWsServerOptions = {},
): Promise<void> {
  await using t = await clientAndServer(serverOptions, options, overrides);
  await t.rec.next("connected");
  await fn(await t.server.connection(), t.rec, t.conn, t.server);
}

/** As {@linkcode withClient}, and the client must still be alive (not stopped) after `fn`. */
function withConnection(
  fn: WithConnectionBody,
  options: Options = {},
  overrides: Partial<Cb> = {},
  serverOptions: RawWsServerOptions = {},
): Promise<void> {
  return withClient(
    async (c, rec, conn, server) => {
      await fn(c, rec, conn, server);
      assert.notEqual(conn.state, "stopped", "the client stays alive");
    },
    options,
    overrides,
    serverOptions,
  );
}

/**
 * A server that does not answer the upgrade by itself, a client, and the server's side of the
 * connection once the client's request arrived, all released after `fn`.
 */
async function withUnansweredUpgrade(
  fn: (c: RawConnection, rec: Recorder, conn: Client) => Promise<void>,
  options: Options = {},
): Promise<void> {
  await using t = await clientAndServer({ respond: () => undefined }, options);
  const c = await t.server.connection();
  await c.requested();
  await fn(c, t.rec, t.conn);
}

/**
 * Asserts that the client failed the connection with `code`: its close frame (masked, as client
 * frames must be) carries `code`, handleDisconnect got a ProtocolError with `code`, and the
 * client then ended the TCP connection. Ends the server's side afterwards.
 */
async function expectFailure(c: RawConnection, rec: Recorder, code: number): Promise<void> {
  const reason = await nextDisconnect(rec);
  assert.equal(reason.kind, "error");
  const error = (reason as Extract<DisconnectReason, { kind: "error" }>).error;
  assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${error}`);
  assert.equal(error.code, code, error.message);
  const close = await c.closeFrame();
  assert.equal(close.code, code, "the close code the client sent");
  assert.ok(c.frames.every((f) => f.masked), "every client frame is masked");
  await c.clientEnded();
  c.end();
  await c.closed();
}

/** Frames handleFrame saw. */
function framesSeen(rec: Recorder): unknown[] {
  return rec.all("frame").map((e) => e.value);
}

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (data: string) => ({ type: "text", data }) as const;

/** Callbacks that answer every text message `x` with the text `re: x`. */
const answersEachMessage: Partial<Cb> = {
  handleFrame: (f, s) => push({ type: "text", data: `re: ${(f as { data: string }).data}` }, s),
};

/** One protocol violation: what the server writes after the handshake, and the code expected. */
interface Violation {
  readonly name: string;
  readonly code: number;
  /** Written after the handshake: all in one TCP write, and in a second test one write each. */
  readonly writes: Uint8Array[];
  readonly options?: Options;
  /** What handleFrame may legitimately have seen before the violation. */
  readonly before?: unknown[];
}

const VIOLATIONS: Violation[] = [
  {
    name: "a masked server frame",
    code: 1002,
    writes: [frame({ opcode: OP.TEXT, payload: "secret", mask: true })],
  },
  {
    name: "a masked server ping",
    code: 1002,
    writes: [frame({ opcode: OP.PING, payload: "p", mask: true })],
  },
  ...[4, 2, 1, 7].map((rsv): Violation => ({
    name: `reserved bits (RSV ${rsv.toString(2).padStart(3, "0")}) on a text frame`,
    code: 1002,
    writes: [frame({ opcode: OP.TEXT, payload: "hi", rsv })],
  })),
  {
    name: "reserved bits on a ping",
    code: 1002,
    writes: [frame({ opcode: OP.PING, rsv: 4 })],
  },
  ...[3, 7, 0xb, 0xf].map((opcode): Violation => ({
    name: `the reserved opcode 0x${opcode.toString(16)}`,
    code: 1002,
    writes: [frame({ opcode, payload: "x" })],
  })),
  {
    name: "a fragmented ping (FIN clear on a control frame)",
    code: 1002,
    writes: [frame({ opcode: OP.PING, payload: "p", fin: false })],
  },
  {
    name: "a fragmented close frame",
    code: 1002,
    writes: [frame({ opcode: OP.CLOSE, payload: bytes(0x03, 0xe8), fin: false })],
  },
  {
    name: "a fragmented ping in the middle of a fragmented message",
    code: 1002,
    writes: [textFrame("a", false), frame({ opcode: OP.PING, fin: false })],
  },
  {
    name: "a 126-byte ping (control frames carry at most 125)",
    code: 1002,
    writes: [frame({ opcode: OP.PING, payload: new Uint8Array(126) })],
  },
  {
    name: "a 200-byte close frame",
    code: 1002,
    writes: [frame({ opcode: OP.CLOSE, payload: concat(bytes(0x03, 0xe8), "r".repeat(198)) })],
  },
  {
    name: "a 64-bit length on a pong",
    code: 1002,
    writes: [frame({ opcode: OP.PONG, payload: "p", lengthBits: 64 })],
  },
  {
    name: "a 5-byte length encoded in 16 bits",
    code: 1002,
    writes: [frame({ opcode: OP.TEXT, payload: "hello", lengthBits: 16 })],
  },
  {
    name: "a continuation frame with no message to continue",
    code: 1002,
    writes: [continuationFrame("x")],
  },
  {
    name: "a new message before the fragmented one ended",
    code: 1002,
    writes: [textFrame("a", false), textFrame("b")],
  },
  {
    name: "a close frame with a 1-byte payload",
    code: 1002,
    writes: [frame({ opcode: OP.CLOSE, payload: bytes(0x03) })],
  },
  ...[1005, 1006, 1015, 999, 0, 1004, 2999, 5000, 65535].map((code): Violation => ({
    name: `the close code ${code}, which may not be sent`,
    code: 1002,
    writes: [closeFrame(code, "no")],
  })),
  {
    name: "invalid UTF-8 (0xFF) in a text frame",
    code: 1007,
    writes: [textFrame(bytes(0x48, 0x69, 0xff))],
  },
  {
    name: "an overlong UTF-8 encoding (C0 AF) in a text frame",
    code: 1007,
    writes: [textFrame(bytes(0xc0, 0xaf))],
  },
  {
    name: "a UTF-16 surrogate (ED A0 80) in a text frame",
    code: 1007,
    writes: [textFrame(bytes(0x61, 0xed, 0xa0, 0x80))],
  },
  {
    name: "a text message ending in the middle of a UTF-8 sequence",
    code: 1007,
    writes: [textFrame(bytes(0x61, 0xe2, 0x82))],
  },
  {
    name: "invalid UTF-8 across fragments (E2 82 then 41)",
    code: 1007,
    writes: [textFrame(bytes(0xe2, 0x82), false), continuationFrame(bytes(0x41), false)],
  },
  {
    name: "a close reason that is not valid UTF-8",
    code: 1007,
    writes: [closeFrame(1000, bytes(0x6f, 0x6b, 0xff, 0xfe))],
  },
  {
    name: "a frame above maxMessageSize",
    code: 1009,
    options: { limits: { maxMessageSize: 1024 } },
    writes: [binaryFrame(new Uint8Array(1025))],
  },
  {
    name: "fragments adding up to more than maxMessageSize",
    code: 1009,
    options: { limits: { maxMessageSize: 1024 } },
    writes: [
      binaryFrame(new Uint8Array(500), false),
      continuationFrame(new Uint8Array(500), false),
      continuationFrame(new Uint8Array(500)),
    ],
  },
  {
    name: "a frame above maxFrameSize",
    code: 1009,
    options: { limits: { maxFrameSize: 100, maxMessageSize: 1000 } },
    writes: [textFrame("x".repeat(101))],
  },
  {
    name: "a message in more frames than maxFragments",
    code: 1009,
    options: { limits: { maxFragments: 4 } },
    writes: [
      textFrame("a", false),
      continuationFrame("b", false),
      continuationFrame("c", false),
      continuationFrame("d", false),
      continuationFrame("e"),
    ],
  },
  {
    name: "a valid message, then a masked frame (only the valid one is delivered)",
    code: 1002,
    writes: [textFrame("fine"), frame({ opcode: OP.BINARY, payload: bytes(1), mask: true })],
    before: [text("fine")],
  },
];

for (const v of VIOLATIONS) {
  Deno.test(`${v.name} fails the connection with ${v.code}`, async () => {
    await withConnection(async (c, rec) => {
      // One write with everything (the decoder sees it at once), as the harshest case.
      await c.write(concat(...v.writes));
      await expectFailure(c, rec, v.code);
      assert.deepEqual(framesSeen(rec), v.before ?? []);
    }, v.options);
  });
}

for (const v of VIOLATIONS.filter((v) => v.writes.length > 1)) {
  Deno.test(`${v.name}, one frame per TCP write, fails the connection with ${v.code}`, async () => {
    await withConnection(async (c, rec) => {
      for (const w of v.writes) {
        if (c.frames.length > 0) break; // the client already failed
        await c.write(w);
        await sleep(5);
      }
      await expectFailure(c, rec, v.code);
      assert.deepEqual(framesSeen(rec), v.before ?? []);
    }, v.options);
  });
}

Deno.test(
  "invalid UTF-8 split across TCP writes fails with 1007 as soon as the bad byte arrives, before the frame is complete",
  async () => {
    await withConnection(async (c, rec) => {
      // A 64-byte text frame: first its header and 4 bytes, the last one invalid.
      const whole = textFrame(concat("abc", bytes(0xff), "d".repeat(60)));
      await c.write(whole.subarray(0, 2 + 4));
      // The close frame comes while the frame is still incomplete.
      assert.equal((await c.closeFrame()).code, 1007);
      // The rest, after a delay, is too late to matter.
      await sleep(50);
      await c.write(whole.subarray(2 + 4)).catch(() => {});
      await expectFailure(c, rec, 1007);
      assert.deepEqual(framesSeen(rec), []);
    });
  },
);

Deno.test(
  "an invalid continuation byte split from its lead byte by a TCP read fails with 1007 at once",
  async () => {
    await withConnection(async (c, rec) => {
      const whole = textFrame(concat("x".repeat(10), bytes(0xe2), bytes(0x28), "y".repeat(20)));
      const cut = 2 + 11; // after the lead byte E2
      await c.write(whole.subarray(0, cut));
      await sleep(50);
      assert.equal(c.frames.length, 0, "a valid prefix so far: no failure yet");
      await c.write(whole.subarray(cut, cut + 1)); // 0x28 cannot follow E2
      await expectFailure(c, rec, 1007);
      assert.deepEqual(framesSeen(rec), []);
    });
  },
);

Deno.test("a valid multi-byte character split across TCP writes is delivered whole", async () => {
  await withConnection(async (c, rec) => {
    const whole = textFrame("€uro ünïcödé 𝄞");
    for (const cut of [[0, 1], [1, 3], [3, 4], [4, 12], [12, whole.length]]) {
      await c.write(whole.subarray(cut[0], cut[1]));
      await sleep(10);
    }
    assert.deepEqual((await rec.next("frame")).value, text("€uro ünïcödé 𝄞"));
    assert.equal(c.frames.length, 0, "no close frame");
  });
});

Deno.test("a character split across fragments is valid and delivered whole", async () => {
  await withConnection(async (c, rec) => {
    const euro = new TextEncoder().encode("€"); // E2 82 AC
    await c.write(textFrame(concat("a", euro.subarray(0, 1)), false));
    await c.write(continuationFrame(euro.subarray(1, 2), false));
    await c.write(continuationFrame(concat(euro.subarray(2), "b")));
    assert.deepEqual((await rec.next("frame")).value, text("a€b"));
    assert.equal(c.frames.length, 0, "no close frame");
  });
});

Deno.test("messages exactly at maxMessageSize and maxFragments are delivered", async () => {
  await withConnection(async (c, rec) => {
    await c.write(binaryFrame(new Uint8Array(1024).fill(7)));
    await c.write(concat(
      textFrame("a", false),
      continuationFrame("b", false),
      continuationFrame("c", false),
      continuationFrame("d"),
    ));
    const first = (await rec.next("frame")).value as { type: string; data: Uint8Array };
    assert.equal(first.type, "binary");
    assert.equal(first.data.length, 1024);
    assert.deepEqual((await rec.next("frame")).value, text("abcd"));
    assert.equal(c.frames.length, 0, "no close frame");
  }, { limits: { maxMessageSize: 1024, maxFragments: 4 } });
});

// ---------------------------------------------------------------------------------------------
// The close handshake

Deno.test(
  "a server that never answers the close: stop() completes within about closeTimeout and the client closes TCP",
  async () => {
    await withClient(async (c, _rec, conn) => {
      const t0 = performance.now();
      await within(conn.stop(), 2000, "stop()");
      const took = performance.now() - t0;
      const close = await c.closeFrame();
      assert.equal(close.code, 1000);
      const ended = await c.clientEnded();
      assert.ok(took >= 150, `stop waited for the server's close (${took.toFixed(0)} ms)`);
      assert.ok(took < 700, `stop() took ${took.toFixed(0)} ms with closeTimeout 200`);
      assert.ok(ended - t0 < 700, "the client closed the TCP connection");
      assert.equal(conn.state, "stopped");
    }, { closeTimeout: 200 });
  },
);

Deno.test(
  "a server that never answers the close: disconnect() is done within about closeTimeout",
  async () => {
    await withConnection(async (c, _rec, conn) => {
      const t0 = performance.now();
      await within(conn.disconnect({ code: 4002, reason: "later" }), 2000, "disconnect()");
      assert.deepEqual(await c.closeFrame(), { code: 4002, reason: "later" });
      const ended = await c.clientEnded();
      assert.ok(ended - t0 >= 150, "the client waited for the server's close");
      assert.ok(ended - t0 < 700, `the client closed TCP after ${(ended - t0).toFixed(0)} ms`);
      assert.equal(conn.state, "disconnected");
    }, { closeTimeout: 200 });
  },
);

Deno.test(
  "disconnect({ code: 4001, reason: 'bye' }) sends that close frame; a server answering normally ends it at once",
  async () => {
    await withClient(async (c, rec, conn) => {
      await conn.disconnect({ code: 4001, reason: "bye" });
      assert.equal((await nextDisconnect(rec)).kind, "closed");
      assert.deepEqual(await c.closeFrame(), { code: 4001, reason: "bye" });
      const f = c.frames.find((f) => f.opcode === OP.CLOSE)!;
      assert.ok(f.masked && f.fin && f.rsv === 0);
      // A normal server echoes the close and closes TCP first.
      const t0 = performance.now();
      await c.write(closeFrame(4001, "bye"));
      c.end();
      await c.closed();
      assert.ok(performance.now() - t0 < 1000, "the TCP connection closed at once");
      const stopping = performance.now();
      await within(conn.stop(), 2000, "stop()");
      assert.ok(performance.now() - stopping < 1000, "stop did not wait for closeTimeout");
      assert.equal(c.frames.filter((f) => f.opcode === OP.CLOSE).length, 1, "one close frame");
    }, { closeTimeout: 5000 });
  },
);

Deno.test(
  "a server's close frame is echoed with its code and reaches handleDisconnect as remote_close",
  async () => {
    await withConnection(async (c, rec) => {
      await c.write(closeFrame(4000, "server says bye"));
      const reason = await nextDisconnect(rec);
      assert.deepEqual(reason, { kind: "remote_close", code: 4000, reason: "server says bye" });
      assert.deepEqual(await c.closeFrame(), { code: 4000, reason: "" });
      c.end();
      await c.closed();
    });
  },
);

Deno.test(
  "replies to messages that came with the server's close go out before the close echo",
  async () => {
    await withConnection(
      async (c, rec) => {
        await c.write(concat(textFrame("q1"), textFrame("q2"), closeFrame(4000, "done")));
        assert.equal((await nextDisconnect(rec)).kind, "remote_close");
        const got = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
        assert.deepEqual(got.map((f) => f.opcode), [OP.TEXT, OP.TEXT, OP.CLOSE]);
        assert.deepEqual(got.slice(0, 2).map((f) => new TextDecoder().decode(f.payload)), [
          "re: q1",
          "re: q2",
        ]);
        assert.deepEqual(await c.closeFrame(), { code: 4000, reason: "" });
        await c.clientEnded();
        c.end();
        await c.closed();
      },
      {},
      answersEachMessage,
    );
  },
);

Deno.test(
  "replies to messages that came before a violation go out before the close frame",
  async () => {
    await withConnection(
      async (c, rec) => {
        await c.write(concat(textFrame("q1"), frame({ opcode: OP.TEXT, payload: "x", rsv: 2 })));
        const reply = await c.nextFrame();
        assert.equal(new TextDecoder().decode(reply.payload), "re: q1");
        await expectFailure(c, rec, 1002);
        assert.equal(c.frames.length, 2, "the reply, then the close frame");
      },
      {},
      answersEachMessage,
    );
  },
);

Deno.test("a server that sends its close and ends TCP at once still gets the echo", async () => {
  await withConnection(async (c, rec) => {
    await c.write(closeFrame(4000, "bye"));
    c.end();
    assert.equal((await nextDisconnect(rec)).kind, "remote_close");
    assert.deepEqual(await c.closeFrame(), { code: 4000, reason: "" });
    await c.closed();
  });
});

Deno.test("a server close without a code is echoed without a code and shows as 1005", async () => {
  await withConnection(async (c, rec) => {
    await c.write(closeFrame());
    assert.deepEqual(await nextDisconnect(rec), { kind: "remote_close", code: 1005, reason: "" });
    assert.deepEqual(await c.closeFrame(), { code: undefined, reason: "" });
    c.end();
    await c.closed();
  });
});

Deno.test("frames after the server's close frame are ignored", async () => {
  await withConnection(async (c, rec) => {
    await c.write(concat(textFrame("before"), closeFrame(1000), textFrame("after")));
    assert.equal((await nextDisconnect(rec)).kind, "remote_close");
    assert.deepEqual(framesSeen(rec), [text("before")]);
    await c.closeFrame();
    c.end();
    await c.closed();
  });
});

Deno.test(
  "a server that drops TCP without a close frame is an error, with no close frame sent",
  async () => {
    await withConnection(async (c, rec) => {
      await c.write(textFrame("partial", false));
      c.end();
      const reason = await nextDisconnect(rec);
      assert.equal(reason.kind, "error");
      assert.match((reason as { error: Error }).error.message, /1006/);
      await c.closed();
      assert.deepEqual(framesSeen(rec), []);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// Frame delivery

Deno.test("frames in the same TCP write as the 101 reach handleFrame in order", async () => {
  const respond = (r: RawRequest) =>
    concat(
      response101(r),
      textFrame("one"),
      binaryFrame(bytes(2, 2)),
      textFrame("th", false),
      continuationFrame("ree"),
      frame({ opcode: OP.PONG, payload: "four" }),
    );
  await withConnection(
    async (_c, rec) => {
      for (let i = 0; i < 4; i++) await rec.next("frame");
      const [connected, ...rest] = rec.events.filter((e) => e.type !== "info");
      assert.equal(connected.type, "connected");
      assert.deepEqual(rest.map((e) => e.value), [
        text("one"),
        { type: "binary", data: bytes(2, 2) },
        text("three"),
        { type: "pong", data: new TextEncoder().encode("four") },
      ]);
    },
    {},
    {},
    { respond },
  );
});

Deno.test("a ping in the same TCP write as the 101 is answered with its payload", async () => {
  const respond = (r: RawRequest) =>
    concat(response101(r), frame({ opcode: OP.PING, payload: "early" }));
  await withConnection(
    async (c, rec) => {
      const pong = await c.nextFrame();
      assert.equal(pong.opcode, OP.PONG);
      assert.equal(new TextDecoder().decode(pong.payload), "early");
      await rec.next("ping");
    },
    {},
    { handlePing: (_p, s) => ok(s) },
    { respond },
  );
});

Deno.test(
  "a ping in the middle of a fragmented message is answered at once and the message arrives whole",
  async () => {
    await withConnection(
      async (c, rec) => {
        await c.write(textFrame("Hel", false));
        await c.write(frame({ opcode: OP.PING, payload: "p1" }));
        // The pong comes before the rest of the message is even written.
        const pong = await c.nextFrame();
        assert.equal(pong.opcode, OP.PONG);
        assert.ok(pong.masked && pong.fin);
        assert.equal(new TextDecoder().decode(pong.payload), "p1");
        assert.deepEqual(framesSeen(rec), []);
        await c.write(continuationFrame("lo"));
        assert.deepEqual((await rec.next("frame")).value, text("Hello"));
        assert.deepEqual(
          rec.all("ping").map((e) => new TextDecoder().decode(e.value as Uint8Array)),
          ["p1"],
        );
        assert.equal(rec.all("frame").length, 1);
      },
      {},
      { handlePing: (_p, s) => ok(s) },
    );
  },
);

Deno.test("a 1 MiB binary message in 16 KiB TCP writes arrives intact", async () => {
  await withConnection(async (c, rec) => {
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const whole = binaryFrame(data);
    for (let at = 0; at < whole.length; at += 16 * 1024) {
      await c.write(whole.subarray(at, at + 16 * 1024));
    }
    const got = (await rec.next("frame")).value as { type: string; data: Uint8Array };
    assert.equal(got.type, "binary");
    assert.equal(got.data.length, data.length);
    assert.ok(got.data.every((b, i) => b === data[i]));
  });
});

// ---------------------------------------------------------------------------------------------
// The opening handshake

/** Starts a server that answers with `respond`, a client, and returns the handshake failure. */
async function handshakeFailure(
  respond: RawWsServerOptions["respond"],
  options: Options = {},
  check?: (server: RawWsServer) => Promise<void>,
): Promise<{ error: HandshakeError; reason: DisconnectReason }> {
  await using t = await clientAndServer({ respond }, options);
  const { server, rec, conn } = t;
  const reason = await nextDisconnect(rec);
  const c = await server.connection();
  await c.clientEnded();
  assert.equal(conn.state, "disconnected", "the client stays alive");
  assert.equal(rec.all("connected").length, 0);
  if (check) await check(server);
  assert.equal(reason.kind, "error", JSON.stringify(reason));
  const error = (reason as { error?: unknown }).error;
  assert.ok(error instanceof HandshakeError, `expected a HandshakeError, got ${error}`);
  assert.equal(rec.all("frame").length, 0);
  return { error, reason };
}

Deno.test("a wrong Sec-WebSocket-Accept is a HandshakeError", async () => {
  const { error } = await handshakeFailure((r) =>
    concat(response101({ ...r, key: "dGhlIHNhbXBsZSBub25jZQ==" }), textFrame("never"))
  );
  assert.match(error.message, /Sec-WebSocket-Accept .* does not match/);
  assert.equal(error.status, 101);
});

Deno.test("a 101 without Upgrade: websocket is a HandshakeError", async () => {
  const { error } = await handshakeFailure((r) =>
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${
      response101(r).match(/Sec-WebSocket-Accept: (\S+)/)![1]
    }\r\n\r\n`
  );
  assert.match(error.message, /Upgrade header is missing/);
});

Deno.test("a 101 without Sec-WebSocket-Accept is a HandshakeError", async () => {
  const { error } = await handshakeFailure(() =>
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
  );
  assert.match(error.message, /no Sec-WebSocket-Accept/);
});

Deno.test("a subprotocol that was not offered is a HandshakeError", async () => {
  const { error } = await handshakeFailure(
    (r) => response101(r, { "Sec-WebSocket-Protocol": "evil" }),
    { subprotocols: ["chat"] },
  );
  assert.match(error.message, /subprotocol "evil", which was not offered/);
});

Deno.test("an extension that was not offered is a HandshakeError", async () => {
  const { error } = await handshakeFailure(
    (r) => response101(r, { "Sec-WebSocket-Extensions": "permessage-deflate" }),
    { compression: false },
  );
  assert.match(error.message, /extension "permessage-deflate"/);
  // With compression offered, any other extension.
  const other = await handshakeFailure((r) =>
    response101(r, { "Sec-WebSocket-Extensions": "x-webkit-deflate-frame" })
  );
  assert.match(
    other.error.message,
    /extension "x-webkit-deflate-frame", which the client did not offer/,
  );
});

Deno.test("a 403 with a body is a HandshakeError with status 403 and the body", async () => {
  const body = "You shall not pass: token expired";
  const { error } = await handshakeFailure(() =>
    `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
    `X-Reason: expired\r\n\r\n${body}`
  );
  assert.equal(error.status, 403);
  assert.ok(error.body?.includes(body), `body: ${error.body}`);
  assert.equal(error.headers?.get("x-reason"), "expired");
  assert.match(error.message, /403 Forbidden/);
});

Deno.test("a 403 whose body ends with the connection is still reported with its body", async () => {
  await withUnansweredUpgrade(async (c, rec) => {
    await c.write("HTTP/1.1 403 Forbidden\r\n\r\nno length, ");
    await sleep(20);
    await c.write("read to the end");
    c.end();
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    const error = (reason as { error: HandshakeError }).error;
    assert.ok(error instanceof HandshakeError);
    assert.equal(error.status, 403);
    assert.equal(error.body, "no length, read to the end");
    await c.closed();
  });
});

Deno.test(
  "a 403 without a length on a connection the server holds open is reported with its body " +
    "within a short grace, not as a connect timeout",
  async () => {
    await withUnansweredUpgrade(async (c, rec) => {
      const sent = performance.now();
      await c.write("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\ngo away");
      const reason = await nextDisconnect(rec);
      assert.ok(performance.now() - sent < 1000, "well before the connect timeout");
      assert.equal(reason.kind, "error");
      const error = (reason as { error: HandshakeError }).error;
      assert.ok(error instanceof HandshakeError);
      assert.equal(error.status, 403);
      assert.equal(error.body, "go away");
      await c.clientEnded();
    }, { connectTimeout: 2000 });
  },
);

Deno.test(
  "a 302 redirect is a HandshakeError saying it is not followed, and Location is not dialled",
  async () => {
    await using elsewhere = await startRawWsServer();
    const location = elsewhere.url("/elsewhere");
    const { error } = await handshakeFailure(
      () => `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`,
      {},
      async (server) => {
        await sleep(100);
        assert.equal(server.connections.length, 1, "one attempt only");
      },
    );
    assert.equal(error.status, 302);
    assert.match(error.message, /302/);
    assert.match(error.message, /not followed/);
    assert.ok(error.message.includes(location));
    assert.equal(elsewhere.connections.length, 0, "no connection to the Location");
  },
);

Deno.test("an oversized response head is a HandshakeError, without waiting for its end", async () => {
  const { error } = await handshakeFailure((r) =>
    response101(r).replace("\r\n\r\n", "\r\n") + `X-Filler: ${"f".repeat(20_000)}\r\n`
  );
  assert.match(error.message, /response head is larger than 16384 bytes/);
});

Deno.test("a response that is not HTTP is a HandshakeError", async () => {
  const { error } = await handshakeFailure(() => "SSH-2.0-OpenSSH_9.6\r\n\r\n");
  assert.match(error.message, /not HTTP\/1\.x/);
});

Deno.test("a server that closes in the middle of its response is a HandshakeError", async () => {
  await withUnansweredUpgrade(async (c, rec, conn) => {
    await c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs");
    c.end();
    const reason = await nextDisconnect(rec);
    assert.ok((reason as { error?: unknown }).error instanceof HandshakeError);
    assert.match((reason as { error: Error }).error.message, /in the middle of its response/);
    await c.closed();
    assert.equal(conn.state, "disconnected");
  });
});

Deno.test(
  "a server that accepts TCP and never answers: connect_timeout after connectTimeout, TCP closed by the client",
  async () => {
    const t0 = performance.now();
    await using t = await clientAndServer({ respond: () => undefined }, { connectTimeout: 200 });
    const { server, rec, conn } = t;
    const reason = await nextDisconnect(rec);
    const took = performance.now() - t0;
    assert.deepEqual(reason, { kind: "connect_timeout", timeout: 200 });
    assert.ok(took >= 150 && took < 1000, `timed out after ${took.toFixed(0)} ms`);
    const c = await server.connection();
    assert.ok((await c.requested()).line.startsWith("GET /ws HTTP/1.1"));
    await c.clientEnded();
    assert.equal(conn.state, "disconnected", "the client stays alive");
  },
);

Deno.test("a refused TCP connection is a HandshakeError naming the TCP connection", async () => {
  const port = await freePort();
  const rec = new Recorder();
  const url = `ws://127.0.0.1:${port}/ws`;
  await using conn = await defineClient<null, null, unknown>(recordingCallbacks(rec)).start(null, {
    url,
    transport: "socket",
    logger: recordingLogger(),
  });
  const reason = await nextDisconnect(rec);
  assert.equal(reason.kind, "error");
  const error = (reason as { error: Error }).error;
  assert.ok(error instanceof HandshakeError);
  assert.match(
    error.message,
    new RegExp(`^Cannot connect to ${url} as the TCP connection failed`),
  );
  assert.equal(error.status, undefined);
  assert.ok(error.cause !== undefined, "the runtime's error is the cause");
  assert.equal(conn.state, "disconnected", "the client stays alive");
});

Deno.test("after a protocol failure the client connects again on request", async () => {
  await withConnection(async (c, rec, conn, server) => {
    await c.write(frame({ opcode: OP.TEXT, payload: "x", rsv: 4 }));
    await expectFailure(c, rec, 1002);
    assert.equal(conn.state, "disconnected");
    await conn.connect();
    await rec.next("connected");
    await conn.sendFrame({ type: "text", data: "again" });
    const again = await (await server.connection(1)).nextFrame();
    assert.equal(new TextDecoder().decode(again.payload), "again");
    assert.equal(server.connections.length, 2);
  });
});

Deno.test(
  "custom headers reach the server; handleConnect gets status 101, the response headers and the subprotocol",
  async () => {
    let request: RawRequest | undefined;
    await using t = await clientAndServer({
      respond: (r) => {
        request = r;
        return response101(r, { "Sec-WebSocket-Protocol": "superchat", "X-Server": "hello" });
      },
    }, (server) => ({
      url: server.url("/ws/path?q=1&r=two"),
      headers: { "X-Custom": "v1", authorization: "Bearer t0k3n" },
      subprotocols: ["chat", "superchat"],
    }));
    const { server, rec } = t;
    const info = (await rec.next("connected")).value as ConnectInfo;
    assert.equal(info.status, 101);
    assert.equal(info.protocol, "superchat");
    assert.equal(info.extensions, "");
    // The URL as messages show it: the query's values are not for observers.
    assert.equal(info.url, server.url("/ws/path?q=***&r=***"));
    assert.ok(info.headers instanceof Headers);
    assert.equal(info.headers.get("x-server"), "hello");
    assert.equal(info.headers.get("upgrade"), "websocket");
    const raw = request!.text;
    assert.ok(raw.startsWith("GET /ws/path?q=1&r=two HTTP/1.1\r\n"), raw);
    assert.ok(raw.includes(`\r\nHost: 127.0.0.1:${server.port}\r\n`), raw);
    assert.ok(raw.includes("\r\nX-Custom: v1\r\n"), raw);
    assert.match(raw, /\r\nauthorization: Bearer t0k3n\r\n/i);
    assert.match(raw, /\r\nSec-WebSocket-Protocol: chat, ?superchat\r\n/i);
    assert.match(raw, /\r\nSec-WebSocket-Version: 13\r\n/i);
    assert.match(raw, /\r\nUpgrade: websocket\r\n/i);
    assert.match(raw, /\r\nConnection: Upgrade\r\n/i);
    const key = request!.headers["sec-websocket-key"];
    assert.equal(atob(key).length, 16, "a 16-byte base64 key");
    assert.ok(raw.endsWith("\r\n\r\n"));
  },
);

Deno.test("every frame the client sends is masked, each with its own key", async () => {
  await withConnection(async (c, _rec, conn) => {
    await conn.sendFrame(text("one"));
    await conn.sendFrame({ type: "binary", data: bytes(1, 2, 3) });
    await conn.sendFrame({ type: "ping", data: bytes(9) });
    const frames = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(frames.map((f) => [f.opcode, f.fin, f.rsv, f.masked]), [
      [OP.TEXT, true, 0, true],
      [OP.BINARY, true, 0, true],
      [OP.PING, true, 0, true],
    ]);
    assert.equal(new TextDecoder().decode(frames[0].payload), "one");
    assert.deepEqual(frames[1].payload, bytes(1, 2, 3));
    assert.deepEqual(frames[2].payload, bytes(9));
    const keys = new Set(frames.map((f) => f.maskKey!.join(",")));
    assert.equal(keys.size, 3, "three different mask keys");
  });
});
