// Pings against a real npm:ws server on loopback. The web transport (the runtime's WebSocket)
// answers pings itself and can neither show them to the client nor send them; the socket
// transport shows them to handlePing after its pong went out and can send pings and pongs.
// handlePing with a scripted transport is in tests/client/client_test.ts. Ported from the Elixir
// library's test/parley_test.exs (the comment above each test names the test it comes from).

import assert from "node:assert/strict";
import { defineClient, ok, push, stop, UnsupportedError } from "../../mod.ts";
import {
  type AnyCallbacks,
  nextText,
  recordingClient,
  testEachTransport,
  text,
} from "../support/each_transport.ts";
import { Recorder, recordingLogger, waitFor } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

/** handleFrame answers the text "ping me" by pushing a ping "p", then the text "pushed". */
const pushesPingWhenAsked: AnyCallbacks = {
  handleFrame: (frame, state) => {
    if (frame.type === "text" && frame.data === "ping me") {
      return push([{ type: "ping", data: new TextEncoder().encode("p") }, text("pushed")], state);
    }
    return ok(state);
  },
};

// parley_test.exs:719
testEachTransport("a server ping leaves the connection working", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec).start(null, { url: server.url() });
  await rec.next("connected");
  server.pingAll(new TextEncoder().encode("hb"));
  await conn.sendFrame(text("send_ping:x"));
  await conn.sendFrame(text("still here"));
  assert.deepEqual((await rec.next("frame")).value, text("still here"));
  assert.equal(conn.state, "connected");
  assert.equal(rec.all("disconnected").length, 0);
});

// parley_test.exs:733. The web transport cannot observe pings: the runtime answers them.
Deno.test(
  "a server ping with payload 'hello' is answered by the runtime; handlePing is not called",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url(),
      transport: "web",
    });
    await rec.next("connected");
    await conn.sendFrame(text("send_ping:hello"));
    await conn.sendFrame(text("after ping"));
    await nextText(rec, "after ping");
    await rec.none("ping", 100);
    assert.equal(conn.state, "connected");
  },
);

// parley_test.exs:771. The web transport has no ping API.
Deno.test(
  "ping frames cannot be sent: sendFrame rejects with UnsupportedError and a pushed ping is " +
    "dropped with a warning, the connection stays",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    await using conn = await recordingClient(rec, pushesPingWhenAsked).start(null, {
      url: server.url(),
      logger,
      transport: "web",
    });
    await rec.next("connected");
    await assert.rejects(conn.sendFrame({ type: "ping" }), UnsupportedError);
    await assert.rejects(conn.sendFrame({ type: "pong" }), UnsupportedError);
    await conn.sendFrame(text("ping me"));
    await nextText(rec, "ping me");
    // The ping is dropped, the text after it still goes out.
    await nextText(rec, "pushed");
    assert.ok(
      logger.messages.some((m) =>
        m.level === "warn" && /Dropping frame from handleFrame/.test(m.message) &&
        /ping/.test(m.message)
      ),
      JSON.stringify(logger.messages),
    );
    assert.equal(conn.state, "connected");
    assert.equal(rec.all("disconnected").length, 0);
  },
);

// parley_test.exs:733
Deno.test(
  "a server ping with payload 'hello' reaches handlePing after the pong went out " +
    "(socket transport, chosen by auto for handlePing)",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url() });
    await rec.next("connected");
    await conn.sendFrame(text("send_ping:hello"));
    const ping = await rec.next("ping");
    assert.deepEqual(ping.value, new TextEncoder().encode("hello"));
    await waitFor(() => server.pongs.length === 1, "the pong");
    assert.deepEqual(server.pongs[0], new TextEncoder().encode("hello"));
    assert.equal(conn.state, "connected");
  },
);

// parley_test.exs:771
Deno.test(
  "ping and pong frames are sent with sendFrame and push on the socket transport",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec, pushesPingWhenAsked).start(null, {
      url: server.url(),
      transport: "socket",
    });
    await rec.next("connected");
    await conn.sendFrame({ type: "ping" });
    await conn.sendFrame({ type: "pong", data: new TextEncoder().encode("unsolicited") });
    // The server's pong to our ping reaches handleFrame.
    assert.deepEqual((await rec.next("frame")).value, { type: "pong", data: new Uint8Array(0) });
    await conn.sendFrame(text("ping me"));
    await nextText(rec, "ping me");
    assert.deepEqual((await rec.next("frame")).value, {
      type: "pong",
      data: new TextEncoder().encode("p"),
    });
    await nextText(rec, "pushed");
    assert.deepEqual(server.pings, [new Uint8Array(0), new TextEncoder().encode("p")]);
    assert.deepEqual(server.pongs, [new TextEncoder().encode("unsolicited")]);
    await assert.rejects(
      conn.sendFrame({ type: "ping", data: new Uint8Array(126) }),
      RangeError,
    );
    assert.equal(conn.state, "connected");
  },
);

Deno.test(
  "ping frames on the web transport: sendFrame rejects with UnsupportedError naming the socket transport",
  async () => {
    await using server = await startWsServer();
    await using conn = await defineClient({}).start(null, { url: server.url(), transport: "web" });
    await assert.rejects(
      conn.sendFrame({ type: "ping" }),
      (e: unknown) => e instanceof UnsupportedError && /transport: "socket"/.test(e.message),
    );
  },
);

// parley_test.exs:809
Deno.test("handlePing returning stop stops the client with that reason", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  await using conn = await recordingClient(rec, {
    handlePing: (_payload, state) => stop("ping_stop", state),
  }).start(null, { url: server.url() });
  await rec.next("connected");
  await conn.sendFrame(text("send_ping:stop"));
  assert.deepEqual(await conn.stopped, { kind: "user", reason: "ping_stop" });
  assert.equal(conn.state, "stopped");
});

Deno.test(
  'handlePing with transport: "web" is refused at start with UnsupportedError (the web transport cannot see pings)',
  async () => {
    await assert.rejects(
      defineClient({ handlePing: (_p: Uint8Array, s: unknown) => ok(s) }).start(null, {
        url: "ws://127.0.0.1:1/ws",
        transport: "web",
      }),
      (e: unknown) => e instanceof UnsupportedError && /handlePing/.test(e.message),
    );
  },
);
