// The portable hostile-server cases: the socket transport against the hostile server
// (tests/support/hostile_routes.ts), one case per route, run unchanged under Deno, Node 24 and
// Bun (whose dialers differ: Deno.connect on Deno, node:net on Node and Bun). Each case asserts
// what the client saw (handleDisconnect's reason, what reached handleFrame, how long things took)
// and what the server recorded (the client's frames in order, its close code, when it ended TCP).

import assert from "node:assert/strict";
import {
  type ClientHandle,
  type ConnectInfo,
  type DisconnectReason,
  ProtocolError,
  type ReceivedFrame,
} from "../../mod.ts";
import type { HostileFrame, HostileRecord } from "../support/hostile_routes.ts";
import { test, use } from "./suite.ts";
import {
  assertHandshakeError,
  assertSameBytes,
  type Events,
  type HostileConfig,
  type RecordingOptions,
  seen,
  seenWhen,
  settlesWithin,
  sleep,
  startRecordingClient,
} from "./support.ts";

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PONG = 0xa;

/** The client's options in every case unless it says otherwise. */
const CLOSE_TIMEOUT = 2000;

/** A client frame in short: `text:<data>`, `close:<code>`, `pong:<data>` or `op<n>`. */
function short(f: HostileFrame): string {
  if (f.opcode === OP_TEXT) return `text:${f.text}`;
  if (f.opcode === OP_CLOSE) return `close:${f.code}`;
  if (f.opcode === OP_PONG) return `pong:${f.text}`;
  return `op${f.opcode}`;
}

/** handleFrame answers each text message `x` with `re: x`, so replies show on the server. */
const answer = (f: ReceivedFrame) =>
  f.type === "text" ? { type: "text" as const, data: `re: ${f.data}` } : undefined;

type Body = (conn: ClientHandle<null>, events: Events, id: string) => Promise<void>;

/** Asserts that `reason` is an error with a ProtocolError whose code is `code`. */
function assertProtocolError(reason: DisconnectReason, code: number): ProtocolError {
  assert.equal(reason.kind, "error", JSON.stringify(reason));
  if (reason.kind !== "error") throw new Error("unreachable");
  assert.ok(
    reason.error instanceof ProtocolError,
    `expected a ProtocolError, got ${reason.error?.name}: ${reason.error?.message}`,
  );
  assert.equal(reason.error.code, code, reason.error.message);
  return reason.error;
}

/** When the client ended TCP (its FIN, or the connection closing), as the server saw it. */
const gone = (r: HostileRecord) => r.endedMs ?? r.closedMs;

/**
 * Asserts that the client ended TCP gracefully: the server saw its FIN and no error (a reset, or
 * a write of the server's close echo refused because the client had closed its reading side).
 */
function assertCleanEnd(r: HostileRecord): void {
  assert.equal(r.error, null, "the server saw a socket error: the client reset the connection");
  assert.notEqual(r.endedMs, null, "the server never saw the client's FIN");
}

/** One protocol violation: the route, what it sends, and what must follow. */
interface Violation {
  readonly route: string;
  readonly what: string;
  readonly code: number;
  readonly options?: Omit<RecordingOptions, "path">;
  /** The text messages handleFrame may see before the violation (default none). */
  readonly before?: readonly string[];
}

const VIOLATIONS: readonly Violation[] = [
  { route: "masked", what: "a masked text frame", code: 1002 },
  { route: "rsv", what: "a text frame with RSV1 set", code: 1002 },
  { route: "opcode", what: "the reserved opcode 0x3", code: 1002 },
  { route: "fragmented-ping", what: "a ping with FIN clear", code: 1002 },
  { route: "long-control", what: "a 126-byte ping", code: 1002 },
  { route: "bad-close-code", what: "a close frame with code 1005 (never sent)", code: 1002 },
  {
    route: "too-big",
    what: "the header and first 100 bytes of a 2000-byte binary frame, " +
      "limits.maxMessageSize 1024 (the rest never comes)",
    code: 1009,
    options: { limits: { maxMessageSize: 1024 } },
  },
  {
    route: "message-then-violation",
    what: 'a text "hello" and a frame with RSV2 set, in one write',
    code: 1002,
    before: ["hello"],
  },
];

/** Registers every hostile case (socket transport only: the web transport has its runtime's rules). */
export function registerHostileCases(config: HostileConfig): void {
  const name = (route: string, text: string) => `socket: /h/${route}: ${text}`;

  /**
   * A socket client on `/h/<route>?id=<id>` that records and answers each text message `x` with
   * `re: x` (see startRecordingClient); `use()` stops it at the end of the test.
   */
  const openClient = (route: string, options: Omit<RecordingOptions, "path">) =>
    startRecordingClient(config, "socket", route, {
      closeTimeout: CLOSE_TIMEOUT,
      answer,
      ...options,
      path: (id) => `/h/${route}?id=${id}`,
    });

  /** The server's record of the one connection `id` once `pred` holds for it. */
  const record = async (
    id: string,
    pred: (r: HostileRecord) => boolean,
    what: string,
  ): Promise<HostileRecord> => {
    const [r] = await seenWhen<HostileRecord>(
      config,
      id,
      (rs) => rs.length === 1 && pred(rs[0]),
      what,
    );
    assert.equal(r.scriptError, null, "the server's script failed");
    assert.ok(r.frames.every((f) => f.masked), "every client frame is masked");
    return r;
  };

  /**
   * The record once the client sent its close frame and the TCP connection closed (after the
   * server's answer to the close, see tests/support/hostile_routes.ts).
   */
  const closedRecord = (id: string) =>
    record(
      id,
      (r) => r.close !== null && r.closedMs !== null,
      "the close frame and the end of the TCP connection",
    );

  const texts = (events: Events) =>
    (events.all("frame") as ReceivedFrame[]).map((f) => f.type === "text" ? f.data : f.type);

  for (const v of VIOLATIONS) {
    const before = v.before ?? [];
    test(
      name(
        v.route,
        `${v.what} -> ProtocolError ${v.code}` +
          (before.length > 0
            ? `; handleFrame saw only ${before.map((t) => `"${t}"`).join(", ")}; ` +
              "the server got the reply, then close " + v.code
            : `; nothing reached handleFrame; the server got close ${v.code}`) +
          ", then, once the server answered, a FIN (no reset)",
      ),
      async () => {
        const client = use(await openClient(v.route, v.options ?? {}));
        const { conn, events, id } = client;
        await events.next("connected");
        assertProtocolError(await events.next<DisconnectReason>("disconnected"), v.code);
        assert.deepEqual(texts(events), before);
        assert.equal(conn.state, "disconnected");
        assert.equal(await settlesWithin(conn.stopped, 20), false, "the client stopped");
        const r = await closedRecord(id);
        assert.deepEqual(r.frames.map(short), [
          ...before.map((t) => `text:re: ${t}`),
          `close:${v.code}`,
        ]);
        assert.ok(gone(r)! >= r.close!.ms, "the client ended TCP after its close frame");
        assertCleanEnd(r);
      },
    );
  }

  test(
    name(
      "utf8-split",
      "a text frame's 3 valid bytes, then 50 ms later an invalid byte, the frame never " +
        "completed -> ProtocolError 1007 after the invalid byte, before the frame ends; " +
        "the server got close 1007, then a FIN (no reset)",
    ),
    async () => {
      const client = use(await openClient("utf8-split", {}));
      const { events, id } = client;
      await events.next("connected");
      assertProtocolError(await events.next<DisconnectReason>("disconnected"), 1007);
      assert.deepEqual(texts(events), []);
      const r = await closedRecord(id);
      assert.deepEqual(r.frames.map(short), ["close:1007"]);
      const bad = r.marks["bad-byte"];
      assert.ok(bad !== undefined && bad >= 45, `marks: ${JSON.stringify(r.marks)}`);
      // Not on the valid bytes (the close came after the bad byte was written), and at once.
      assert.ok(r.close!.ms >= bad, `the close came at ${r.close!.ms} ms, before the bad byte`);
      assert.ok(r.close!.ms - bad < 1000, `the close came ${r.close!.ms - bad} ms late`);
      assertCleanEnd(r);
    },
  );

  test(
    name(
      "message-then-close",
      'a text "hello" and a close 1000 "done" in one write -> handleFrame gets "hello", then ' +
        'remote_close 1000 "done"; the server got the reply "re: hello" before the close echo ' +
        "1000, then a FIN (no reset)",
    ),
    async () => {
      const client = use(await openClient("message-then-close", {}));
      const { conn, events, id } = client;
      await events.next("connected");
      const reason = await events.next<DisconnectReason>("disconnected");
      assert.deepEqual(reason, { kind: "remote_close", code: 1000, reason: "done" });
      assert.deepEqual(texts(events), ["hello"]);
      assert.equal(conn.state, "disconnected");
      const r = await closedRecord(id);
      assert.deepEqual(r.frames.map(short), ["text:re: hello", "close:1000"]);
      assertCleanEnd(r);
    },
  );

  test(
    name(
      "close-then-fin",
      'a close 4000 "bye" and the server\'s FIN at once -> remote_close 4000 "bye"; the ' +
        "client's close echo 4000 still reaches the half-closed server",
    ),
    async () => {
      const client = use(await openClient("close-then-fin", {}));
      const { events, id } = client;
      await events.next("connected");
      const reason = await events.next<DisconnectReason>("disconnected");
      assert.deepEqual(reason, { kind: "remote_close", code: 4000, reason: "bye" });
      const r = await closedRecord(id);
      assert.deepEqual(r.frames.map(short), ["close:4000"]);
      assert.ok(r.close!.ms >= r.marks["fin"], "the echo came after the server's FIN");
      assertCleanEnd(r);
    },
  );

  test(
    name(
      "never-close",
      "a server that never answers the client's close: stop() completes within about " +
        "closeTimeout 200 ms; the server got close 1000, and a FIN about 200 ms later",
    ),
    async () => {
      const client = use(await openClient("never-close", { closeTimeout: 200 }));
      const { conn, events, id } = client;
      await events.next("connected");
      const t0 = performance.now();
      assert.deepEqual(await conn.stop(), { kind: "normal" });
      const took = performance.now() - t0;
      assert.ok(
        took >= 150,
        `stop() did not wait for the server's close (${took.toFixed(0)} ms)`,
      );
      assert.ok(took < 800, `stop() took ${took.toFixed(0)} ms with closeTimeout 200`);
      const r = await record(id, (r) => r.close !== null && gone(r) !== null, "the end of TCP");
      assert.deepEqual(r.frames.map(short), ["close:1000"]);
      const after = gone(r)! - r.close!.ms;
      assert.ok(after >= 150 && after < 800, `the client ended TCP ${after} ms after its close`);
      assertCleanEnd(r);
    },
  );

  test(
    name(
      "frames-with-101",
      'text frames "one" and "two" in the same write as the 101 -> handleConnect, then ' +
        "handleFrame gets them in order; the server got the replies in order, without delay",
    ),
    async () => {
      const client = use(await openClient("frames-with-101", {}));
      const { conn, events, id } = client;
      const info = await events.next<ConnectInfo>("connected");
      assert.equal(info.status, 101);
      await events.count("frame", 2);
      assert.deepEqual(
        events.list.filter((e) => e.type !== "log").map((e) => e.type),
        ["connected", "frame", "frame"],
      );
      assert.deepEqual(events.all("frame"), [
        { type: "text", data: "one" },
        { type: "text", data: "two" },
      ]);
      assert.equal(conn.state, "connected");
      const r = await record(id, (r) => r.frames.length >= 2, "the replies");
      assert.deepEqual(r.frames.map(short), ["text:re: one", "text:re: two"]);
      // Pushed one right after the other: the second must not wait for the server's ACK of
      // the first (Nagle's algorithm against a delayed ACK: about 40 ms).
      const gap = r.frames[1].ms - r.frames[0].ms;
      assert.ok(gap < 30, `the second reply came ${gap} ms after the first (TCP_NODELAY?)`);
    },
  );

  test(
    name(
      "ping-mid-fragments",
      'a fragment "Hel", a ping "p1", and "lo" only once the pong arrived -> the pong came at ' +
        'once, handlePing got "p1", handleFrame got "Hello" whole, once',
    ),
    async () => {
      const client = use(await openClient("ping-mid-fragments", {}));
      const { conn, events, id } = client;
      await events.next("connected");
      const ping = await events.next<Uint8Array>("ping");
      assertSameBytes(ping, new TextEncoder().encode("p1"), "handlePing's payload");
      assert.deepEqual(await events.next("frame"), { type: "text", data: "Hello" });
      const r = await record(id, (r) => r.frames.length >= 2, "the pong and the reply");
      assert.ok(r.marks["pong-seen"] !== undefined, `marks: ${JSON.stringify(r.marks)}`);
      assert.deepEqual(r.frames.map(short), ["pong:p1", "text:re: Hello"]);
      assert.ok(r.frames[0].ms <= r.marks["rest"], "the pong came before the rest");
      assert.ok(r.frames[0].ms - r.marks["first-fragment-and-ping"] < 1000, "the pong was late");
      await sleep(20);
      assert.equal(events.all("frame").length, 1, "one message");
      assert.equal(conn.state, "connected");
    },
  );

  test(
    name(
      "403-body",
      "a 403 with a body -> HandshakeError with status 403, the body and the headers; the " +
        "client stays alive, disconnected, and ends TCP",
    ),
    async () => {
      const client = use(await openClient("403-body", {}));
      const { conn, events, id } = client;
      const error = assertHandshakeError(await events.next<DisconnectReason>("disconnected"));
      assert.equal(error.status, 403, error.message);
      assert.ok(error.body?.includes("You shall not pass: token expired"), `body: ${error.body}`);
      assert.equal(error.headers?.get("x-reason"), "expired");
      assert.match(error.message, /403 Forbidden/);
      assert.equal(events.all("connected").length, 0);
      assert.equal(conn.state, "disconnected");
      assert.equal(await settlesWithin(conn.stopped, 20), false, "the client stopped");
      const r = await record(id, (r) => r.closedMs !== null, "the end of TCP");
      assert.deepEqual(r.frames, []);
      assert.match(r.request, /^GET \/h\/403-body\?id=\S+ HTTP\/1\.1$/);
      assertCleanEnd(r);
    },
  );

  test(
    name(
      "redirect",
      "a 302 with a Location -> HandshakeError with status 302 saying it is not followed; " +
        "the Location is not dialled",
    ),
    async () => {
      const client = use(await openClient("redirect", {}));
      const { conn, events, id } = client;
      const error = assertHandshakeError(await events.next<DisconnectReason>("disconnected"));
      assert.equal(error.status, 302, error.message);
      assert.match(error.message, /not followed/);
      // The Location as messages show URLs: its query values are `***`.
      assert.ok(error.message.includes("/h/elsewhere?id=***,"), error.message);
      assert.equal(conn.state, "disconnected");
      assertCleanEnd(await record(id, (r) => r.closedMs !== null, "the end of TCP"));
      await sleep(100);
      const all = await seen<HostileRecord>(config, id);
      assert.deepEqual(all.map((r) => r.route), ["redirect"], "one connection, no redirect");
    },
  );
}
