// Peers that fail loudly or slowly, through the fault proxy (tests/support/fault_proxy.ts) to a
// real server (npm:ws): a reset both ways with sends held back, a connection cut (FIN) in the
// middle of a frame, and an upgrade whose response arrives one byte at a time. On the socket
// transport under Deno, Node and Bun and on the web transport (Deno's WebSocket in this process,
// Node's and Bun's in children). Each case checks the typed reason, that every sendFrame settles,
// that stop() returns within closeTimeout, and that the process then exits by itself.

import assert from "node:assert/strict";
import { startFaultProxy } from "../support/fault_proxy.ts";
import { sleep } from "../support/recorder.ts";
import { startFaultServer } from "./fault_server.ts";
import { startFaultClient } from "./fault_runner.ts";
import { ALL, allAtOnce, note, oneAfterAnother, type Target, within } from "./targets.ts";

const MiB = 1024 * 1024;

type Outcomes = Record<string, number>;
const total = (o: Outcomes) => Object.values(o).reduce((a, b) => a + b, 0);

Deno.test("reset: a connection reset both ways is noticed at once as an error; every send settles (those held back reject with ConnectionError); the process exits", async () => {
  const closeTimeout = 1000;
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      closeTimeout,
    });
    await client.printed("connected");
    const conn = await proxy.connection(0);
    // Sends held back first, so that some are still waiting when the reset comes (15 MiB: more
    // than the kernel's buffers take; the web transport's all go to its WebSocket at once).
    conn.apply({ kind: "stop_reading_client" });
    client.send({ cmd: "send", count: 60, size: target.transport === "socket" ? MiB / 4 : 16_384 });
    await client.printed("sent");
    await sleep(500);
    const resetAt = Date.now();
    conn.apply({ kind: "reset" });
    const disconnected = await client.printed("disconnected");
    // Both clocks are the machine's.
    const noticed = (disconnected.epoch as number) - resetAt;
    const reason = disconnected.reason as { kind: string; error?: { name: string } };
    assert.equal(reason.kind, "error", JSON.stringify(reason));
    assert.ok(noticed < 1000, `noticed ${noticed} ms after the reset`);
    const settled = (await client.printed("settled")).outcomes as Outcomes;
    note(target, `noticed after ${Math.round(noticed)} ms; 60 sends: ${JSON.stringify(settled)}`);
    assert.equal(total(settled), 60);
    if (target.transport === "socket") {
      assert.ok(settled["ConnectionError error"] >= 20, JSON.stringify(settled));
      assert.deepEqual(
        Object.keys(settled).filter((k) => k !== "resolved"),
        ["ConnectionError error"],
      );
    }
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    assert.ok((stopped.took as number) <= closeTimeout, `stop() took ${stopped.took} ms`);
    await client.finish();
  });
});

Deno.test("cut mid-frame: a connection that ends (FIN) 1000 bytes into a 1 MiB message is an error, no part of the message is delivered, and the sends under way settle; the process exits", async () => {
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      closeTimeout: 1000,
    });
    await client.printed("connected");
    const conn = await proxy.connection(0);
    // The request for the big message and the ten sends are all made while the client is
    // connected (the proxy holds them back from the server), so that the sends are under way when
    // the cut comes rather than made after it.
    conn.apply({ kind: "stop_reading_client" });
    client.send({ cmd: "text", data: `big ${MiB}` });
    client.send({ cmd: "send", count: 10, size: 64 * 1024 });
    await client.printed("sent");
    const before = conn.bytesToClient;
    conn.apply({ kind: "cut", after: 1000 });
    const disconnected = await client.printed("disconnected");
    const reason = disconnected.reason as { kind: string; error?: { message: string } };
    assert.equal(reason.kind, "error", JSON.stringify(reason));
    assert.equal(conn.bytesToClient - before, 1000);
    const settled = (await client.printed("settled")).outcomes as Outcomes;
    assert.equal(total(settled), 10);
    assert.deepEqual(
      Object.keys(settled).filter((k) => k !== "resolved" && k !== "ConnectionError error"),
      [],
      JSON.stringify(settled),
    );
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    assert.ok((stopped.took as number) <= 1000, `stop() took ${stopped.took} ms`);
    const { report } = await client.finish();
    assert.equal(report.frames, 0, "a partial message was delivered");
  });
});

Deno.test("slow upgrade: a 101 that arrives one byte every 5 ms (about 0.7 s) still connects; frames sent meanwhile go out once connected", async () => {
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    proxy.apply({ kind: "drip_upgrade", every: 5 });
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      connectTimeout: 5000,
    });
    // Sent while connecting: they wait in the queue, go out once connected and are echoed.
    client.send({ cmd: "send", count: 3, size: 1000 });
    client.send({ cmd: "expect", total: 3000 });
    const connecting = await client.printed("connecting");
    const connected = await client.printed("connected");
    const took = (connected.at as number) - (connecting.at as number);
    assert.ok(took >= 100 * 5, `connected after ${took} ms`);
    await client.printed("frames");
    assert.deepEqual((await client.printed("settled")).outcomes, { resolved: 3 });
    client.send({ cmd: "stop" });
    await client.printed("stop_returned");
    await client.finish();
  });
});

Deno.test("slow upgrade: a 101 dripping one byte every 50 ms fails at connectTimeout (+200 ms) with connect_timeout, and the frames queued meanwhile reject with ConnectionError; the process exits", async () => {
  const connectTimeout = 600;
  await oneAfterAnother(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    proxy.apply({ kind: "drip_upgrade", every: 50 });
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      connectTimeout,
      closeTimeout: 1000,
    });
    client.send({ cmd: "send", count: 5, size: 1000 });
    const connecting = await client.printed("connecting");
    const disconnected = await client.printed("disconnected");
    assert.deepEqual(disconnected.reason, { kind: "connect_timeout", timeout: connectTimeout });
    const noticed = (disconnected.at as number) - (connecting.at as number);
    assert.ok(
      noticed >= connectTimeout - 5 && noticed <= within(connectTimeout),
      `failed ${noticed} ms after connecting began`,
    );
    // Frames queued while connecting never went out, and say why.
    assert.deepEqual((await client.printed("settled")).outcomes, {
      "ConnectionError connect_timeout": 5,
    });
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    assert.ok((stopped.took as number) <= 1300, `stop() took ${stopped.took} ms`);
    // The runtimes' WebSocket cannot be told to give up a handshake under way: the proxy lets go.
    if (target.transport === "web") proxy.dropAll();
    await client.finish();
  });
});
