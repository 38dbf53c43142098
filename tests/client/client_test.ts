// The client through its driver: startClient with a scripted connector and a fake clock.

import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import {
  type ClientHandle,
  ClientStoppedError,
  connectClient,
  ConnectionError,
  defineClient,
  disconnect,
  disconnectClient,
  type DisconnectReason,
  type NameRegistry,
  NameTakenError,
  NoSuchClientError,
  ok,
  push,
  QueueFullError,
  type ReceivedFrame,
  reconnect,
  sendFrame,
  sendFrameAsync,
  sendInfo,
  stayDisconnected,
  stop,
  stopClient,
  type StopReason,
  UnsupportedError,
  whereis,
} from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import {
  bytes,
  isSettled,
  openScripted as open,
  SCRIPTED_URL as URL,
  startScripted as start,
  text,
} from "../support/scripted_client.ts";
import { recordingLogger } from "../support/recorder.ts";
import { ScriptedConnector, settle, until } from "../support/scripted.ts";

// --- ping ---

// The transport answers pings (the socket transport writes the pong before it reports the ping;
// tests/e2e checks that on the wire): the client itself sends no pong.

Deno.test("client: handlePing gets the payload, and the client sends no pong of its own (controlFrames)", async () => {
  const seen: Array<{ payload: Uint8Array; sentBefore: unknown[] }> = [];
  await using h = await start(
    defineClient({
      handlePing(payload, state: null) {
        seen.push({ payload, sentBefore: h.connector.last.sent.slice() });
        return ok(state);
      },
    }),
    null,
    {},
    { controlFrames: true },
  );
  const c = await open(h);
  const payload = bytes(1, 2, 3);
  c.ping(payload);
  await until(() => seen.length === 1, "handlePing");
  assert.deepEqual(seen[0].payload, payload);
  assert.deepEqual(seen[0].sentBefore, []);
  assert.deepEqual(h.connector.last.sent, []);
  assert.equal(h.conn.state, "connected");
});

Deno.test("client: handlePing → push sends the frames", async () => {
  await using h = await start(
    defineClient({ handlePing: (_p, s: null) => push(text("after-pong"), s) }),
    null,
    {},
    { controlFrames: true },
  );
  const c = await open(h);
  c.ping(bytes(9));
  await until(() => c.sent.length === 1, "the pushed frame");
  assert.deepEqual(c.sent, [text("after-pong")]);
});

Deno.test("client: handlePing → disconnect closes and handleDisconnect gets the user reason", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({
      handlePing: (_p, s: null) => disconnect("ping-bye", s),
      handleDisconnect: (r, s) => {
        reasons.push(r);
        return ok(s);
      },
    }),
    null,
    { reconnect: true },
    { controlFrames: true },
  );
  const c = await open(h);
  c.ping();
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "user", reason: "ping-bye" }]);
  assert.deepEqual(c.ops, [{ op: "close", code: 1000, reason: "" }]);
  assert.equal(h.conn.state, "disconnected");
});

Deno.test("client: handlePing → stop stops the client with the user reason", async () => {
  await using h = await start(
    defineClient({ handlePing: (_p, s: null) => stop("ping-stop", s) }),
    null,
    {},
    { controlFrames: true },
  );
  const c = await open(h);
  c.ping();
  assert.deepEqual(await h.conn.stopped, { kind: "user", reason: "ping-stop" });
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
});

Deno.test("client: without control frames a ping frame is refused with UnsupportedError and the client stays connected", async () => {
  await using h = await start(defineClient({}), null);
  const c = await open(h);
  await assert.rejects(() => h.conn.sendFrame({ type: "ping" }), UnsupportedError);
  await assert.rejects(() => h.conn.sendFrame({ type: "pong" }), UnsupportedError);
  await h.conn.sendFrame(text("still fine"));
  assert.deepEqual(c.sent, [text("still fine")]);
  assert.equal(h.conn.state, "connected");
});

// --- write failures (B1, B2) ---

for (const mode of ["throw", "reject"] as const) {
  Deno.test(`client: a handleConnect push whose write fails (${mode}) → handleDisconnect({ kind: "error" }), client alive (B1)`, async () => {
    const reasons: DisconnectReason[] = [];
    await using h = await start(
      defineClient({
        handleConnect: (s: null) => push(text("hello"), s),
        handleDisconnect: (r, s) => {
          reasons.push(r);
          return ok(s);
        },
      }),
      null,
    );
    const c = await h.connector.connection(1);
    const error = new Error("EPIPE on hello");
    if (mode === "throw") c.throwOnSend(error);
    else c.rejectOnSend(error);
    c.opened();
    await until(() => reasons.length === 1, "handleDisconnect");
    assert.deepEqual(reasons, [{ kind: "error", error }]);
    assert.equal(reasons[0].kind === "error" && reasons[0].error, error);
    assert.equal(h.conn.state, "disconnected");
    assert.equal(c.releases, 1);
    // A write refused at once is logged with its origin; one that fails later is the
    // connection's failure, as transports report it.
    if (mode === "throw") {
      assert.ok(
        h.logger.messages.some((m) =>
          m.level === "warn" &&
          /A frame from handleConnect could not be sent: EPIPE on hello/.test(m.message)
        ),
        JSON.stringify(h.logger.messages),
      );
    }
    // Alive: it can connect again.
    const again = h.conn.connect();
    (await h.connector.connection(2)).opened();
    await again;
    assert.equal(h.conn.state, "connected");
  });

  Deno.test(`client: a sendFrame whose write fails (${mode}) rejects with that error and handleDisconnect gets it (B2)`, async () => {
    const reasons: DisconnectReason[] = [];
    await using h = await start(
      defineClient({
        handleDisconnect: (r, s: null) => {
          reasons.push(r);
          return ok(s);
        },
      }),
      null,
    );
    const c = await open(h);
    const error = new Error("ECONNRESET");
    if (mode === "throw") c.throwOnSend(error);
    else c.rejectOnSend(error);
    // Refused at once: that very error. Failed later (the bytes never went out): the
    // connection's end, with the write's error as the cause.
    await assert.rejects(
      () => h.conn.sendFrame(text("x")),
      (e) =>
        mode === "throw"
          ? e === error
          : e instanceof ConnectionError && e.cause === error && e.reason.kind === "error",
    );
    await until(() => reasons.length === 1, "handleDisconnect");
    assert.deepEqual(reasons, [{ kind: "error", error }]);
    assert.equal(h.conn.state, "disconnected");
    assert.equal(c.releases, 1);
  });
}

Deno.test("client: a failing sendFrameAsync write is logged and disconnects with the error", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
  );
  const c = await open(h);
  const error = new Error("broken pipe");
  c.throwOnSend(error);
  h.conn.sendFrameAsync(text("x"));
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "error", error }]);
  assert.ok(
    h.logger.messages.some((m) => /sendFrameAsync could not be sent: broken pipe/.test(m.message)),
  );
});

Deno.test("client: sendFrame resolves only once the transport has written the frame", async () => {
  await using h = await start(defineClient({}), null);
  const c = await open(h);
  c.holdWrites();
  const p = h.conn.sendFrame(text("slow"));
  assert.equal(await isSettled(p), false);
  c.releaseWrites();
  await p;
  assert.deepEqual(c.sent, [text("slow")]);
});

// --- stale events (B7) ---

Deno.test("client: events from an old connection never reach callbacks (B7)", async () => {
  const calls: string[] = [];
  await using h = await start(
    defineClient({
      handleConnect: (_s: null) => void calls.push("connect"),
      handleFrame: (f: ReceivedFrame, _s: null) =>
        void calls.push(`frame ${f.type === "text" ? f.data : f.type}`),
      handlePing: () => void calls.push("ping"),
      handleDisconnect: (r) => void calls.push(`disconnect ${r.kind}`),
    }),
    null,
    { reconnect: { baseDelay: 100, maxDelay: 100, random: () => 0 } },
    { controlFrames: true },
  );
  const c1 = await open(h);
  c1.remoteClose(1001, "going away");
  await until(() => calls.length === 2, "handleDisconnect");
  // Disconnected, the reconnect timer pending: the old connection keeps talking.
  c1.text("stale-1");
  c1.ping(bytes(1));
  c1.opened();
  c1.remoteClose(1000, "again");
  c1.error(new Error("late failure"));
  await settle();
  assert.deepEqual(calls, ["connect", "disconnect remote_close"]);
  h.clock.tick(51);
  const c2 = await h.connector.connection(2);
  // Connecting on the new connection.
  c1.text("stale-2");
  c1.opened();
  c1.error(new Error("late failure 2"));
  await settle();
  assert.equal(h.conn.state, "connecting");
  c2.opened();
  await until(() => calls.length === 3, "handleConnect");
  c1.text("stale-3");
  c1.ping(bytes(2));
  c1.remoteClose(1000, "");
  c2.text("fresh");
  await until(() => calls.length === 4, "handleFrame");
  await settle();
  assert.deepEqual(calls, ["connect", "disconnect remote_close", "connect", "frame fresh"]);
  assert.deepEqual(c2.sent, [], "no pong for the old connection's ping");
  assert.equal(h.conn.state, "connected");
});

// --- malformed frames and bad results (B6) ---

Deno.test("client: sendFrame({ type: 'text', data: 123 }) rejects with a TypeError and the client stays connected (B6)", async () => {
  await using h = await start(defineClient({}), null);
  const c = await open(h);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => h.conn.sendFrame({ type: "text", data: 123 } as any),
    (e) => e instanceof TypeError && /a text frame needs a string as data, got 123/.test(e.message),
  );
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => h.conn.sendFrame({ type: "nope" } as any),
    TypeError,
  );
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => h.conn.sendFrame(null as any), TypeError);
  await assert.rejects(
    () => h.conn.sendFrame({ type: "binary", data: "abc" as unknown as Uint8Array }),
    TypeError,
  );
  // deno-lint-ignore no-explicit-any
  h.conn.sendFrameAsync({ type: "text", data: 1 } as any);
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "warn" &&
      /Dropping frame from sendFrameAsync: Cannot send frame: a text frame needs a string/.test(
        m.message,
      )
    ),
  );
  await settle();
  assert.equal(h.conn.state, "connected");
  await h.conn.sendFrame(text("ok"));
  assert.deepEqual(c.sent, [text("ok")]);
});

Deno.test("client: an oversized control frame is a RangeError and the client stays connected", async () => {
  await using h = await start(defineClient({}), null, {}, { controlFrames: true });
  await open(h);
  await assert.rejects(
    () => h.conn.sendFrame({ type: "ping", data: new Uint8Array(126) }),
    (e) => e instanceof RangeError && /limited to 125 bytes, got 126/.test(e.message),
  );
  await h.conn.sendFrame({ type: "ping", data: new Uint8Array(125) });
  assert.equal(h.conn.state, "connected");
});

Deno.test("client: a push of { type: 'nope' } stops the client with a TypeError naming the callback", async () => {
  await using h = await start(
    // deno-lint-ignore no-explicit-any
    defineClient({ handleFrame: (_f, s: null) => push({ type: "nope" } as any, s) }),
    null,
  );
  const c = await open(h);
  c.text("go");
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "error");
  const error = (reason as { error: Error }).error;
  assert.ok(error instanceof TypeError);
  assert.match(
    error.message,
    /^handleFrame returned an invalid result: push got a bad frame: expected a frame type/,
  );
  assert.deepEqual(c.sent, []);
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "error" && /handleFrame returned an invalid result/.test(m.message)
    ),
  );
});

for (const cb of ["handleConnect", "handleFrame", "handleInfo", "handleDisconnect"] as const) {
  Deno.test(`client: ${cb} returning 42 stops the client with a TypeError naming ${cb}`, async () => {
    const bad = () => 42 as never;
    await using h = await start(defineClient({ [cb]: bad }), null);
    const c = await h.connector.connection(1);
    if (cb === "handleDisconnect") c.error(new Error("x"));
    else {
      c.opened();
      if (cb === "handleFrame") c.text("x");
      if (cb === "handleInfo") h.conn.info("x");
    }
    const reason = await h.conn.stopped;
    assert.equal(reason.kind, "error");
    const error = (reason as { error: Error }).error;
    assert.ok(error instanceof TypeError, String(error));
    assert.match(
      error.message,
      new RegExp(`^${cb} returned an invalid result: expected .* got 42$`),
    );
    assert.equal(h.conn.state, "stopped");
  });
}

Deno.test("client: a callback that throws stops the client with that error", async () => {
  const boom = new Error("boom in handleFrame");
  await using h = await start(
    defineClient({
      handleFrame: () => {
        throw boom;
      },
    }),
    null,
  );
  const c = await open(h);
  c.text("x");
  assert.deepEqual(await h.conn.stopped, { kind: "error", error: boom });
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
});

Deno.test("client: an async callback that rejects stops the client with that error", async () => {
  const boom = new Error("async boom");
  await using h = await start(
    defineClient({
      handleConnect: async () => {
        await Promise.resolve();
        throw boom;
      },
    }),
    null,
  );
  (await h.connector.connection(1)).opened();
  assert.deepEqual(await h.conn.stopped, { kind: "error", error: boom });
});

// --- serialization ---

Deno.test("client: async callbacks never interleave; events and sends wait their turn, in order", async () => {
  const gate = Promise.withResolvers<void>();
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const enter = async (what: string, wait: boolean) => {
    active++;
    maxActive = Math.max(maxActive, active);
    log.push(`start ${what}`);
    if (wait) await gate.promise;
    else await new Promise((r) => setTimeout(r, 1));
    log.push(`end ${what}`);
    active--;
  };
  await using h = await start(
    defineClient({
      handleFrame: async (f: ReceivedFrame, s: null) => {
        const data = f.type === "text" ? f.data : "?";
        await enter(data, data === "1");
        return ok(s);
      },
      handleInfo: async (m: unknown, s: null) => {
        await enter(`info ${m}`, false);
        return ok(s);
      },
    }),
    null,
  );
  const c = await open(h);
  c.text("1");
  await settle();
  c.text("2");
  h.conn.info("i");
  const sent = h.conn.sendFrame(text("during"));
  c.text("3");
  await settle();
  assert.deepEqual(log, ["start 1"]);
  assert.deepEqual(c.sent, [], "the send waits for the running callback");
  gate.resolve();
  await sent;
  await until(() => log.length === 8, "all callbacks");
  assert.deepEqual(log, [
    "start 1",
    "end 1",
    "start 2",
    "end 2",
    "start info i",
    "end info i",
    "start 3",
    "end 3",
  ]);
  assert.equal(maxActive, 1);
  assert.deepEqual(c.sent, [text("during")]);
});

// --- the queue while connecting ---

Deno.test("client: frames sent while connecting go out after handleConnect's push, in order", async () => {
  await using h = await start(
    defineClient({ handleConnect: (s: null) => push(text("hello"), s) }),
    null,
  );
  const a = h.conn.sendFrame(text("a"));
  h.conn.sendFrameAsync(text("b"));
  const cc = h.conn.sendFrame(text("c"));
  const c = await h.connector.connection(1);
  await settle();
  assert.equal(h.conn.state, "connecting");
  assert.deepEqual(c.sent, []);
  c.opened();
  await Promise.all([a, cc]);
  assert.deepEqual(c.sent, [text("hello"), text("a"), text("b"), text("c")]);
});

Deno.test("client: maxQueuedFrames 2 → the third sendFrame while connecting rejects with QueueFullError", async () => {
  await using h = await start(defineClient({}), null, { maxQueuedFrames: 2 });
  const a = h.conn.sendFrame(text("a"));
  const b = h.conn.sendFrame(text("b"));
  await assert.rejects(() => h.conn.sendFrame(text("c")), QueueFullError);
  h.conn.sendFrameAsync(text("d"));
  await settle();
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "warn" && /Dropping frame from sendFrameAsync: .*maxQueuedFrames/.test(m.message)
    ),
  );
  const c = await h.connector.connection(1);
  c.opened();
  await Promise.all([a, b]);
  assert.deepEqual(c.sent, [text("a"), text("b")]);
});

Deno.test("client: maxQueuedBytes counts UTF-8 payload bytes", async () => {
  await using h = await start(defineClient({}), null, { maxQueuedBytes: 5 });
  const a = h.conn.sendFrame(text("abc")); // 3 bytes
  await assert.rejects(
    () => h.conn.sendFrame(text("éé")), // 4 bytes: 7 > 5
    (e) => e instanceof QueueFullError && /maxQueuedBytes/.test(e.message),
  );
  const b = h.conn.sendFrame({ type: "binary", data: bytes(1, 2) }); // 2 bytes: 5
  await assert.rejects(() => h.conn.sendFrame(text("x")), QueueFullError);
  const c = await h.connector.connection(1);
  c.opened();
  await Promise.all([a, b]);
  assert.deepEqual(c.sent, [text("abc"), { type: "binary", data: bytes(1, 2) }]);
});

Deno.test("client: a queued sendFrame rejects with ConnectionError when connectTimeout fires", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    { connectTimeout: 1000 },
  );
  const p = h.conn.sendFrame(text("queued"));
  const c = await h.connector.connection(1);
  h.clock.tick(999);
  assert.equal(await isSettled(p), false);
  h.clock.tick(1);
  await assert.rejects(
    () => p,
    (e) =>
      e instanceof ConnectionError && e.reason.kind === "connect_timeout" &&
      e.reason.timeout === 1000,
  );
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "connect_timeout", timeout: 1000 }]);
  assert.equal(c.releases, 1);
  assert.deepEqual(c.sent, []);
  assert.equal(h.conn.state, "disconnected");
});

Deno.test("client: the connect timeout is cancelled once connected", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    { connectTimeout: 1000 },
  );
  await open(h);
  assert.equal(h.clock.countTimers(), 0);
  h.clock.tick(5000);
  await settle();
  assert.deepEqual(reasons, []);
  assert.equal(h.conn.state, "connected");
});

Deno.test("client: stop() rejects queued senders and connect() waiters with ClientStoppedError", async () => {
  await using h = await start(defineClient({}), null);
  const a = h.conn.sendFrame(text("a"));
  const b = h.conn.sendFrame(text("b"));
  const w = h.conn.connect();
  const c = await h.connector.connection(1);
  await settle();
  const reason = await h.conn.stop();
  assert.deepEqual(reason, { kind: "normal" });
  for (const p of [a, b, w]) {
    await assert.rejects(
      () => p,
      (e) => e instanceof ClientStoppedError && e.reason.kind === "normal",
    );
  }
  assert.deepEqual(c.sent, []);
  assert.equal(c.releases, 1);
});

Deno.test("client: stop(reason) rejects queued senders with that reason", async () => {
  await using h = await start(defineClient({}), null);
  const a = h.conn.sendFrame(text("a"));
  await h.connector.connection(1);
  assert.deepEqual(await h.conn.stop("shutdown"), { kind: "user", reason: "shutdown" });
  await assert.rejects(
    () => a,
    (e) => e instanceof ClientStoppedError && e.cause === "shutdown",
  );
});

Deno.test("client: operations after stop reject with ClientStoppedError", async () => {
  await using h = await start(defineClient({}), null);
  const c = await open(h);
  assert.deepEqual(await h.conn.stop(), { kind: "normal" });
  assert.equal(h.conn.state, "stopped");
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
  await assert.rejects(() => h.conn.sendFrame(text("x")), ClientStoppedError);
  await assert.rejects(() => h.conn.connect(), ClientStoppedError);
  await assert.rejects(() => h.conn.disconnect(), ClientStoppedError);
  h.conn.sendFrameAsync(text("x"));
  h.conn.info("ignored");
  assert.deepEqual(await h.conn.stop("again"), { kind: "normal" }, "the first reason stays");
  assert.deepEqual(c.sent, []);
  assert.deepEqual(c.afterEnd, []);
});

Deno.test("client: after stopping on its own, operations reject with the real stop reason", async () => {
  await using h = await start(defineClient({ handleConnect: (s: null) => stop("self", s) }), null);
  (await h.connector.connection(1)).opened();
  assert.deepEqual(await h.conn.stopped, { kind: "user", reason: "self" });
  await assert.rejects(
    () => h.conn.sendFrame(text("x")),
    (e) => e instanceof ClientStoppedError && e.reason.kind === "user",
  );
  assert.deepEqual(await h.conn.stop(), { kind: "user", reason: "self" });
});

Deno.test("client: stopped waits until the connection is released", async () => {
  await using h = await start(defineClient({}), null, {}, { holdDone: true });
  const c = await open(h);
  const stopped = h.conn.stop();
  assert.equal(await isSettled(stopped), false);
  assert.equal(h.conn.state, "stopped");
  c.releaseDone();
  assert.deepEqual(await stopped, { kind: "normal" });
});

// --- signal, dispose ---

Deno.test("client: aborting the signal option stops the client with { kind: 'aborted' }", async () => {
  const ac = new AbortController();
  await using h = await start(defineClient({}), null, { signal: ac.signal });
  const c = await open(h);
  const why = new Error("parent gone");
  ac.abort(why);
  const reason = await h.conn.stopped;
  assert.deepEqual(reason, { kind: "aborted", reason: why });
  assert.deepEqual(c.closes, [{ code: 1000, reason: "" }]);
});

Deno.test("client: await using stops the client at the end of the block", async () => {
  const connector = new ScriptedConnector({ onConnect: (c) => queueMicrotask(() => c.opened()) });
  const clock = FakeTimers.createClock();
  let handle: ClientHandle | undefined;
  {
    await using conn = await startClient({}, null, { url: URL, logger: recordingLogger() }, {
      connector,
      clock,
    });
    handle = conn;
    await until(() => conn.state === "connected", "connected");
  }
  assert.equal(handle.state, "stopped");
  assert.deepEqual(await handle.stopped, { kind: "normal" });
  assert.deepEqual(connector.last.closes, [{ code: 1000, reason: "" }]);
  clock.reset();
});

// --- reconnection and disconnect under fake time ---

Deno.test("client: reconnects after the backoff delay on the fake clock", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    { reconnect: { baseDelay: 100, maxDelay: 1000, random: () => 0 } },
  );
  const c1 = await open(h);
  c1.error(new Error("reset"));
  await until(() => reasons.length === 1, "handleDisconnect");
  h.clock.tick(50);
  await settle();
  assert.equal(h.connector.connections.length, 1);
  h.clock.tick(1);
  const c2 = await h.connector.connection(2);
  c2.error(new Error("refused"));
  await until(() => reasons.length === 2, "second handleDisconnect");
  h.clock.tick(100);
  await settle();
  assert.equal(h.connector.connections.length, 2);
  h.clock.tick(1); // second retry: 101 ms
  await h.connector.connection(3);
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "info" && /Reconnecting in 101 ms \(retry 2\)/.test(m.message)
    ),
  );
});

Deno.test("client: disconnect() closes with the code, resolves, and stops reconnection (B3)", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    { reconnect: { baseDelay: 10, random: () => 0 } },
  );
  const c = await open(h);
  await h.conn.disconnect({ code: 4000, reason: "maintenance" });
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "closed" }]);
  assert.deepEqual(c.closes, [{ code: 4000, reason: "maintenance" }]);
  assert.equal(h.clock.countTimers(), 0);
  h.clock.tick(60_000);
  await settle();
  assert.equal(h.connector.connections.length, 1);
  assert.equal(h.conn.state, "disconnected");
  // connect() brings it back.
  const back = h.conn.connect();
  (await h.connector.connection(2)).opened();
  await back;
  assert.equal(h.conn.state, "connected");
});

Deno.test("client: disconnect() refuses bad close codes and reasons", async () => {
  await using h = await start(defineClient({}), null);
  await open(h);
  await assert.rejects(() => h.conn.disconnect({ code: 1001 }), RangeError);
  await assert.rejects(() => h.conn.disconnect({ code: 5000 }), RangeError);
  await assert.rejects(() => h.conn.disconnect({ reason: "x".repeat(124) }), RangeError);
  assert.equal(h.conn.state, "connected");
});

Deno.test("client: handleDisconnect → reconnect without the option reconnects once; stayDisconnected stays", async () => {
  let n = 0;
  await using h = await start(
    defineClient({
      handleDisconnect: (_r, s: null) => (++n === 1 ? reconnect(s) : stayDisconnected(s)),
    }),
    null,
  );
  const c1 = await open(h);
  c1.remoteClose(1001, "");
  await until(() => n === 1, "first handleDisconnect");
  h.clock.tick(1000); // the default first delay is at most 1000 ms
  const c2 = await h.connector.connection(2);
  c2.error(new Error("x"));
  await until(() => n === 2, "second handleDisconnect");
  h.clock.tick(60_000);
  await settle();
  assert.equal(h.connector.connections.length, 2);
});

Deno.test("client: maxRetries exhaustion stops with max_retries_exceeded", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await start(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    { reconnect: { baseDelay: 10, maxDelay: 10, maxRetries: 2, random: () => 0 } },
    { onConnect: (c) => queueMicrotask(() => c.error(new Error(`refused #${c.id}`))) },
  );
  for (let i = 0; i < 3 && h.conn.state !== "stopped"; i++) {
    await until(() => reasons.length === i + 1, `handleDisconnect ${i + 1}`);
    h.clock.tick(10);
  }
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "max_retries_exceeded");
  const r = reason as Extract<StopReason, { kind: "max_retries_exceeded" }>;
  assert.equal(r.retries, 2);
  assert.equal(r.lastReason.kind === "error" && r.lastReason.error.message, "refused #3");
  assert.equal(reasons.length, 3);
  assert.equal(h.connector.connections.length, 3);
});

// --- init ---

Deno.test("client: init → stop rejects start with ClientStoppedError and connects nothing", async () => {
  const connector = new ScriptedConnector();
  await assert.rejects(
    () =>
      startClient(defineClient({ init: () => stop("no token") }).callbacks, null, {
        url: URL,
        name: "init-refused",
        logger: recordingLogger(),
      }, { connector }),
    (e) => e instanceof ClientStoppedError && e.cause === "no token",
  );
  await settle();
  assert.equal(connector.connections.length, 0);
  assert.equal(whereis("init-refused"), undefined);
});

Deno.test("client: init returning a bad value rejects start with a TypeError naming init", async () => {
  const connector = new ScriptedConnector();
  await assert.rejects(
    () =>
      startClient({ init: () => 42 }, null, { url: URL, logger: recordingLogger() }, { connector }),
    (e) => e instanceof TypeError && /^init returned an invalid result/.test(e.message),
  );
  assert.equal(connector.connections.length, 0);
});

// --- names ---

const GLOBAL = Symbol.for("@parley/client.globalRegistry");
const globalMap = () => (globalThis as unknown as Record<symbol, Map<string, unknown>>)[GLOBAL];

Deno.test("client: a local name is registered, taken once, and released after stop", async () => {
  await using h = await start(defineClient({}), null, { name: "local-1" });
  assert.equal(whereis("local-1"), h.conn);
  assert.equal(h.conn.name, "local-1");
  const second = new ScriptedConnector();
  await assert.rejects(
    () =>
      startClient({}, null, { url: URL, name: "local-1", logger: recordingLogger() }, {
        connector: second,
      }),
    (e) => e instanceof NameTakenError && e.existing === h.conn,
  );
  assert.equal(second.connections.length, 0);
  await h.conn.stop();
  assert.equal(whereis("local-1"), undefined);
});

Deno.test("client: a symbol name works like a local name", async () => {
  const name = Symbol("sym-client");
  await using h = await start(defineClient({}), null, { name });
  assert.equal(whereis(name), h.conn);
  await h.conn.stop();
  assert.equal(whereis(name), undefined);
});

Deno.test("client: a { global } name is shared through globalThis[Symbol.for(...)] and released after stop", async () => {
  await using h = await start(defineClient({}), null, { name: { global: "global-1" } });
  assert.equal(globalMap().get("global-1"), h.conn);
  assert.equal(whereis({ global: "global-1" }), h.conn);
  assert.equal(whereis("global-1"), undefined, "global and local names are apart");
  await h.conn.stop();
  assert.equal(globalMap().has("global-1"), false);
  assert.equal(whereis({ global: "global-1" }), undefined);
});

Deno.test("client: a { via, key } name uses the given registry and is released after stop", async () => {
  const map = new Map<unknown, unknown>();
  const calls: string[] = [];
  const registry: NameRegistry = {
    register: (key, client) => {
      calls.push(`register ${String(key)}`);
      if (map.has(key)) return false;
      map.set(key, client);
      return true;
    },
    unregister: (key) => {
      calls.push(`unregister ${String(key)}`);
      map.delete(key);
    },
    whereis: (key) => map.get(key),
  };
  const key = { room: 7 };
  await using h = await start(defineClient({}), null, { name: { via: registry, key } });
  assert.equal(map.get(key), h.conn);
  assert.equal(whereis({ via: registry, key }), h.conn);
  await assert.rejects(
    () =>
      startClient({}, null, { url: URL, name: { via: registry, key }, logger: recordingLogger() }, {
        connector: new ScriptedConnector(),
      }),
    NameTakenError,
  );
  await h.conn.stop();
  assert.equal(map.size, 0);
  assert.deepEqual(calls, [
    "register [object Object]",
    "register [object Object]",
    "unregister [object Object]",
  ]);
});

Deno.test("client: module-level functions reach a client by name", async () => {
  const infos: unknown[] = [];
  await using h = await start(
    defineClient({ handleInfo: (m: unknown, _s: null) => void infos.push(m) }),
    null,
    { name: "by-name" },
  );
  const c = await open(h);
  assert.equal(whereis("by-name"), h.conn);
  await sendFrame("by-name", text("one"));
  assert.equal(sendFrameAsync("by-name", text("two")), true);
  assert.equal(sendInfo("by-name", "hi"), true);
  await until(() => infos.length === 1 && c.sent.length === 2, "info and frames");
  assert.deepEqual(c.sent, [text("one"), text("two")]);
  await disconnectClient("by-name", { code: 4001, reason: "bye" });
  assert.deepEqual(c.closes, [{ code: 4001, reason: "bye" }]);
  const back = connectClient("by-name");
  (await h.connector.connection(2)).opened();
  await back;
  assert.deepEqual(await stopClient("by-name", "done"), { kind: "user", reason: "done" });
  assert.equal(whereis("by-name"), undefined);
  await assert.rejects(() => sendFrame("by-name", text("late")), NoSuchClientError);
  // By handle too.
  await assert.rejects(() => sendFrame(h.conn, text("late")), ClientStoppedError);
});

Deno.test("client: unknown names give NoSuchClientError (or false for fire-and-forget)", async () => {
  await assert.rejects(() => sendFrame("nobody", text("x")), NoSuchClientError);
  await assert.rejects(() => disconnectClient("nobody"), NoSuchClientError);
  await assert.rejects(() => stopClient("nobody"), NoSuchClientError);
  await assert.rejects(() => connectClient({ global: "nobody" }), NoSuchClientError);
  await assert.rejects(
    () => sendFrame("nobody", text("x")),
    (e) => e instanceof NoSuchClientError && /"nobody"/.test(e.message),
  );
  assert.equal(sendFrameAsync("nobody", text("x")), false);
  assert.equal(sendInfo("nobody", 1), false);
  assert.equal(whereis("nobody"), undefined);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => whereis(42 as any),
    /^TypeError: Cannot look up a client as the name must be a non-empty string, .*, got 42$/,
  );
});

// --- robustness ---

Deno.test({
  name:
    "client: a logger method that throws leaves the client consistent (stopped or still working)",

  fn: async () => {
    const connector = new ScriptedConnector();
    const clock = FakeTimers.createClock();
    const logger = {
      ...recordingLogger(),
      debug() {
        throw new Error("logger broke");
      },
    };
    const conn = await startClient({}, null, {
      url: URL,
      logger,
      reconnect: true,
      name: "throwing-logger",
    }, { connector, clock });
    try {
      (await connector.connection(1)).opened();
      await until(() => conn.state === "connected", "connected");
      connector.last.error(new Error("reset")); // handleDisconnect → arm a retry → log debug
      await settle();
      const stopped = await isSettled(conn.stopped);
      assert.equal(conn.state === "stopped", stopped, "state and stopped agree");
      assert.equal(await isSettled(conn.sendFrame(text("x"))), true, "sendFrame settles");
      if (stopped) {
        assert.equal(whereis("throwing-logger"), undefined, "the name is released");
        assert.equal(clock.countTimers(), 0, "no timer is left armed");
      }
    } finally {
      await Promise.race([conn.stop(), settle()]);
      clock.reset();
    }
  },
});

Deno.test({
  name: "client: stopped waits for an earlier connection that the server closed",
  fn: async () => {
    await using h = await start(defineClient({}), null, {}, { holdDone: true });
    const c1 = await open(h);
    c1.remoteClose(1001, "restart");
    await until(() => h.conn.state === "disconnected", "disconnected");
    const back = h.conn.connect();
    const c2 = await h.connector.connection(2);
    c2.opened();
    await back;
    const stopped = h.conn.stop();
    c2.releaseDone();
    const early = await isSettled(stopped);
    c1.releaseDone();
    await stopped;
    assert.equal(early, false, "stopped settled while connection 1 still held resources");
  },
});
