// A client's life against real servers on loopback, on both transports: connecting, disconnect(),
// the ways a connection ends from the server's side (a close, going away, a dropped TCP
// connection) and the ways a connect fails (refused, unreachable, garbage, no answer), after
// each of which the client stays alive. Ported from the Elixir library's test/parley_test.exs
// (the comment above each test names the test it comes from).

import assert from "node:assert/strict";
import { ConnectionError, defineClient, DisconnectedError, HandshakeError, ok } from "../../mod.ts";
import { recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { nextDisconnect, Recorder, waitFor } from "../support/recorder.ts";
import {
  freePort,
  startDenoServer,
  startGarbageServer,
  startSilentServer,
  startWsServer,
  type TestServer,
} from "../support/servers.ts";

const SERVERS = [["npm:ws", startWsServer], ["Deno.serve", startDenoServer]] as const;

// ---------------------------------------------------------------------------------------------
// Connecting

// parley_test.exs:17
testEachTransport("handleConnect runs after a successful connect", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start("s", { url: server.url() });
  const { value, state } = await rec.next("connected");
  const info = value as { url: string; protocol: string };
  assert.equal(state, "s");
  assert.equal(info.url, server.url());
  assert.equal(info.protocol, "");
  assert.equal(conn.state, "connected");
  assert.equal(server.openCount(), 1);
});

// parley_test.exs:276
testEachTransport("a custom initial state reaches the callbacks", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const initial = { user: "ada", count: 7 };
  const seen: unknown[] = [];
  await using conn = await recordingClient(rec, {
    handleFrame: (_frame, state) => {
      seen.push(state);
      return ok(state);
    },
  }).start(initial, { url: server.url() });
  const { state } = await rec.next("connected");
  assert.equal(state, initial);
  await conn.sendFrame(text("x"));
  await rec.next("frame");
  assert.equal(seen[0], initial);
});

// ---------------------------------------------------------------------------------------------
// disconnect()

// parley_test.exs:123
testEachTransport("disconnect() while connected leads to handleDisconnect(closed)", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.disconnect();
  assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
  assert.equal(conn.state, "disconnected");
  await waitFor(() => server.closes.length === 1, "the server to see the close");
  assert.deepEqual(server.closes, [{ code: 1000, reason: "" }]);
});

// parley_test.exs:131
testEachTransport("after disconnect, sendFrame rejects with DisconnectedError", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.disconnect();
  await rec.next("disconnected");
  await assert.rejects(conn.sendFrame(text("late")), DisconnectedError);
  assert.deepEqual(server.received, []);
});

// parley_test.exs:141
testEachTransport("disconnect() while already disconnected resolves, no new callback", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.disconnect();
  await rec.next("disconnected");
  assert.equal(await conn.disconnect(), undefined);
  await rec.none("disconnected", 100);
  assert.equal(conn.state, "disconnected");
});

// parley_test.exs:959
testEachTransport(
  "disconnect() while connecting resolves, then handleDisconnect(closed); alive",
  async () => {
    await using server = await startSilentServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 2000,
      closeTimeout: 200,
    });
    await waitFor(() => conn.state === "connecting", "the client to be connecting");
    assert.equal(await conn.disconnect(), undefined);
    assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
    assert.equal(conn.state, "disconnected");
    // No reconnect, no connect_timeout later from the dropped attempt.
    await rec.none("disconnected", 100);
    assert.equal(conn.state, "disconnected");
  },
);

// ---------------------------------------------------------------------------------------------
// Ends from the server's side and failed connects

// parley_test.exs:160
testEachTransport(
  "stopping the server gives handleDisconnect(remote_close); the client stays alive",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await server.close();
    assert.deepEqual(await nextDisconnect(rec), {
      kind: "remote_close",
      code: 1001,
      reason: "going away",
    });
    assert.equal(conn.state, "disconnected");
  },
);

// parley_test.exs:175
testEachTransport("a server-initiated close gives remote_close 1000 'normal closure'", async () => {
  for (const [label, start] of SERVERS) {
    await using server: TestServer = await start();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await conn.sendFrame(text("close"));
    assert.deepEqual(
      await nextDisconnect(rec),
      { kind: "remote_close", code: 1000, reason: "normal closure" },
      label,
    );
    assert.equal(conn.state, "disconnected", label);
  }
});

// parley_test.exs:185
testEachTransport(
  "a 403 on the upgrade gives handleDisconnect(error); the client stays alive",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url("/reject") });
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    // The web transport leaves `status` unset; the runtime's message carries the code.
    assert.match(reason.error.message, /403/);
    assert.equal(conn.state, "disconnected");
    assert.equal(rec.all("connected").length, 0);
    assert.equal(server.requests.length, 1);
  },
);

// parley_test.exs:196
testEachTransport(
  "garbage HTTP while connecting gives handleDisconnect(error); alive",
  async () => {
    await using server = await startGarbageServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 2000,
    });
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    assert.equal(conn.state, "disconnected");
  },
);

// parley_test.exs:223
testEachTransport(
  "the server dropping TCP without a close frame gives handleDisconnect(error); alive",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await conn.sendFrame(text("crash"));
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && /1006|lost/.test(reason.error.message));
    assert.equal(conn.state, "disconnected");
  },
);

// parley_test.exs:153. Differs from the Elixir library on purpose: the client stays alive after a
// failed connect.
testEachTransport(
  "unreachable host: handleDisconnect(error), the client stays alive and connect() rejects",
  async () => {
    const port = await freePort();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: `ws://127.0.0.1:${port}/ws`,
      connectTimeout: 2000,
    });
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof Error);
    assert.equal(conn.state, "disconnected");
    // No automatic retry without the reconnect option.
    await rec.none("disconnected", 100);
    assert.equal(conn.state, "disconnected");
    const err = await conn.connect().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.reason.kind, "error");
    assert.equal((await nextDisconnect(rec)).kind, "error");
    assert.equal(conn.state, "disconnected");
  },
);

// parley_test.exs:236
testEachTransport(
  "a server that never answers the upgrade gives connect_timeout after about 100 ms; alive",
  async () => {
    await using server = await startSilentServer();
    const rec = new Recorder();
    const t0 = performance.now();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 100,
      closeTimeout: 200,
    });
    const { value, at } = await rec.next("disconnected");
    assert.deepEqual(value, { kind: "connect_timeout", timeout: 100 });
    const elapsed = at - t0;
    assert.ok(elapsed >= 90 && elapsed < 1000, `connect_timeout after ${elapsed} ms`);
    assert.equal(conn.state, "disconnected");
    await rec.none("disconnected", 50);
  },
);

// ---------------------------------------------------------------------------------------------
// Options checked at start

// parley_test.exs:981. Differs from the Elixir library on purpose: a TypeError.
testEachTransport("a missing url rejects with a TypeError naming url", async () => {
  const Client = defineClient({});
  await assert.rejects(
    Client.start(null, {} as unknown as { url: string }),
    (e: unknown) => e instanceof TypeError && /"url"/.test(e.message) && /required/.test(e.message),
  );
});
