// The portable end-to-end cases, registered once per transport ("socket" and "web"). They run
// unchanged under Deno, Node 24 and Bun against any of the test servers (npm:ws, Deno.serve,
// Bun.serve, Python websockets, npm:ws behind nginx over wss://), which they reach through
// `config` (see support.ts).

import assert from "node:assert/strict";
import {
  type ClientHandle,
  type ConnectInfo,
  DisconnectedError,
  type DisconnectReason,
  HandshakeError,
  type ReceivedFrame,
  UnsupportedError,
} from "../../mod.ts";
import { test, use } from "./suite.ts";
import {
  asciiText,
  assertSameBytes,
  assertSameText,
  bytes,
  type Config,
  type Events,
  type RecordingClientOptions,
  restartServer,
  seen,
  seenWhen,
  SERVERS,
  settlesWithin,
  startRecordingClient,
  type Transport,
  utf8Text,
} from "./support.ts";

const SIZES = [0, 1, 125, 126, 65535, 65536, 1024 * 1024];
/** A close reason with 2- and 3-byte UTF-8 characters. */
const serverBye = "server bye, à bientôt ✓";
const MESSAGES = 1000;

/** Sends the text `data` and asserts that the next frame is its echo. */
async function assertEchoed(conn: ClientHandle<null>, events: Events, data: string): Promise<void> {
  await conn.sendFrame({ type: "text", data });
  assert.deepEqual(await events.next("frame"), { type: "text", data });
}

/** Registers every case for `transport`. */
export function registerCases(config: Config, transport: Transport): void {
  const server = SERVERS[config.server];
  const socket = transport === "socket";
  const name = (text: string) => `${transport}: ${text}`;
  /**
   * The status of a refused upgrade's HandshakeError: the web transport knows it only when the
   * runtime's error message names it, which Deno's and Bun's do and Node's does not. Over wss://
   * Deno's does not either: Deno's WebSocket (2.9.6) retries a refused HTTP/1.1 upgrade as an
   * HTTP/2 extended CONNECT (RFC 8441) and reports only that attempt's failure (against nginx,
   * which offers no h2: "received fatal alert: NoApplicationProtocol").
   */
  const denoWss = !socket && config.runtime === "deno" && config.ws.startsWith("wss:");
  const refusedStatus =
    socket || (config.runtime === "deno" && !denoWss) || config.runtime === "bun" ? 403 : undefined;
  const noStatusWhy = denoWss
    ? "Deno's WebSocket reports its HTTP/2 retry's error instead of the 403"
    : `${config.runtime}'s WebSocket does not tell it`;
  /**
   * The socket transport trusts a wss:// server's test CA through its own option; the web
   * transport through the runtime's trust store (DENO_CERT, NODE_EXTRA_CA_CERTS: see
   * tests/portable_test.ts).
   */
  const tlsOptions = socket && config.ca !== undefined
    ? { transportOptions: { tls: { ca: config.ca } } }
    : {};

  /**
   * A client on this transport for `slug` (see startRecordingClient), with the TLS settings a wss://
   * server needs; `use()` stops it at the end of the test.
   */
  const openClient = (slug: string, settings: RecordingClientOptions = {}) =>
    startRecordingClient(config, transport, slug, { ...tlsOptions, ...settings });

  test(
    name(
      socket
        ? 'connect: handleConnect gets status 101, the URL, subprotocol "" and the response headers'
        : 'connect: handleConnect gets status 101, the URL, subprotocol "" and no headers (the web transport cannot see them)',
    ),
    async () => {
      const client = use(await openClient("connect"));
      const { conn, events, id } = client;
      const info = await events.next<ConnectInfo>("connected");
      assert.equal(info.status, 101);
      // The URL as messages show it: query values are `***`.
      assert.equal(info.url, `${config.ws}/ws?id=***`);
      assert.equal(info.protocol, "");
      assert.equal(conn.state, "connected");
      if (socket) {
        assert.ok(info.headers instanceof Headers, `headers: ${info.headers}`);
        assert.equal(info.headers.get("upgrade")?.toLowerCase(), "websocket");
        assert.equal(info.headers.get("connection")?.toLowerCase(), "upgrade");
        assert.match(info.headers.get("sec-websocket-accept") ?? "", /^[A-Za-z0-9+/]{27}=$/);
      } else {
        assert.equal(info.headers, undefined);
      }
      const [c] = await seen(config, id);
      assert.equal(c?.path, "/ws");
    },
  );

  test(
    name(`text echo at ${SIZES.join(", ")} bytes, ASCII and multi-byte UTF-8: exact content`),
    async () => {
      const client = use(await openClient("text"));
      const { conn, events } = client;
      await events.next("connected");
      const cases = SIZES.flatMap((n, i) => [
        { what: `ASCII text of ${n} bytes`, data: asciiText(n, i + 1) },
        ...(n >= 125 ? [{ what: `UTF-8 text of ${n} bytes`, data: utf8Text(n) }] : []),
      ]);
      for (const c of cases) {
        await conn.sendFrame({ type: "text", data: c.data });
        const frame = await events.next<ReceivedFrame>("frame");
        assert.equal(frame.type, "text", c.what);
        assertSameText(frame.data, c.data, c.what);
      }
    },
  );

  test(
    name(`binary echo at ${SIZES.join(", ")} bytes: exact content`),
    async () => {
      const client = use(await openClient("binary"));
      const { conn, events } = client;
      await events.next("connected");
      for (const [i, n] of SIZES.entries()) {
        const data = bytes(n, i + 7);
        await conn.sendFrame({ type: "binary", data });
        const frame = await events.next<ReceivedFrame>("frame");
        assert.equal(frame.type, "binary", `binary of ${n} bytes`);
        assertSameBytes(frame.data as Uint8Array, data, `binary of ${n} bytes`);
      }
    },
  );

  test(
    name(
      `${MESSAGES} messages, half queued while connecting, half pipelined once connected: ` +
        "echoed in order after handleConnect's push; the server received them all",
    ),
    async () => {
      const client = use(await openClient("many", { greeting: "#hello" }));
      const { conn, events, id } = client;
      const message = (i: number) =>
        i % 10 === 9
          ? { type: "binary" as const, data: new Uint8Array([i >> 8, i & 0xff]) }
          : { type: "text" as const, data: `#${i}` };
      const sends: Promise<void>[] = [];
      const send = (i: number) => {
        const sent = conn.sendFrame(message(i));
        sent.catch(() => {}); // awaited below; not unhandled while we wait for the connect
        sends.push(sent);
      };
      for (let i = 0; i < MESSAGES / 2; i++) send(i);
      await events.next("connected");
      for (let i = MESSAGES / 2; i < MESSAGES; i++) send(i);
      await Promise.all(sends);
      const frames = (await events.count("frame", MESSAGES + 1)) as ReceivedFrame[];
      assert.deepEqual(frames[0], { type: "text", data: "#hello" });
      for (let i = 0; i < MESSAGES; i++) {
        const expected = message(i);
        const got = frames[i + 1];
        if (expected.type === "text") {
          assert.deepEqual(got, expected, `message ${i}`);
        } else {
          assert.equal(got.type, "binary", `message ${i}`);
          assertSameBytes(got.data as Uint8Array, expected.data, `message ${i}`);
        }
      }
      await seenWhen(
        config,
        id,
        (c) => c[0]?.received === MESSAGES + 1,
        `${MESSAGES + 1} messages`,
      );
    },
    { timeout: 20_000 },
  );

  test(
    name("custom headers reach the server; /ws/auth lets the bearer token in"),
    async () => {
      const client = use(
        await openClient("headers", {
          path: (id) => `/ws/auth?id=${id}`,
          headers: { authorization: "Bearer portable", "x-parley-test": `${config.runtime} ok` },
        }),
      );
      const { events, id } = client;
      await events.next("connected");
      const [c] = await seen(config, id);
      assert.equal(c.path, "/ws/auth");
      assert.equal(c.headers["authorization"], "Bearer portable");
      assert.equal(c.headers["x-parley-test"], `${config.runtime} ok`);
    },
  );

  test(
    name(
      'subprotocols: offered "parley.v2", "parley.v1" to a server that speaks parley.v1: both sides agree on parley.v1',
    ),
    async () => {
      const client = use(
        await openClient("subprotocol", {
          path: (id) => `/ws?id=${id}&protocols=parley.v1,parley.v0`,
          subprotocols: ["parley.v2", "parley.v1"],
        }),
      );
      const { conn, events, id } = client;
      const info = await events.next<ConnectInfo>("connected");
      assert.equal(info.protocol, "parley.v1");
      if (socket) assert.equal(info.headers?.get("sec-websocket-protocol"), "parley.v1");
      const [c] = await seen(config, id);
      assert.match(c.headers["sec-websocket-protocol"] ?? "", /^parley\.v2, ?parley\.v1$/);
      assert.equal(c.protocol, "parley.v1");
      await assertEchoed(conn, events, "#after negotiation");
    },
  );

  if (socket) {
    test(
      name(
        server.seesPings
          ? 'sendFrame ping "are you there?" -> a pong with that payload at handleFrame; the server saw the ping; ' +
            "a 125-byte ping is answered, a 126-byte one rejects with RangeError"
          : `sendFrame ping "are you there?" -> a pong with that payload at handleFrame (${server.label} cannot report the ping it got); ` +
            "a 125-byte ping is answered, a 126-byte one rejects with RangeError",
      ),
      async () => {
        const client = use(await openClient("client-ping"));
        const { conn, events, id } = client;
        await events.next("connected");
        const payload = new TextEncoder().encode("are you there?");
        await conn.sendFrame({ type: "ping", data: payload });
        const pong = await events.next<ReceivedFrame>("frame");
        assert.equal(pong.type, "pong");
        assertSameBytes(pong.data as Uint8Array, payload, "the pong's payload");
        if (server.seesPings) {
          await seenWhen(config, id, (c) => c[0]?.pings.includes("are you there?"), "the ping");
        }
        // The largest control payload goes; one byte more is refused before anything is sent.
        const largest = new TextEncoder().encode(asciiText(125, 3));
        await conn.sendFrame({ type: "ping", data: largest });
        const pong125 = await events.next<ReceivedFrame>("frame");
        assert.equal(pong125.type, "pong");
        assertSameBytes(pong125.data as Uint8Array, largest, "the 125-byte pong's payload");
        await assert.rejects(
          conn.sendFrame({ type: "ping", data: new Uint8Array(126) }),
          RangeError,
        );
        // The connection carries on.
        await assertEchoed(conn, events, "#still here");
      },
    );
    test(
      name("sendFrame pong (unsolicited, RFC 6455 §5.5.3) -> the server saw it"),
      async () => {
        const client = use(await openClient("client-pong"));
        const { conn, events, id } = client;
        await events.next("connected");
        await conn.sendFrame({ type: "pong", data: new TextEncoder().encode("heartbeat") });
        await seenWhen(config, id, (c) => c[0]?.pongs.includes("heartbeat"), "the pong");
        await assertEchoed(conn, events, "#still here");
      },
      { skip: server.seesPings ? false : `${server.label} cannot report the pongs it got` },
    );
  } else {
    test(
      name(
        "sendFrame ping and pong reject with UnsupportedError (the web transport has no API for them); the connection stays up",
      ),
      async () => {
        const client = use(await openClient("client-ping"));
        const { conn, events } = client;
        await events.next("connected");
        await assert.rejects(
          conn.sendFrame({ type: "ping", data: new Uint8Array([1]) }),
          UnsupportedError,
        );
        await assert.rejects(
          conn.sendFrame({ type: "pong", data: new Uint8Array([1]) }),
          UnsupportedError,
        );
        assert.equal(conn.state, "connected");
        await assertEchoed(conn, events, "#still here");
      },
    );
  }

  test(
    name(
      socket
        ? 'a server ping "hello" -> handlePing gets "hello"; the server got the pong'
        : "a server ping is answered by the runtime's WebSocket (the web transport cannot observe pings): the server got the pong",
    ),
    async () => {
      const client = use(await openClient("server-ping"));
      const { conn, events, id } = client;
      await events.next("connected");
      await conn.sendFrame({ type: "text", data: "send_ping:hello" });
      if (socket) {
        const payload = await events.next<Uint8Array>("ping");
        assertSameBytes(payload, new TextEncoder().encode("hello"), "handlePing's payload");
      }
      await seenWhen(config, id, (c) => c[0]?.pongs.includes("hello"), 'the pong "hello"');
      await assertEchoed(conn, events, "#still here");
    },
    { skip: server.sendsPings ? false : `${server.label} cannot send pings` },
  );

  test(
    name(
      `the server closes with 4000 "${serverBye}" -> handleDisconnect gets remote_close 4000 ` +
        `"${serverBye}"; the client stays alive, disconnected; its close frame echoes 4000`,
    ),
    async () => {
      const client = use(await openClient("server-close"));
      const { conn, events, id } = client;
      await events.next("connected");
      await conn.sendFrame({ type: "text", data: `close:4000:${serverBye}` });
      const reason = await events.next<DisconnectReason>("disconnected");
      assert.deepEqual(reason, { kind: "remote_close", code: 4000, reason: serverBye });
      assert.equal(conn.state, "disconnected");
      assert.equal(await settlesWithin(conn.stopped, 50), false, "the client stopped");
      const [c] = await seenWhen(config, id, (c) => c[0]?.close != null, "the close");
      // The client answers with the server's close code (RFC 6455 §5.5.1).
      assert.equal(c.close?.code, 4000);
    },
  );

  const later = "see you later ✓";
  test(
    name(
      `disconnect({ code: 4001, reason: "bye" }) -> the server saw 4001 "bye"; connect() again: ` +
        "handleConnect's push goes first, echo; " +
        `disconnect({ code: 4002, reason: "${later}" }) -> the server saw 4002 "${later}"; ` +
        "stop() is normal",
    ),
    async () => {
      const client = use(await openClient("client-close", { greeting: "#hello" }));
      const { conn, events, id } = client;
      await events.next("connected");
      assert.deepEqual(await events.next("frame"), { type: "text", data: "#hello" });
      await conn.disconnect({ code: 4001, reason: "bye" });
      assert.equal(conn.state, "disconnected");
      assert.deepEqual(await events.next("disconnected"), { kind: "closed" });
      const [c] = await seenWhen(config, id, (c) => c[0]?.close != null, "the close");
      assert.deepEqual(c.close, { code: 4001, reason: "bye" });
      await assert.rejects(
        conn.sendFrame({ type: "text", data: "#while disconnected" }),
        DisconnectedError,
      );

      await conn.connect();
      assert.equal(conn.state, "connected");
      await events.next("connected");
      await conn.sendFrame({ type: "text", data: "#again" });
      assert.deepEqual(await events.next("frame"), { type: "text", data: "#hello" });
      assert.deepEqual(await events.next("frame"), { type: "text", data: "#again" });

      await conn.disconnect({ code: 4002, reason: later });
      assert.deepEqual(await events.next("disconnected"), { kind: "closed" });
      const conns = await seenWhen(config, id, (c) => c[1]?.close != null, "the second close");
      assert.equal(conns.length, 2);
      assert.deepEqual(conns[1].close, { code: 4002, reason: later });
      assert.deepEqual(await conn.stop(), { kind: "normal" });
    },
  );

  test(
    name(
      'the server restarts on the same port -> handleDisconnect gets remote_close 1001 "going away", ' +
        "reconnects (backoff 50-200 ms), frames flow again",
    ),
    async () => {
      const client = use(
        await openClient("restart", {
          reconnect: { baseDelay: 50, maxDelay: 200 },
        }),
      );
      const { conn, events, id } = client;
      await events.next("connected");
      await restartServer(config, 300);
      const first = await events.next<DisconnectReason>("disconnected");
      assert.deepEqual(first, {
        kind: "remote_close",
        code: 1001,
        reason: "going away",
      });
      await events.next("connected", 5000);
      assert.equal(conn.state, "connected");
      // Every attempt while the server was down failed with an error.
      const failed = events.all("disconnected").slice(1) as DisconnectReason[];
      for (const r of failed) assert.equal(r.kind, "error", JSON.stringify(r));
      await assertEchoed(conn, events, "#after restart");
      assert.equal((await seen(config, id)).length, 2);
    },
  );

  if (socket) {
    const agreed = server.deflate;
    const compressible = (n: number, seed: number) => {
      let text = "";
      for (let i = 0; text.length < n; i++) {
        text += `{"id":${seed * 10_000 + i},"name":"user-${(i * 13 + seed) % 97}","on":${
          i % 3 === 0
        }},`;
      }
      return text.slice(0, n);
    };
    test(
      name(
        "compression (the default): permessage-deflate offered; handleConnect's extensions say " +
          (agreed === "" ? `${server.label} declined it` : `what ${server.label} agreed`) +
          "; compressible text and binary of 1 KiB to 1 MiB echo exactly",
      ),
      async () => {
        const client = use(await openClient("compression"));
        const { conn, events, id } = client;
        const info = await events.next<ConnectInfo>("connected");
        assert.equal(info.extensions, agreed);
        const [c] = await seen(config, id);
        assert.equal(
          c.headers["sec-websocket-extensions"],
          "permessage-deflate; client_max_window_bits",
        );
        for (const [i, n] of [1023, 1024, 4096, 65536, 1024 * 1024].entries()) {
          const text = compressible(n, i);
          await conn.sendFrame({ type: "text", data: text });
          const frame = await events.next<ReceivedFrame>("frame");
          assert.equal(frame.type, "text");
          assertSameText(frame.data as string, text, `compressible text of ${n} bytes`);
          const data = new TextEncoder().encode(compressible(n, i + 100));
          await conn.sendFrame({ type: "binary", data });
          const echo = await events.next<ReceivedFrame>("frame");
          assert.equal(echo.type, "binary");
          assertSameBytes(echo.data as Uint8Array, data, `compressible binary of ${n} bytes`);
        }
        // The same message again and again: with context takeover, it refers back.
        for (let i = 0; i < 50; i++) await assertEchoed(conn, events, compressible(2000, i % 2));
      },
      { timeout: 20_000 },
    );

    test(
      name(
        "compression settings (no context takeover either way, windows 2^10 and 2^12, threshold 0, " +
          "level 9): offered as such" + (agreed === "" ? "" : " and agreed") +
          "; messages of every size echo exactly",
      ),
      async () => {
        const client = use(
          await openClient("compression-settings", {
            compression: {
              serverNoContextTakeover: true,
              clientNoContextTakeover: true,
              serverMaxWindowBits: 10,
              clientMaxWindowBits: 12,
              threshold: 0,
              level: 9,
            },
          }),
        );
        const { conn, events, id } = client;
        const info = await events.next<ConnectInfo>("connected");
        const [c] = await seen(config, id);
        assert.equal(
          c.headers["sec-websocket-extensions"],
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
            "server_max_window_bits=10; client_max_window_bits=12",
        );
        if (agreed === "") assert.equal(info.extensions, "");
        else {
          assert.match(info.extensions, /^permessage-deflate; /);
          assert.match(info.extensions, /server_no_context_takeover/);
          assert.match(info.extensions, /server_max_window_bits=(?:9|10)\b/);
        }
        for (const [i, n] of [0, 1, 125, 126, 65535, 65536, 300_000].entries()) {
          await assertEchoed(conn, events, compressible(n, i));
          const data = bytes(n, i + 3);
          await conn.sendFrame({ type: "binary", data });
          const echo = await events.next<ReceivedFrame>("frame");
          assertSameBytes(echo.data as Uint8Array, data, `binary of ${n} bytes`);
        }
      },
      { timeout: 20_000 },
    );

    test(
      name("compression: false offers nothing, and nothing is agreed"),
      async () => {
        const client = use(await openClient("no-compression", { compression: false }));
        const { conn, events, id } = client;
        const info = await events.next<ConnectInfo>("connected");
        assert.equal(info.extensions, "");
        const [c] = await seen(config, id);
        assert.equal(c.headers["sec-websocket-extensions"], undefined);
        await assertEchoed(conn, events, compressible(10_000, 1));
      },
    );
  }

  test(
    name(
      "a refused upgrade (403) -> handleDisconnect gets an error with a HandshakeError " +
        (refusedStatus === 403 ? "(status 403)" : `(no status: ${noStatusWhy})`) +
        "; the client stays alive, disconnected",
    ),
    async () => {
      const client = use(await openClient("refused", { path: () => "/reject" }));
      const { conn, events } = client;
      const reason = await events.next<DisconnectReason>("disconnected");
      assert.equal(reason.kind, "error", JSON.stringify(reason));
      if (reason.kind !== "error") return;
      assert.ok(
        reason.error instanceof HandshakeError,
        `${reason.error?.name}: ${reason.error?.message}`,
      );
      assert.equal(reason.error.status, refusedStatus, reason.error.message);
      assert.equal(conn.state, "disconnected");
      assert.equal(await settlesWithin(conn.stopped, 50), false, "the client stopped");
      await assert.rejects(
        conn.sendFrame({ type: "text", data: "#refused" }),
        DisconnectedError,
      );
      assert.equal(events.all("connected").length, 0);
      assert.deepEqual(await conn.stop(), { kind: "normal" });
    },
  );
}
