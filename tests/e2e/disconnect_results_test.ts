// Callbacks returning disconnect(reason, state), against real servers on loopback: the client
// closes, handleDisconnect gets { kind: "user", reason } and the state returned with it, and the
// client stays alive. Two tests hold or drive the reconnect timer with a fake clock through
// `startClient(..., { clock })`. Ported from the Elixir library's
// test/parley/disconnect_return_test.exs (the comment above each test names the test it comes
// from).

import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import {
  type ClientHandle,
  defineClient,
  disconnect,
  ok,
  type ReceivedFrame,
  reconnect,
} from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import type { Connector } from "../../src/transport/transport.ts";
import { webConnector } from "../../src/transport/web.ts";
import {
  nextDisconnect,
  Recorder,
  recordingCallbacks,
  recordingLogger,
  scheduledReconnects,
  sleep,
} from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

/** Asserts the client is alive and disconnected, and stays so for `ms`. */
async function staysDisconnected(conn: ClientHandle<never> | ClientHandle, ms = 100) {
  let stopped = false;
  conn.stopped.then(() => (stopped = true));
  await sleep(ms);
  assert.equal(stopped, false, "the client stopped");
  assert.equal(conn.state, "disconnected");
}

// disconnect_return_test.exs:17
Deno.test("handleConnect returning disconnect(reason) reaches handleDisconnect; alive", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recordingCallbacks<null>(rec, {
    handleConnect: (state) => disconnect("not_authorized", state),
  })).start(null, { url: server.url(), logger: recordingLogger() });
  await rec.next("connected");
  assert.deepEqual(await nextDisconnect(rec), {
    kind: "user",
    reason: "not_authorized",
  });
  await staysDisconnected(conn);
  assert.equal(server.requests.length, 1);
});

// disconnect_return_test.exs:46
Deno.test("handleFrame returning disconnect(reason) reaches handleDisconnect; alive", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recordingCallbacks<null>(rec, {
    handleFrame: (frame: ReceivedFrame, state) =>
      frame.type === "text" && frame.data === "bye"
        ? disconnect("server_said_bye", state)
        : ok(state),
  })).start(null, { url: server.url(), logger: recordingLogger() });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "hello" });
  assert.deepEqual((await rec.next("frame")).value, { type: "text", data: "hello" });
  assert.equal(conn.state, "connected");
  await conn.sendFrame({ type: "text", data: "bye" }); // echoed back: the "server" says bye
  assert.deepEqual(await nextDisconnect(rec), {
    kind: "user",
    reason: "server_said_bye",
  });
  await staysDisconnected(conn);
  // A graceful close: the server got our close frame (1000, empty reason).
  assert.deepEqual(server.closes, [{ code: 1000, reason: "" }]);
});

/**
 * The web transport cannot see pings, so this connector wraps it and turns
 * an echoed `relay_ping:<payload>` text into a ping event: the server and socket stay real.
 */
const pingRelay: Connector = {
  name: "web",
  capabilities: webConnector.capabilities,
  connect(params, events) {
    // The events are an object with methods on its prototype: delegate each one.
    return webConnector.connect(params, {
      opened: (info) => events.opened(info),
      ping: (payload) => events.ping(payload),
      remoteClose: (code, reason) => events.remoteClose(code, reason),
      error: (error) => events.error(error),
      heartbeatTimeout: () => events.heartbeatTimeout(),
      rtt: (ms) => events.rtt(ms),
      frame(frame) {
        if (frame.type === "text" && frame.data.startsWith("relay_ping:")) {
          events.ping(new TextEncoder().encode(frame.data.slice("relay_ping:".length)));
        } else events.frame(frame);
      },
    });
  },
};

// disconnect_return_test.exs:84
Deno.test("handlePing returning disconnect(reason) reaches handleDisconnect; alive (ping relayed: the web transport cannot see pings)", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recordingCallbacks<null>(rec, {
      handlePing: (_payload, state) => disconnect("ping_triggered_disconnect", state),
    }),
    null,
    { url: server.url(), logger: log },
    { connector: pingRelay },
  );
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "relay_ping:ping" });
  assert.deepEqual((await rec.next("ping")).value, new TextEncoder().encode("ping"));
  assert.deepEqual(await nextDisconnect(rec), {
    kind: "user",
    reason: "ping_triggered_disconnect",
  });
  await staysDisconnected(conn);
  assert.equal(rec.all("frame").length, 0);
});

// disconnect_return_test.exs:124
Deno.test("handleInfo returning disconnect(reason) while connected reaches handleDisconnect; alive", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recordingCallbacks<null>(rec, {
    handleInfo: (message, state) =>
      message === "disconnect_now" ? disconnect("info_disconnect", state) : ok(state),
  })).start(null, { url: server.url(), logger: recordingLogger() });
  await rec.next("connected");
  conn.info("disconnect_now");
  assert.deepEqual(await nextDisconnect(rec), {
    kind: "user",
    reason: "info_disconnect",
  });
  await staysDisconnected(conn);
});

// disconnect_return_test.exs:160
Deno.test("handleInfo disconnect(...) while disconnected: state kept, no handleDisconnect, pending reconnect not cancelled (fake clock)", async () => {
  interface S {
    readonly gotDisconnectInfo: boolean;
  }
  const clock = FakeTimers.createClock();
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recordingCallbacks<S>(rec, {
      handleInfo: (message, state) =>
        message === "disconnect_me"
          ? disconnect("info_while_disconnected", { ...state, gotDisconnectInfo: true })
          : ok(state),
    }),
    { gotDisconnectInfo: false },
    {
      url: server.url(),
      reconnect: { baseDelay: 100, maxDelay: 100, random: () => 0 }, // always 51 ms
      logger: log,
    },
    { clock },
  );
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "close" });
  assert.equal((await nextDisconnect(rec)).kind, "remote_close");
  assert.deepEqual(scheduledReconnects(log), [{ delay: 51, retry: 1 }]);
  conn.info("disconnect_me");
  await rec.next("info");
  await rec.none("disconnected", 200);
  assert.equal(conn.state, "disconnected");
  // The timer is still pending: it fires on time and hands over the updated state.
  await clock.tickAsync(51);
  assert.deepEqual((await rec.next("connected")).state, { gotDisconnectInfo: true });
  assert.equal(server.requests.length, 2);
  assert.equal(rec.all("disconnected").length, 1);
});

// disconnect_return_test.exs:218
Deno.test("handleFrame disconnect(reason) + handleDisconnect reconnect(state) without the option: reconnects, frames flow (fake clock)", async () => {
  const clock = FakeTimers.createClock();
  await using server = await startWsServer();
  const rec = new Recorder();
  const log = recordingLogger();
  await using conn = await startClient(
    recordingCallbacks<null>(rec, {
      handleFrame: (frame, state) =>
        frame.type === "text" && frame.data === "unauthorized"
          ? disconnect("unauthorized", state)
          : ok(state),
      handleDisconnect: (_reason, state) => reconnect(state),
    }),
    null,
    { url: server.url(), logger: log },
    { clock },
  );
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "unauthorized" });
  await rec.next("frame");
  assert.deepEqual(await nextDisconnect(rec), {
    kind: "user",
    reason: "unauthorized",
  });
  const [retry] = scheduledReconnects(log);
  assert.ok(retry.delay >= 501 && retry.delay <= 1000, `default first delay ${retry.delay}`);
  await clock.tickAsync(retry.delay);
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "hello again" });
  assert.deepEqual((await rec.next("frame")).value, { type: "text", data: "hello again" });
  assert.equal(server.requests.length, 2);
});

// disconnect_return_test.exs:270
Deno.test("handleDisconnect receives the state returned with disconnect(reason, newState)", async () => {
  interface S {
    readonly count: number;
    readonly status: string;
  }
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await defineClient(recordingCallbacks<S>(rec, {
    handleFrame: (_frame, state) =>
      disconnect("done", { count: state.count + 1, status: "disconnecting" }),
  })).start({ count: 0, status: "initial" }, { url: server.url(), logger: recordingLogger() });
  await rec.next("connected");
  await conn.sendFrame({ type: "text", data: "anything" });
  const disconnected = await rec.next("disconnected");
  assert.deepEqual(disconnected.value, { kind: "user", reason: "done" });
  assert.deepEqual(disconnected.state, { count: 1, status: "disconnecting" });
  await staysDisconnected(conn);
});
