// permessage-deflate end to end on the socket transport: against npm:ws with perMessageDeflate
// (its settings and ours, both ways, with the bytes on the wire counted), against Deno.serve
// (which does not speak it: nothing is agreed and messages go as they are), and against raw
// servers that answer the offer wrongly, send a compression bomb or a broken DEFLATE stream.

import assert from "node:assert/strict";
import zlib from "node:zlib";
import {
  type ConnectInfo,
  defineClient,
  type DisconnectReason,
  HandshakeError,
  ProtocolError,
  type ReceivedFrame,
} from "../../mod.ts";
import {
  nextDisconnect,
  Recorder,
  recordingCallbacks,
  recordingLogger,
} from "../support/recorder.ts";
import { type RawRequest, response101, startRawWsServer } from "../support/raw_ws_server.ts";
import { startDenoServer, startWsServer } from "../support/servers.ts";
import { concat } from "../support/bytes.ts";

const KiB = 1024;

/** Compressible JSON-like text of exactly `size` bytes. */
function json(size: number, seed = 0): string {
  let text = `{"seq":${seed},"items":[`;
  for (let i = 0; text.length < size; i++) {
    text += JSON.stringify({
      id: seed * 1000 + i,
      name: `user-${(i * 13 + seed) % 97}`,
      on: i % 3 === 0,
    }) + ",";
  }
  return text.slice(0, size);
}

/** A started socket-transport client recording its callbacks. */
async function client(url: string, options: Record<string, unknown> = {}) {
  const rec = new Recorder();
  const conn = await defineClient<null, null, unknown>(recordingCallbacks(rec)).start(null, {
    url,
    transport: "socket",
    logger: recordingLogger(),
    ...options,
  });
  return { rec, conn, [Symbol.asyncDispose]: async () => void await conn.stop() };
}

/** Sends `frame` and asserts that the next frame received is exactly it. */
async function assertEchoed(
  c: Awaited<ReturnType<typeof client>>,
  frame: { type: "text"; data: string } | { type: "binary"; data: Uint8Array },
): Promise<void> {
  await c.conn.sendFrame(frame);
  const got = (await c.rec.next("frame", 5000)).value as ReceivedFrame;
  assert.equal(got.type, frame.type);
  if (frame.type === "text") {
    assert.ok(got.data === frame.data, `text of ${frame.data.length} differs`);
  } else {
    const data = got.data as Uint8Array;
    assert.equal(data.length, frame.data.length);
    assert.ok(data.every((b, i) => b === frame.data[i]), "binary differs");
  }
}

const SIZES = [0, 1, 125, 1023, 1024, 65536, 1024 * KiB];

const SERVER_SETTINGS: Array<[string, Record<string, unknown>, RegExp]> = [
  ["npm:ws defaults (threshold 1 KiB)", {}, /^permessage-deflate$/],
  ["every message compressed", { threshold: 0 }, /^permessage-deflate$/],
  [
    "no context takeover either way",
    { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
    /^permessage-deflate; server_no_context_takeover; client_no_context_takeover$/,
  ],
  [
    "small windows (server 9, client 8)",
    { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
    /^permessage-deflate; client_max_window_bits=8; server_max_window_bits=9$/,
  ],
];

for (const [name, perMessageDeflate, agreed] of SERVER_SETTINGS) {
  Deno.test(`npm:ws with perMessageDeflate, ${name}: agreed, and text and binary of 0 B to 1 MiB echo exactly`, async () => {
    await using server = await startWsServer(0, { perMessageDeflate });
    await using c = await client(server.url());
    const info = (await c.rec.next("connected")).value as ConnectInfo;
    assert.match(info.extensions, agreed);
    assert.equal(
      server.requests[0].headers["sec-websocket-extensions"],
      "permessage-deflate; client_max_window_bits",
    );
    for (const [i, n] of SIZES.entries()) {
      await assertEchoed(c, { type: "text", data: json(n, i) });
      await assertEchoed(c, {
        type: "binary",
        data: new Uint8Array(n).map((_, j) => (j * 7 + i) % 251),
      });
    }
    // Repeated messages: each side's window carries over (or not) from one to the next.
    for (let i = 0; i < 20; i++) await assertEchoed(c, { type: "text", data: json(3000, i % 3) });
  });
}

Deno.test("npm:ws with perMessageDeflate: compressible JSON travels compressed both ways (bytes on the wire)", async () => {
  await using server = await startWsServer(0, { perMessageDeflate: { threshold: 0 } });
  await using c = await client(server.url());
  await c.rec.next("connected");
  const before = server.wire!();
  let sent = 0;
  for (let i = 0; i < 50; i++) {
    const data = json(16 * KiB, i);
    sent += data.length;
    await assertEchoed(c, { type: "text", data });
  }
  const after = server.wire!();
  const up = after.read - before.read;
  const down = after.written - before.written;
  assert.ok(up < sent / 5, `client to server: ${up} bytes on the wire for ${sent} bytes of JSON`);
  assert.ok(down < sent / 5, `server to client: ${down} bytes on the wire for ${sent}`);
});

Deno.test("npm:ws with perMessageDeflate: the client's settings are offered, agreed and kept (no context takeover, windows, threshold, level)", async () => {
  await using server = await startWsServer(0, { perMessageDeflate: { threshold: 0 } });
  await using c = await client(server.url(), {
    compression: {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
      threshold: 0,
      level: 9,
    },
  });
  const info = (await c.rec.next("connected")).value as ConnectInfo;
  assert.equal(
    server.requests[0].headers["sec-websocket-extensions"],
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
      "server_max_window_bits=10; client_max_window_bits=12",
  );
  assert.match(info.extensions, /server_no_context_takeover/);
  assert.match(info.extensions, /server_max_window_bits=10/);
  for (let i = 0; i < 10; i++) await assertEchoed(c, { type: "text", data: json(5000, i) });
});

Deno.test("compression: false offers nothing, and nothing is agreed", async () => {
  await using server = await startWsServer(0, { perMessageDeflate: { threshold: 0 } });
  await using c = await client(server.url(), { compression: false });
  const info = (await c.rec.next("connected")).value as ConnectInfo;
  assert.equal(info.extensions, "");
  assert.equal(server.requests[0].headers["sec-websocket-extensions"], undefined);
  await assertEchoed(c, { type: "text", data: json(10 * KiB) });
});

Deno.test("Deno.serve does not speak permessage-deflate: the offer is declined and messages go uncompressed", async () => {
  await using server = await startDenoServer();
  await using c = await client(server.url());
  const info = (await c.rec.next("connected")).value as ConnectInfo;
  assert.equal(info.extensions, "");
  assert.equal(
    server.requests[0].headers["sec-websocket-extensions"],
    "permessage-deflate; client_max_window_bits",
  );
  await assertEchoed(c, { type: "text", data: json(64 * KiB) });
  await assertEchoed(c, { type: "binary", data: new Uint8Array(5000).fill(1) });
});

// ---------------------------------------------------------------------------------------------
// Hostile servers

/** A raw server that accepts permessage-deflate (with `answer`), then writes `frames`. */
async function hostile(
  answer: string,
  frames: Uint8Array[],
  options: Record<string, unknown> = {},
) {
  const server = await startRawWsServer({
    respond: (r: RawRequest, connection) => {
      queueMicrotask(() => void connection.write(concat(...frames)).catch(() => {}));
      return response101(r, { "Sec-WebSocket-Extensions": answer });
    },
  });
  // The server never closes: the client's close handshake gives up soon.
  const c = await client(server.url(), { closeTimeout: 100, ...options });
  return {
    ...c,
    server,
    [Symbol.asyncDispose]: async () => {
      await c.conn.stop();
      await server.close();
    },
  };
}

/** A server frame with RSV1 (`rsv`) as given. */
function frame(opcode: number, payload: Uint8Array, rsv = 4, fin = true): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 0xff] : [
    127,
    0,
    0,
    0,
    0,
    (n >>> 24) & 0xff,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
  ];
  return concat(new Uint8Array([(fin ? 0x80 : 0) | (rsv << 4) | opcode, ...head]), payload);
}

/** Asserts the client failed with `code`: handleDisconnect's ProtocolError and its close frame. */
async function assertFails(
  t: Awaited<ReturnType<typeof hostile>>,
  code: number,
  message: RegExp,
): Promise<void> {
  const reason = await nextDisconnect(t.rec);
  assert.equal(reason.kind, "error", JSON.stringify(reason));
  const error = (reason as Extract<DisconnectReason, { kind: "error" }>).error;
  assert.ok(error instanceof ProtocolError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, message);
  const c = await t.server.connection();
  assert.equal((await c.closeFrame()).code, code);
}

Deno.test("a compression bomb (64 MiB of zeros in 64 KiB) fails with 1009 at maxMessageSize, without inflating it", async () => {
  const bomb = zlib.deflateRawSync(new Uint8Array(64 * 1024 * 1024), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const payload = new Uint8Array(bomb.subarray(0, bomb.length - 4));
  assert.ok(payload.length < 128 * KiB, `${payload.length}`);
  await using t = await hostile("permessage-deflate", [frame(0x2, payload)], {
    limits: { maxMessageSize: 1024 * KiB },
  });
  await assertFails(t, 1009, /inflates to more than 1048576 bytes/);
});

Deno.test("a broken DEFLATE stream fails with 1007; RSV1 on a continuation frame with 1002", async () => {
  {
    await using t = await hostile("permessage-deflate", [frame(0x1, new Uint8Array([0xff, 0xff]))]);
    await assertFails(t, 1007, /not valid DEFLATE \(invalid block type\)/);
  }
  {
    const payload = zlib.deflateRawSync(new TextEncoder().encode("hello"), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    await using t = await hostile("permessage-deflate", [
      frame(0x1, payload.subarray(0, 2), 4, false),
      frame(0x0, payload.subarray(2, payload.length - 4), 4),
    ]);
    await assertFails(t, 1002, /RSV1 \(compressed\) on a continuation frame/);
  }
});

for (
  const [answer, message] of [
    [
      "permessage-deflate; server_max_window_bits=16",
      /server_max_window_bits="16", not a number 8-15/,
    ],
    ["permessage-deflate; client_max_window_bits", /client_max_window_bits without a value/],
    ["permessage-deflate; mystery", /parameter "mystery", which RFC 7692 does not define/],
    ["permessage-deflate, permessage-deflate", /permessage-deflate more than once/],
    [
      "x-webkit-deflate-frame",
      /extension "x-webkit-deflate-frame", which the client did not offer/,
    ],
  ] as const
) {
  Deno.test(`an answer to the offer of ${JSON.stringify(answer)} is a HandshakeError`, async () => {
    await using t = await hostile(answer, []);
    const reason = await nextDisconnect(t.rec);
    assert.equal(reason.kind, "error");
    const error = (reason as Extract<DisconnectReason, { kind: "error" }>).error;
    assert.ok(error instanceof HandshakeError, String(error));
    assert.match(error.message, message);
    assert.equal(t.rec.all("connected").length, 0);
  });
}

Deno.test("a server that asks for client_no_context_takeover gets messages that each inflate on their own", async () => {
  await using t = await hostile("permessage-deflate; client_no_context_takeover", [], {
    compression: { threshold: 0 },
  });
  await t.rec.next("connected");
  const data = json(4000);
  for (let i = 0; i < 3; i++) await t.conn.sendFrame({ type: "text", data });
  const c = await t.server.connection();
  for (let i = 0; i < 3; i++) {
    const f = await c.nextFrame();
    assert.equal(f.rsv, 4);
    const inflated = zlib.inflateRawSync(concat(f.payload, new Uint8Array([0, 0, 0xff, 0xff])), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.equal(new TextDecoder().decode(inflated), data);
  }
});
