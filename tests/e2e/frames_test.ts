// Sending and receiving frames against real servers on loopback, on both transports: sendFrame and
// sendFrameAsync, their order, frames queued while connecting, large frames and concurrent
// senders. Ported from the Elixir library's test/parley_test.exs (the comment above each test
// names the test it comes from).

import assert from "node:assert/strict";
import { ConnectionError } from "../../mod.ts";
import { recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { nextDisconnect, Recorder, recordingLogger, waitFor } from "../support/recorder.ts";
import {
  startDenoServer,
  startSilentServer,
  startWsServer,
  type TestServer,
} from "../support/servers.ts";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

const SERVERS = [["npm:ws", startWsServer], ["Deno.serve", startDenoServer]] as const;

// ---------------------------------------------------------------------------------------------
// sendFrame

// parley_test.exs:27
testEachTransport("a text frame is echoed and reaches handleFrame as text", async () => {
  for (const [label, start] of SERVERS) {
    await using server: TestServer = await start();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await conn.sendFrame(text("hello"));
    assert.deepEqual((await rec.next("frame")).value, text("hello"), label);
    assert.deepEqual(server.received, ["hello"], label);
  }
});

// parley_test.exs:37
testEachTransport("a binary frame is echoed as a Uint8Array", async () => {
  for (const [label, start] of SERVERS) {
    await using server: TestServer = await start();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3]) });
    const frame = (await rec.next("frame")).value as { type: string; data: Uint8Array };
    assert.equal(frame.type, "binary", label);
    assert.ok(frame.data instanceof Uint8Array, label);
    assert.deepEqual([...frame.data], [1, 2, 3], label);
  }
});

// parley_test.exs:47
testEachTransport("three frames sent in sequence are echoed in the same order", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  for (const m of ["one", "two", "three"]) await conn.sendFrame(text(m));
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await rec.next("frame")).value);
  assert.deepEqual(got, [text("one"), text("two"), text("three")]);
});

// parley_test.exs:255. Differs from the Elixir library on purpose: the sender gets a
// ConnectionError with the reason.
testEachTransport(
  "a sendFrame queued while connecting rejects when the connect times out",
  async () => {
    await using server = await startSilentServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 150,
      closeTimeout: 200,
    });
    const err = await conn.sendFrame(text("queued")).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConnectionError, String(err));
    assert.deepEqual(err.reason, { kind: "connect_timeout", timeout: 150 });
    assert.deepEqual(await nextDisconnect(rec), { kind: "connect_timeout", timeout: 150 });
  },
);

// ---------------------------------------------------------------------------------------------
// sendFrameAsync

// parley_test.exs:64
testEachTransport("sendFrameAsync returns at once and the frame is sent", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  const returned: unknown = conn.sendFrameAsync(text("async hello"));
  assert.equal(returned, undefined);
  assert.deepEqual((await rec.next("frame")).value, text("async hello"));
});

// parley_test.exs:74
testEachTransport(
  "sendFrameAsync while disconnected returns, drops the frame and warns",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    await using conn = await recordingClient(rec).start(null, { url: server.url(), logger });
    await rec.next("connected");
    await conn.disconnect();
    await rec.next("disconnected");
    const returned: unknown = conn.sendFrameAsync(text("dropped"));
    assert.equal(returned, undefined);
    await waitFor(
      () => logger.messages.some((m) => m.level === "warn" && /Dropping frame/.test(m.message)),
      "a warning about the dropped frame",
    );
    const warning = logger.messages.find((m) => m.level === "warn")!;
    assert.match(warning.message, /sendFrameAsync/);
    assert.match(warning.message, /disconnected/);
    await rec.none("frame", 50);
    assert.deepEqual(server.received, []);
    assert.equal(conn.state, "disconnected");
  },
);

// parley_test.exs:85
testEachTransport("three sendFrameAsync calls arrive in order", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  conn.sendFrameAsync(text("a1"));
  conn.sendFrameAsync(text("a2"));
  conn.sendFrameAsync(text("a3"));
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await rec.next("frame")).value);
  assert.deepEqual(got, [text("a1"), text("a2"), text("a3")]);
  assert.deepEqual(server.received, ["a1", "a2", "a3"]);
});

// parley_test.exs:100
testEachTransport(
  "a sendFrameAsync queued while connecting is dropped with a warning on connect timeout",
  async () => {
    await using server = await startSilentServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 200,
      closeTimeout: 200,
      logger,
    });
    conn.sendFrameAsync(text("queued"));
    assert.deepEqual(await nextDisconnect(rec), { kind: "connect_timeout", timeout: 200 });
    assert.ok(
      logger.messages.some((m) =>
        m.level === "warn" && /Dropping 1 frame\(s\) from sendFrameAsync/.test(m.message)
      ),
      JSON.stringify(logger.messages),
    );
    assert.equal(rec.all("connected").length, 0);
    assert.equal(conn.state, "disconnected");
  },
);

// ---------------------------------------------------------------------------------------------
// Large frames and concurrent senders

// parley_test.exs:906
testEachTransport("a 100 000-byte text frame round-trips", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  const big = "x".repeat(50_000) + "é".repeat(25_000); // 100 000 bytes of UTF-8
  assert.equal(new TextEncoder().encode(big).length, 100_000);
  await conn.sendFrame(text(big));
  const frame = (await rec.next("frame")).value as { type: string; data: string };
  assert.equal(frame.type, "text");
  assert.equal(frame.data.length, big.length);
  assert.ok(frame.data === big);
});

// parley_test.exs:917
testEachTransport("100 000 random bytes round-trip as binary", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  const bytes = randomBytes(100_000);
  await conn.sendFrame({ type: "binary", data: bytes });
  const frame = (await rec.next("frame")).value as { type: string; data: Uint8Array };
  assert.equal(frame.type, "binary");
  assert.equal(frame.data.length, 100_000);
  assert.ok(frame.data.every((b, i) => b === bytes[i]), "payload differs");
});

// parley_test.exs:930
testEachTransport("10 concurrent sendFrame callers all resolve and all 10 are echoed", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  const messages = Array.from({ length: 10 }, (_, i) => `msg-${i}`);
  const results = await Promise.all(messages.map((m) => conn.sendFrame(text(m))));
  assert.deepEqual(results, Array(10).fill(undefined));
  const echoed: string[] = [];
  for (let i = 0; i < 10; i++) {
    echoed.push(((await rec.next("frame")).value as { data: string }).data);
  }
  assert.deepEqual([...echoed].sort(), [...messages].sort());
});
