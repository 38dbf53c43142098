// Names: a client registered under a string or { global } name is reached by it, a name is taken
// once, and a bad name is refused. Against a real server on loopback, on both transports. Ported
// from the Elixir library's test/parley_test.exs (the comment above each test names the test it
// comes from).

import assert from "node:assert/strict";
import {
  defineClient,
  disconnectClient,
  NameTakenError,
  sendFrame,
  sendInfo,
  whereis,
} from "../../mod.ts";
import { recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { nextDisconnect, Recorder } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// Names

// parley_test.exs:285
testEachTransport(
  "a string name registers the client; sendFrame and disconnect work by name",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const name = "by-name";
    await using conn = await recordingClient(rec).start(null, { url: server.url(), name });
    await rec.next("connected");
    assert.equal(whereis(name), conn);
    assert.equal(conn.name, name);
    await sendFrame(name, text("by name"));
    assert.deepEqual((await rec.next("frame")).value, text("by name"));
    await disconnectClient(name);
    assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
    // Still registered while alive; released once stopped.
    assert.equal(whereis(name), conn);
    await conn.stop();
    assert.equal(whereis(name), undefined);
  },
);

// parley_test.exs:295
testEachTransport(
  "a duplicate name rejects with NameTakenError holding the first client",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const name = "taken-once";
    await using first = await Client.start(null, { url: server.url(), name });
    await rec.next("connected");
    const err = await Client.start(null, { url: server.url(), name }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NameTakenError, String(err));
    assert.equal(err.existing, first);
    assert.equal(whereis(name), first);
    // The refused client never connected.
    await rec.none("connected", 50);
    assert.equal(server.requests.length, 1);
  },
);

// parley_test.exs:305 (Parley's message is "expected name ..."; ours begins as every start
// option's does)
testEachTransport("name: 123 rejects with a TypeError saying what a name must be", async () => {
  const Client = defineClient({});
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    Client.start(null, { url: "ws://127.0.0.1:1/ws", name: 123 as any }),
    (e: unknown) =>
      e instanceof TypeError &&
      /^Cannot start the client as the name must be a non-empty string, .*, got 123$/.test(
        e.message,
      ),
  );
});

// parley_test.exs:311
testEachTransport("a { global } name registers the client and works by name", async () => {
  {
    await using server = await startWsServer();
    const rec = new Recorder();
    const name = { global: "global-name" };
    await using conn = await recordingClient(rec).start(null, { url: server.url(), name });
    await rec.next("connected");
    assert.equal(whereis({ global: "global-name" }), conn);
    // The local and the global registry are separate.
    assert.equal(whereis("global-name"), undefined);
    await sendFrame({ global: "global-name" }, text("global"));
    assert.deepEqual((await rec.next("frame")).value, text("global"));
    assert.equal(sendInfo({ global: "global-name" }, "note"), true);
    assert.equal((await rec.next("info")).value, "note");
  }
  // Released once the client stopped at the end of the block.
  assert.equal(whereis({ global: "global-name" }), undefined);
});
