// What each callback receives and what its results do (push, stop, a thrown error), against real
// servers on loopback, on both transports. Callbacks returning disconnect(...) are in
// disconnect_results_test.ts. Ported from the Elixir library's test/parley_test.exs (the comment
// above each test names the test it comes from).

import assert from "node:assert/strict";
import {
  ClientStoppedError,
  ok,
  push,
  sendInfo,
  stop,
  type StopReason,
  whereis,
} from "../../mod.ts";
import { nextText, recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { nextDisconnect, Recorder, recordingLogger, sleep } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// init

// parley_test.exs:545
testEachTransport(
  "init transforms the argument (21 -> 42) before handleConnect sees it",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using _conn = await recordingClient(rec, {
      init: (n) => ok((n as number) * 2),
    }).start(21, { url: server.url() });
    const { state } = await rec.next("connected");
    assert.equal(state, 42);
  },
);

// parley_test.exs:569
testEachTransport(
  "init stop('bad_arg') makes start reject with ClientStoppedError, nothing connects",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const err = await recordingClient(rec, { init: () => stop("bad_arg") })
      .start(null, { url: server.url(), name: "refused-in-init" })
      .then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ClientStoppedError, String(err));
    assert.equal(err.cause, "bad_arg");
    assert.deepEqual(err.reason, { kind: "user", reason: "bad_arg" });
    assert.equal(whereis("refused-in-init"), undefined);
    await rec.none("connected", 50);
    assert.equal(server.requests.length, 0);
  },
);

// ---------------------------------------------------------------------------------------------
// handleConnect

// parley_test.exs:375
testEachTransport("handleConnect push sends the frame right after connecting", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using _conn = await recordingClient(rec, {
    handleConnect: (state) => {
      return push(text("hello from connect"), state);
    },
  }).start(null, { url: server.url() });
  await rec.next("connected");
  assert.deepEqual((await rec.next("frame")).value, text("hello from connect"));
  assert.deepEqual(server.received, ["hello from connect"]);
});

// parley_test.exs:408
testEachTransport("handleConnect stop('rejected') stops the client with that reason", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handleConnect: (state) => {
      return stop("rejected", state);
    },
  }).start(null, { url: server.url() });
  await rec.next("connected");
  assert.deepEqual(await conn.stopped, { kind: "user", reason: "rejected" });
  assert.equal(conn.state, "stopped");
  assert.equal(rec.all("disconnected").length, 0);
});

// ---------------------------------------------------------------------------------------------
// handleFrame

// parley_test.exs:426
testEachTransport("handleFrame push sends a reply frame", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handleFrame: (frame, state) => {
      if (frame.type === "text" && frame.data === "hello") return push(text("reply"), state);
      return ok(state);
    },
  }).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.sendFrame(text("hello"));
  await nextText(rec, "hello");
  await nextText(rec, "reply");
  assert.deepEqual(server.received, ["hello", "reply"]);
});

// parley_test.exs:465
testEachTransport("handleFrame stop('done') stops the client with that reason", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handleFrame: (frame, state) => {
      return frame.type === "text" && frame.data === "stop" ? stop("done", state) : ok(state);
    },
  }).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.sendFrame(text("stop"));
  assert.deepEqual(await conn.stopped, { kind: "user", reason: "done" });
  assert.equal(conn.state, "stopped");
});

// parley_test.exs:496
testEachTransport(
  "a handleFrame push on a dead connection gives handleDisconnect(error); alive",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    await using conn = await recordingClient(rec, {
      handleFrame: async (frame, state) => {
        if (frame.type === "text" && frame.data === "push_this") {
          await sleep(150); // the server drops the connection 10 ms after "push_this"
          return push(text("too late"), state);
        }
        return ok(state);
      },
    }).start(null, { url: server.url(), logger });
    await rec.next("connected");
    await conn.sendFrame(text("send_and_crash"));
    await nextText(rec, "push_this");
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.equal(conn.state, "disconnected");
    assert.ok(
      logger.messages.some((m) =>
        m.level === "warn" &&
        /Cannot send a frame from handleFrame as the connection is ending: dropped/.test(m.message)
      ),
      JSON.stringify(logger.messages),
    );
    assert.ok(!server.received.includes("too late"));
    await rec.none("disconnected", 50);
  },
);

// parley_test.exs:363. Differs from the Elixir library on purpose: one start, which never links
// the client to the caller.
testEachTransport(
  "start gives an independent client: its crash does not reach the caller",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    const Client = recordingClient(rec, {
      handleFrame: (frame, state) => {
        if (frame.type === "text" && frame.data === "boom") throw new Error("boom");
        return ok(state);
      },
    });
    await using conn = await Client.start(null, { url: server.url(), logger });
    await rec.next("connected");
    await conn.sendFrame(text("works"));
    assert.deepEqual((await rec.next("frame")).value, text("works"));
    await conn.sendFrame(text("boom"));
    const reason = await conn.stopped;
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && (reason.error as Error).message === "boom");
    assert.equal(conn.state, "stopped");
    assert.ok(logger.messages.some((m) => m.level === "error" && /boom/.test(m.message)));
    await assert.rejects(conn.sendFrame(text("after")), ClientStoppedError);
  },
);

// ---------------------------------------------------------------------------------------------
// handleInfo

// parley_test.exs:585
testEachTransport("handleInfo receives messages while connected", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const seen: string[] = [];
  await using conn = await recordingClient(rec, {
    handleInfo: (_message, state) => {
      seen.push(conn.state);
      return ok(state);
    },
  }).start(null, { url: server.url(), name: "info-by-name" });
  await rec.next("connected");
  conn.info({ hello: "world" });
  assert.deepEqual((await rec.next("info")).value, { hello: "world" });
  assert.equal(sendInfo("info-by-name", "by name"), true);
  assert.equal((await rec.next("info")).value, "by name");
  assert.deepEqual(seen, ["connected", "connected"]);
});

// parley_test.exs:617
testEachTransport("handleInfo push sends while connected (a heartbeat)", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handleInfo: (message, state) =>
      message === "heartbeat" ? push(text("heartbeat"), state) : ok(state),
  }).start(null, { url: server.url() });
  await rec.next("connected");
  conn.info("heartbeat");
  await nextText(rec, "heartbeat");
  conn.info("heartbeat");
  await nextText(rec, "heartbeat");
  assert.deepEqual(server.received, ["heartbeat", "heartbeat"]);
});

// parley_test.exs:655
testEachTransport("handleInfo stop('info_stop') stops the client with that reason", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handleInfo: (_message, state) => stop("info_stop", state),
  }).start(null, { url: server.url() });
  await rec.next("connected");
  conn.info("please stop");
  const reason: StopReason = await conn.stopped;
  assert.deepEqual(reason, { kind: "user", reason: "info_stop" });
  assert.equal(conn.state, "stopped");
});

// parley_test.exs:680
testEachTransport("handleInfo receives messages while disconnected", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  let phase = "";
  await using conn = await recordingClient(rec, {
    handleInfo: (_message, state) => {
      phase = conn.state;
      return ok(state);
    },
  }).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.disconnect();
  await rec.next("disconnected");
  conn.info("while down");
  assert.equal((await rec.next("info")).value, "while down");
  assert.equal(phase, "disconnected");
});
