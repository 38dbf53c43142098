// Reconnecting against real servers on loopback: the reconnect option and handleDisconnect's
// reconnect/stayDisconnected/ok results, the backoff schedule, maxRetries, the retry counter, and
// disconnect()/connect() around a pending reconnect. The first part is ported from the Elixir
// library's test/parley/reconnection_test.exs (the comment above each test names the test it
// comes from); the second checks where this library decides differently.
//
// Tests that must not wait for the default backoff (501-1000 ms and up) drive the reconnect
// timer with a fake clock through `startClient(..., { clock })`; the servers stay real.

import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import {
  type ClientHandle,
  defineClient,
  DisconnectedError,
  type DisconnectReason,
  type DisconnectResult,
  ok,
  reconnect,
  stayDisconnected,
  type StopReason,
} from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import {
  Recorder,
  recordingCallbacks,
  recordingLogger,
  scheduledReconnects,
  sleep,
  within,
} from "../support/recorder.ts";
import { freePort, startSilentServer, startWsServer, type TestServer } from "../support/servers.ts";

type Log = ReturnType<typeof recordingLogger>;
type Decide = (reason: DisconnectReason, state: null) => DisconnectResult<null>;

/** Recording callbacks (see recordingCallbacks) whose `decide` answers disconnects. */
const recording = (rec: Recorder, decide?: Decide) =>
  recordingCallbacks<null>(rec, decide ? { handleDisconnect: decide } : {});

function reasonOf(event: { value?: unknown }): DisconnectReason {
  return event.value as DisconnectReason;
}

async function echoes(conn: ClientHandle<null> | ClientHandle, rec: Recorder, text: string) {
  await conn.sendFrame({ type: "text", data: text });
  assert.deepEqual((await rec.next("frame")).value, { type: "text", data: text });
}

function assertMaxRetries(reason: StopReason, retries: number): DisconnectReason {
  assert.equal(reason.kind, "max_retries_exceeded");
  if (reason.kind !== "max_retries_exceeded") throw new Error("unreachable");
  assert.equal(reason.retries, retries);
  return reason.lastReason;
}

// --- Reconnecting ----------------------------------------------------------------------------

// reconnection_test.exs:17
Deno.test("reconnects after the server dies and is restarted on the same port; frames flow", async () => {
  await using servers = new AsyncDisposableStack();
  let server: TestServer = servers.use(await startWsServer());
  const port = server.port;
  const rec = new Recorder();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 50, maxDelay: 200 },
    logger: recordingLogger(),
  });
  await rec.next("connected");
  await echoes(conn, rec, "before");
  server.dropAll(); // dies: no close frame
  await server.close();
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  // At least one retry fails against the dead port, and goes through handleDisconnect too.
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  server = servers.use(await startWsServer(port));
  await rec.next("connected", 2000);
  assert.equal(conn.state, "connected");
  await echoes(conn, rec, "after");
});

// reconnection_test.exs:76. Differs from the Elixir library on purpose: the stop reason holds the
// retries and the last disconnect reason.
Deno.test("backoff delays do not shrink, then the client stops with max_retries_exceeded", async () => {
  const port = await freePort();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: `ws://127.0.0.1:${port}/ws`,
    reconnect: { baseDelay: 50, maxDelay: 400, maxRetries: 4 },
    logger: log,
  });
  const reason = await within(conn.stopped, 3000, "stop after 4 retries");
  assert.equal(assertMaxRetries(reason, 4).kind, "error");
  assert.equal(conn.state, "stopped");
  const times = rec.all("disconnected").map((e) => e.at);
  assert.equal(times.length, 5, "handleDisconnect runs maxRetries + 1 times");
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(gaps.at(-1)! >= gaps[0], `gaps shrank: ${gaps.map(Math.round).join(", ")} ms`);
  // The delays drawn: attempt n lies in [D/2 + 1, D] with D = min(50 * 2^n, 400).
  const delays = scheduledReconnects(log);
  assert.deepEqual(delays.map((d) => d.retry), [1, 2, 3, 4]);
  delays.forEach(({ delay }, n) => {
    const ceiling = Math.min(50 * 2 ** n, 400);
    assert.ok(delay > ceiling / 2 && delay <= ceiling, `attempt ${n}: ${delay} ms`);
  });
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i].delay >= delays[i - 1].delay);
});

// reconnection_test.exs:118. Differs from the Elixir library on purpose: maxRetries counts retries
// exactly (one handleDisconnect for the first failure, one per retry).
Deno.test("maxRetries 3: exactly 4 handleDisconnect calls, then max_retries_exceeded", async () => {
  const port = await freePort();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: `ws://127.0.0.1:${port}/ws`,
    reconnect: { baseDelay: 20, maxDelay: 50, maxRetries: 3 },
    logger: log,
  });
  const reason = await within(conn.stopped, 3000, "stop after 3 retries");
  const last = assertMaxRetries(reason, 3);
  assert.equal(last.kind, "error");
  const calls = rec.all("disconnected");
  assert.equal(calls.length, 4);
  for (const call of calls) assert.equal(reasonOf(call).kind, "error");
  assert.equal(reasonOf(calls[3]), last, "lastReason is the last handleDisconnect's reason");
  assert.equal(scheduledReconnects(log).length, 3);
  assert.ok(log.messages.some((m) => m.level === "error" && /gave up after 3/.test(m.message)));
});

// reconnection_test.exs:147
Deno.test("stayDisconnected from handleDisconnect suppresses reconnection even with the option on", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec, (_r, s) => stayDisconnected(s))).start(
    null,
    {
      url: server.url(),
      reconnect: { baseDelay: 20, maxDelay: 50 },
      logger: log,
    },
  );
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  assert.deepEqual(reasonOf(await rec.next("disconnected")), {
    kind: "remote_close",
    code: 1000,
    reason: "normal closure",
  });
  await rec.none("connected", 300);
  assert.equal(conn.state, "disconnected");
  assert.equal(server.requests.length, 1);
  assert.deepEqual(scheduledReconnects(log), []);
});

// reconnection_test.exs:186
Deno.test("reconnect(state) without the option reconnects with the default backoff once the server is back (fake clock)", async () => {
  const clock = FakeTimers.createClock();
  await using servers = new AsyncDisposableStack();
  let server: TestServer = servers.use(await startWsServer());
  const port = server.port;
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recording(rec, (_r, s) => reconnect(s)),
    null,
    { url: server.url(), logger: log },
    { clock },
  );
  await rec.next("connected");
  await server.close(); // 1001 "going away", then nothing listens
  assert.deepEqual(reasonOf(await rec.next("disconnected")), {
    kind: "remote_close",
    code: 1001,
    reason: "going away",
  });
  const [first] = scheduledReconnects(log);
  assert.equal(first.retry, 1);
  assert.ok(first.delay >= 501 && first.delay <= 1000, `default first delay ${first.delay}`);
  server = servers.use(await startWsServer(port));
  await clock.tickAsync(first.delay - 1);
  await sleep(50);
  assert.equal(server.requests.length, 0, "no attempt before the delay is up");
  assert.equal(conn.state, "disconnected");
  await clock.tickAsync(1);
  await rec.next("connected");
  assert.equal(server.requests.length, 1);
  await echoes(conn, rec, "back");
});

// reconnection_test.exs:242
Deno.test("ok(state) with the option on reconnects", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 20, maxDelay: 50 },
    logger: recordingLogger(),
  });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "remote_close");
  await rec.next("connected", 1000);
  assert.equal(server.requests.length, 2);
  await echoes(conn, rec, "again");
});

// reconnection_test.exs:291
Deno.test("ok(state) without the option stays disconnected, alive", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    logger: log,
  });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "remote_close");
  await rec.none("connected", 300);
  assert.equal(conn.state, "disconnected");
  assert.equal(server.requests.length, 1);
  assert.deepEqual(scheduledReconnects(log), []);
});

// reconnection_test.exs:329
Deno.test("disconnect() while disconnected cancels the pending reconnect; alive", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 200, maxDelay: 200 }, // first delay 101-200 ms
    logger: log,
  });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  await rec.next("disconnected");
  assert.equal(scheduledReconnects(log).length, 1, "a reconnect is pending");
  await conn.disconnect();
  await rec.none("connected", 300);
  assert.equal(conn.state, "disconnected");
  assert.equal(server.requests.length, 1);
  assert.equal(
    rec.all("disconnected").length,
    1,
    "disconnect() while disconnected runs no callback",
  );
});

// reconnection_test.exs:369
Deno.test("the first connect fails (nothing listens) and a retry succeeds once a server starts on that port", async () => {
  const port = await freePort();
  const rec = new Recorder();
  await using servers = new AsyncDisposableStack();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: `ws://127.0.0.1:${port}/ws`,
    reconnect: { baseDelay: 50, maxDelay: 200 },
    logger: recordingLogger(),
  });
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  servers.use(await startWsServer(port));
  await rec.next("connected", 2000);
  await echoes(conn, rec, "late server");
});

// reconnection_test.exs:426
Deno.test("with minUptime 0, the retry counter resets after a successful reconnect", async () => {
  await using servers = new AsyncDisposableStack();
  let server: TestServer = servers.use(await startWsServer());
  const port = server.port;
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 50, maxDelay: 200, minUptime: 0 },
    logger: log,
  });
  await rec.next("connected");
  // Outage 1: the server goes away long enough for two retries to fail.
  await server.close();
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "remote_close");
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  server = servers.use(await startWsServer(port));
  await rec.next("connected", 2000);
  const before = scheduledReconnects(log);
  assert.ok(before.at(-1)!.retry >= 3, `retries during outage 1: ${before.length}`);
  // Outage 2: the first retry is attempt 0 again (26-50 ms), not attempt 3+ (101-200 ms).
  await conn.sendFrame({ type: "text", data: "close" });
  const down = await rec.next("disconnected");
  const up = await rec.next("connected", 1000);
  assert.ok(up.at - down.at < 1000);
  const after = scheduledReconnects(log).slice(before.length);
  assert.equal(after.length, 1);
  assert.equal(after[0].retry, 1);
  assert.ok(after[0].delay >= 26 && after[0].delay <= 50, `first delay ${after[0].delay}`);
});

// reconnection_test.exs:495
Deno.test("reconnect(state) without the option keeps retrying at the default backoff after the server dies; alive (fake clock)", async () => {
  const clock = FakeTimers.createClock();
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recording(rec, (_r, s) => reconnect(s)),
    null,
    { url: server.url(), logger: log },
    { clock },
  );
  await rec.next("connected");
  server.dropAll();
  await server.close();
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
  // Three failed retries at the default backoff: 501-1000, 1001-2000, 2001-4000 ms.
  for (let n = 0; n < 3; n++) {
    const next = scheduledReconnects(log)[n];
    assert.equal(next.retry, n + 1);
    const ceiling = 1000 * 2 ** n;
    assert.ok(next.delay > ceiling / 2 && next.delay <= ceiling, `attempt ${n}: ${next.delay}`);
    await clock.tickAsync(next.delay);
    assert.equal(reasonOf(await rec.next("disconnected", 3000)).kind, "error");
  }
  assert.equal(conn.state, "disconnected");
  assert.equal(scheduledReconnects(log).length, 4, "still retrying (maxRetries Infinity)");
});

// --- Decisions of this library (the Elixir library behaves differently or leaves it open) -----

for (
  const [label, random, expected] of [
    ["random () => 0", () => 0, [51, 101, 201, 401, 501, 501, 501]],
    ["random () => 0.999", () => 0.999, [100, 200, 400, 800, 1000, 1000, 1000]],
  ] as const
) {
  Deno.test(`backoff schedule, baseDelay 100, maxDelay 1000, ${label}: exact delays for attempts 0-6 (fake clock)`, async () => {
    const clock = FakeTimers.createClock();
    await using server = await startWsServer(); // /reject answers 403: every attempt fails, and is seen
    const rec = new Recorder();
    const log = recordingLogger();
    await using _conn = await startClient(
      recording(rec),
      null,
      {
        url: server.url("/reject"),
        reconnect: { baseDelay: 100, maxDelay: 1000, random },
        logger: log,
      },
      { clock },
    );
    assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
    for (const [attempt, delay] of expected.entries()) {
      assert.equal(server.requests.length, attempt + 1);
      await clock.tickAsync(delay - 1);
      await sleep(30);
      assert.equal(server.requests.length, attempt + 1, `attempt ${attempt} before ${delay} ms`);
      await clock.tickAsync(1);
      assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
      assert.equal(server.requests.length, attempt + 2);
    }
    assert.deepEqual(
      scheduledReconnects(log).slice(0, expected.length),
      expected.map((delay, i) => ({ delay, retry: i + 1 })),
    );
  });
}

for (const stable of [true, false]) {
  Deno.test(
    `minUptime: a connection that stays up ${
      stable
        ? "500 ms resets the retry counter"
        : "less than 500 ms keeps it counting (accept-and-drop backs off)"
    } (fake clock)`,
    async () => {
      const clock = FakeTimers.createClock();
      await using servers = new AsyncDisposableStack();
      let server: TestServer = servers.use(await startWsServer());
      const port = server.port;
      const rec = new Recorder();
      const log = recordingLogger();
      await using conn = await startClient(
        recording(rec),
        null,
        {
          url: server.url(),
          reconnect: { baseDelay: 100, maxDelay: 1000, random: () => 0, minUptime: 500 },
          logger: log,
        },
        { clock },
      );
      await rec.next("connected");
      await clock.tickAsync(500); // the first connection is stable
      await server.close();
      await rec.next("disconnected"); // retry 1 in 51 ms
      await clock.tickAsync(51);
      await rec.next("disconnected"); // refused; retry 2 in 101 ms
      await clock.tickAsync(101);
      await rec.next("disconnected"); // refused; retry 3 in 201 ms
      server = servers.use(await startWsServer(port));
      await clock.tickAsync(201);
      await rec.next("connected");
      if (stable) await clock.tickAsync(500);
      else await clock.tickAsync(499);
      await conn.sendFrame({ type: "text", data: "close" });
      assert.equal(reasonOf(await rec.next("disconnected")).kind, "remote_close");
      assert.deepEqual(scheduledReconnects(log), [
        { delay: 51, retry: 1 },
        { delay: 101, retry: 2 },
        { delay: 201, retry: 3 },
        stable ? { delay: 51, retry: 1 } : { delay: 401, retry: 4 },
      ]);
      await clock.tickAsync(stable ? 51 : 401);
      await rec.next("connected");
    },
  );
}

// The Elixir library reconnects after disconnect() when the option is on.
Deno.test("disconnect() with reconnect on does not reconnect, connect() does", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 20, maxDelay: 50 },
    logger: log,
  });
  await rec.next("connected");
  await conn.disconnect();
  assert.deepEqual(reasonOf(await rec.next("disconnected")), { kind: "closed" });
  await rec.none("connected", 300);
  assert.equal(conn.state, "disconnected");
  assert.equal(server.requests.length, 1);
  assert.deepEqual(scheduledReconnects(log), []);
  await conn.connect();
  assert.equal(conn.state, "connected");
  await rec.next("connected");
  await echoes(conn, rec, "reconnected by hand");
  // connect() clears the hold: a later outage reconnects on its own again.
  await conn.sendFrame({ type: "text", data: "close" });
  assert.equal(reasonOf(await rec.next("disconnected")).kind, "remote_close");
  await rec.next("connected", 1000);
  assert.equal(server.requests.length, 3);
});

Deno.test("after disconnect(), an explicit reconnect(state) from handleDisconnect does reconnect", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  let forced = 0;
  await using conn = await defineClient(recording(rec, (reason, s) => {
    if (reason.kind === "closed" && forced++ === 0) return reconnect(s);
    return ok(s);
  })).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 20, maxDelay: 50 },
    logger: recordingLogger(),
  });
  await rec.next("connected");
  await conn.disconnect();
  assert.deepEqual(reasonOf(await rec.next("disconnected")), { kind: "closed" });
  await rec.next("connected", 1000);
  assert.equal(server.requests.length, 2);
});

for (const kind of ["refused TCP", "HTTP 403"] as const) {
  // The Elixir library stops after a failed first connect without the reconnect option.
  Deno.test(`a failed first connect (${kind}) with reconnect off goes through handleDisconnect and the client stays alive`, async () => {
    const port = await freePort();
    await using servers = new AsyncDisposableStack();
    let server: TestServer | undefined = kind === "HTTP 403"
      ? servers.use(await startWsServer())
      : undefined;
    const rec = new Recorder();
    await using conn = await defineClient(recording(rec)).start(null, {
      url: server ? server.url("/reject") : `ws://127.0.0.1:${port}/ws`,
      logger: recordingLogger(),
    });
    assert.equal(reasonOf(await rec.next("disconnected")).kind, "error");
    await rec.none("disconnected", 100);
    assert.equal(conn.state, "disconnected");
    await assert.rejects(conn.sendFrame({ type: "text", data: "nobody" }), DisconnectedError);
    if (server === undefined) {
      // The client is still usable: connect() once a server listens.
      server = servers.use(await startWsServer(port));
      await conn.connect();
      await rec.next("connected");
      await echoes(conn, rec, "alive");
    } else {
      assert.equal(server.requests.length, 1);
    }
  });
}

// The Elixir library reconnects after disconnect() when the option is on.
Deno.test("disconnect() while connecting with reconnect on does not reconnect either", async () => {
  await using silent = await startSilentServer(); // accepts TCP, never answers the upgrade
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: silent.url(),
    reconnect: { baseDelay: 20, maxDelay: 50 },
    logger: log,
  });
  await sleep(50);
  assert.equal(conn.state, "connecting");
  await conn.disconnect();
  assert.deepEqual(reasonOf(await rec.next("disconnected")), { kind: "closed" });
  await rec.none("disconnected", 200);
  assert.equal(conn.state, "disconnected");
  assert.deepEqual(scheduledReconnects(log), []);
});

Deno.test("maxRetries 0 stops right after the first handleDisconnect", async () => {
  const port = await freePort();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: `ws://127.0.0.1:${port}/ws`,
    reconnect: { baseDelay: 20, maxDelay: 50, maxRetries: 0 },
    logger: log,
  });
  const reason = await within(conn.stopped, 2000, "stop");
  assert.equal(assertMaxRetries(reason, 0).kind, "error");
  assert.equal(rec.all("disconnected").length, 1);
  assert.deepEqual(scheduledReconnects(log), []);
});

Deno.test("maxRetries 0 after a connection was up: stops with that connection's end as lastReason", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recording(rec)).start(null, {
    url: server.url(),
    reconnect: { baseDelay: 20, maxDelay: 50, maxRetries: 0 },
    logger: recordingLogger(),
  });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  const reason = await within(conn.stopped, 2000, "stop");
  assert.deepEqual(assertMaxRetries(reason, 0), {
    kind: "remote_close",
    code: 1000,
    reason: "normal closure",
  });
  assert.equal(rec.all("disconnected").length, 1);
});

Deno.test("a forced reconnect is one decision: ok(state) on the next failure stays disconnected (fake clock)", async () => {
  const clock = FakeTimers.createClock();
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  let calls = 0;
  await using conn = await startClient(
    recording(rec, (_r, s) => calls++ === 0 ? reconnect(s) : ok(s)),
    null,
    { url: server.url("/reject"), logger: log },
    { clock },
  );
  await rec.next("disconnected");
  const [first] = scheduledReconnects(log);
  await clock.tickAsync(first.delay);
  await rec.next("disconnected");
  await clock.tickAsync(60_000);
  await rec.none("disconnected", 100);
  assert.equal(server.requests.length, 2);
  assert.equal(scheduledReconnects(log).length, 1);
  assert.equal(conn.state, "disconnected");
});

// The Elixir library's reconnect timer is a plain message any process can send.
Deno.test("the reconnect timer is private: info() cannot trigger it, and a cancelled timer stays dead (fake clock)", async () => {
  const clock = FakeTimers.createClock();
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recording(rec),
    null,
    {
      url: server.url(),
      reconnect: { baseDelay: 100, maxDelay: 100, random: () => 0 }, // always 51 ms
      logger: log,
    },
    { clock },
  );
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  await rec.next("disconnected");
  // Forged timer messages in every shape the Elixir library or the machine might know.
  const forged = ["reconnect", ":reconnect", { type: "timer", token: 1 }, { type: "connect" }];
  for (const message of forged) conn.info(message);
  for (const message of forged) assert.deepEqual((await rec.next("info")).value, message);
  await sleep(50);
  assert.equal(server.requests.length, 1, "no attempt from a forged message");
  assert.equal(conn.state, "disconnected");
  // The real timer still fires, once.
  await clock.tickAsync(51);
  await rec.next("connected");
  assert.equal(server.requests.length, 2);
  // A pending timer cancelled by connect() never fires later.
  await conn.sendFrame({ type: "text", data: "close" });
  await rec.next("disconnected");
  await conn.connect();
  await rec.next("connected");
  await clock.tickAsync(10_000);
  await rec.none("connected", 100);
  assert.equal(server.requests.length, 3);
  assert.equal(conn.state, "connected");
});
