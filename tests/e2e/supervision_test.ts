// Child specs and supervise() with real clients and a real server on loopback, on both transports.
// The supervisor's own rules (restart policies, restart limits) are in
// tests/client/supervisor_test.ts. Ported from the Elixir library's test/parley_test.exs (the
// comment above each test names the test it comes from).

import assert from "node:assert/strict";
import { sendFrame, silentLogger, supervise, whereis } from "../../mod.ts";
import { recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { Recorder, sleep, waitFor } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// Child specs and supervise

// parley_test.exs:325. Differs from the Elixir library on purpose: the id comes from the name,
// restart is transient.
testEachTransport(
  "childSpec(arg, options) gives { id, restart, start }",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const named = Client.childSpec("arg", { url: server.url(), name: "child-by-name" });
    assert.deepEqual(Object.keys(named).sort(), ["id", "restart", "start"]);
    assert.equal(named.id, "child-by-name");
    assert.equal(named.restart, "transient");
    assert.equal(typeof named.start, "function");
    const anonymous = Client.childSpec("arg", { url: server.url() });
    assert.equal(anonymous.id, "client");
    assert.equal(anonymous.restart, "transient");
    // start() starts the client with exactly the argument and options given.
    await using conn = await named.start();
    const { state } = await rec.next("connected");
    assert.equal(state, "arg");
    assert.equal(whereis("child-by-name"), conn);
  },
);

// parley_test.exs:334
testEachTransport("a named client starts under supervise and exchanges frames", async () => {
  await using server = await startWsServer();
  const rec = new Recorder();
  const name = "supervised-by-name";
  await using sup = await supervise(
    [recordingClient(rec).childSpec(null, { url: server.url(), name })],
    { maxRestarts: 3, period: 5000, logger: silentLogger },
  );
  await rec.next("connected");
  const conn = sup.child(name);
  assert.ok(conn !== undefined);
  assert.equal(whereis(name), conn);
  assert.deepEqual(sup.children().map((c) => [c.id, c.restarts]), [[name, 0]]);
  await sendFrame(name, text("supervised"));
  assert.deepEqual((await rec.next("frame")).value, text("supervised"));
  assert.deepEqual(await sup.stop(), { kind: "normal" });
  assert.equal(whereis(name), undefined);
});

// parley_test.exs:348. Differs from the Elixir library on purpose: the overrides are childSpec's
// third argument.
testEachTransport(
  "the child spec can be overridden: id and restart, or a hand-written spec",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const a = Client.childSpec("a", { url: server.url() }, { id: "first", restart: "permanent" });
    assert.equal(a.id, "first");
    assert.equal(a.restart, "permanent");
    // The Elixir library could hold one child per module; ids make two of the same definition possible.
    const b = Client.childSpec("b", { url: server.url() }, { id: "second", restart: "temporary" });
    const custom = {
      id: "custom",
      restart: "transient" as const,
      start: () => Client.start("c", { url: server.url() }),
    };
    await using sup = await supervise([a, b, custom], { logger: silentLogger });
    const states = [];
    for (let i = 0; i < 3; i++) {
      states.push((await rec.next("connected")).state);
    }
    assert.deepEqual(states.sort(), ["a", "b", "c"]);
    assert.deepEqual(sup.children().map((c) => c.id), ["first", "second", "custom"]);
    // "permanent" restarts even after a normal stop.
    const firstClient = sup.child("first")!;
    await firstClient.stop();
    await waitFor(
      () => sup.child("first") !== undefined && sup.child("first") !== firstClient,
      "the permanent child to restart",
    );
    assert.equal(sup.children()[0].restarts, 1);
    // "temporary" never restarts.
    await sup.child("second")!.stop();
    await sleep(50);
    assert.equal(sup.child("second"), undefined);
  },
);
