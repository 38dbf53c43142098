// Peers that fail silently, through the fault proxy (tests/support/fault_proxy.ts) to a real
// server (npm:ws): a black hole (nothing forwarded either way, TCP left open), a peer that stops
// reading what the client sends, and latency. On the socket transport under Deno, Node and Bun and
// on the web transport (Deno's WebSocket in this process, Node's and Bun's in children). Each case
// checks that the client notices within its configured bound with the typed reason, that every
// sendFrame settles, that stop() returns within closeTimeout, and that the process then exits by
// itself.
//
// The runtimes' WebSocket cannot be forced closed (docs: the web transport's limits): after a
// black hole or a close the peer never answers, Deno's and Node's keep their socket, and so their
// process, until the peer's TCP goes. There the proxy drops the connection once stop() has
// returned, and the process must exit then.

import assert from "node:assert/strict";
import { startFaultProxy } from "../support/fault_proxy.ts";
import { sleep, waitFor } from "../support/recorder.ts";
import { startFaultServer } from "./fault_server.ts";
import { type FaultEvent, startFaultClient } from "./fault_runner.ts";
import { ALL, allAtOnce, note, oneAfterAnother, type Target, within } from "./targets.ts";

const MiB = 1024 * 1024;
/** How much later than closeTimeout stop() may return with six clients at once on two cores. */
const MARGIN = 500;

/** The outcomes of every send, as the client counts them (`resolved`, an error's class). */
type Outcomes = Record<string, number>;

const total = (o: Outcomes) => Object.values(o).reduce((a, b) => a + b, 0);

Deno.test("black hole: noticed by the heartbeat within interval + timeout (+10%) as heartbeat_timeout; 60 sends into it all settle (the unsent ones reject with ConnectionError); stop() returns within closeTimeout; the process exits", async () => {
  // 200 ms of jitter allowed (a busy 2-core machine); one target at a time.
  const interval = 500, timeout = 500, closeTimeout = 1000;
  await oneAfterAnother(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      heartbeat: { interval, timeout },
      closeTimeout,
    });
    const connected = await client.printed("connected");
    const conn = await proxy.connection(0);
    conn.apply({ kind: "black_hole" });
    // The black hole came before the first probe: the upgrade was the last thing received.
    assert.ok(conn.faultAt - conn.acceptedAt < interval / 2, "the fault came late");
    // 15 MiB: more than the kernel's buffers take (the web transport's go to its WebSocket).
    client.send({ cmd: "send", count: 60, size: target.transport === "socket" ? MiB / 4 : 16_384 });
    const disconnected = await client.printed("disconnected");
    const noticed = (disconnected.at as number) - (connected.at as number);
    assert.deepEqual(disconnected.reason, { kind: "heartbeat_timeout", interval, timeout });
    assert.ok(
      noticed >= interval + timeout - 5 && noticed <= within(interval + timeout),
      `noticed ${noticed} ms after connecting (interval + timeout = ${interval + timeout})`,
    );
    const settled = (await client.printed("settled")).outcomes as Outcomes;
    note(target, `noticed after ${noticed} ms; 60 sends: ${JSON.stringify(settled)}`);
    assert.equal(total(settled), 60);
    if (target.transport === "socket") {
      // What the kernel took resolved; the rest never went out and says why.
      assert.deepEqual(
        Object.keys(settled).filter((k) => k !== "resolved"),
        ["ConnectionError heartbeat_timeout"],
        JSON.stringify(settled),
      );
      assert.ok(settled["ConnectionError heartbeat_timeout"] >= 20, JSON.stringify(settled));
    } else {
      // The web API says a frame was sent once the runtime's WebSocket took it.
      assert.deepEqual(settled, { resolved: 60 });
    }
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    // The socket transport dropped the connection; the web transport waits up to closeTimeout
    // from the timeout for the runtime's WebSocket to let go, and no longer.
    const bound = target.transport === "socket" ? 300 : closeTimeout + 300;
    assert.ok((stopped.took as number) <= bound, `stop() took ${stopped.took} ms`);
    if (target.transport === "web") proxy.dropAll();
    await client.finish();
  });
});

Deno.test("black hole: stop() while black-holed (no heartbeat) returns within closeTimeout, its sends held back reject with ClientStoppedError, and the process exits", async () => {
  const closeTimeout = 1000;
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      heartbeat: false,
      closeTimeout,
    });
    await client.printed("connected");
    (await proxy.connection(0)).apply({ kind: "black_hole" });
    client.send({ cmd: "send", count: 60, size: target.transport === "socket" ? MiB / 4 : 16_384 });
    await client.printed("sent");
    await sleep(500);
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    assert.ok(
      (stopped.took as number) >= closeTimeout - 5 &&
        (stopped.took as number) <= closeTimeout + MARGIN,
      `stop() took ${stopped.took} ms (closeTimeout ${closeTimeout})`,
    );
    const settled = (await client.printed("settled")).outcomes as Outcomes;
    assert.equal(total(settled), 60);
    if (target.transport === "socket") {
      assert.ok(settled.ClientStoppedError >= 20, JSON.stringify(settled));
      assert.deepEqual(
        Object.keys(settled).filter((k) => k !== "resolved"),
        ["ClientStoppedError"],
      );
    }
    assert.equal(client.all("disconnected").length, 0);
    if (target.transport === "web") proxy.dropAll();
    await client.finish();
  });
});

Deno.test("stop reading: a peer that stops reading while it keeps sending is not taken for dead; the sends it holds back stay pending, then reject with ClientStoppedError on stop(), which returns within closeTimeout; the process exits", async () => {
  const closeTimeout = 1000;
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      // Its pings cannot reach the server: only the ticks keep it alive.
      heartbeat: { interval: 300, timeout: 300 },
      closeTimeout,
    });
    await client.printed("connected");
    const conn = await proxy.connection(0);
    const upgrade = conn.bytesToClient;
    client.send({ cmd: "text", data: "tick 50" });
    // Ticks (6 bytes each) flow before the client's bytes are held back.
    await waitFor(() => conn.bytesToClient >= upgrade + 12, "the first ticks");
    conn.apply({ kind: "stop_reading_client" });
    client.send({ cmd: "send", count: 60, size: target.transport === "socket" ? MiB / 4 : 16_384 });
    // Several heartbeat periods.
    await sleep(1500);
    client.send({ cmd: "outcomes" });
    const before = (await client.printed("outcomes")).outcomes as Outcomes;
    assert.equal(client.all("disconnected").length, 0, JSON.stringify(client.events));
    if (target.transport === "socket") {
      assert.ok(before.pending >= 20, `held back: ${JSON.stringify(before)}`);
    } else assert.deepEqual({ ...before }, { resolved: 60 });
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    assert.ok(
      (stopped.took as number) <= closeTimeout + MARGIN,
      `stop() took ${stopped.took} ms (closeTimeout ${closeTimeout})`,
    );
    const settled = (await client.printed("settled")).outcomes as Outcomes;
    assert.equal(total(settled), 60);
    if (target.transport === "socket") {
      assert.deepEqual(settled, {
        resolved: before.resolved ?? 0,
        ClientStoppedError: before.pending,
      });
    }
    if (target.transport === "web") proxy.dropAll();
    await client.finish();
  });
});

/** The heartbeat that probes the web transport: the echo server answers its message. */
function heartbeatFor(target: Target, interval: number, timeout: number) {
  return target.transport === "socket"
    ? { interval, timeout }
    : { interval, timeout, message: { type: "text" as const, data: "probe" } };
}

Deno.test("delay: a round trip within the heartbeat's timeout keeps the connection, rtt shows the latency, echoes arrive, and stop() completes the close handshake within closeTimeout", async () => {
  const delay = 200, closeTimeout = 2000;
  await allAtOnce(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    proxy.apply({ kind: "delay", ms: delay });
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      heartbeat: heartbeatFor(target, 300, 1500),
      closeTimeout,
    });
    await client.printed("connected");
    // The first probe goes out 300 ms after the upgrade, its answer comes 2 × delay later (on the
    // web transport: the next message, here the echo of the probe). Asked until it has come (six
    // clients at once delay each other's timers).
    let stats: FaultEvent;
    const asked = performance.now();
    do {
      await sleep(100);
      const seen = client.all("stats").length;
      client.send({ cmd: "stats" });
      stats = await client.printed("stats", (e) => client.all("stats").indexOf(e) >= seen);
    } while (stats.rtt === undefined && performance.now() - asked < 5000);
    assert.equal(stats.state, "connected");
    const rtt = stats.rtt as number;
    assert.ok(rtt >= 2 * delay - 5 && rtt < 1500, `rtt ${rtt}`);
    client.send({ cmd: "send", count: 5, size: 1024 });
    client.send({ cmd: "expect", total: 5 * 1024 });
    const sent = await client.printed("sent");
    const echoed = await client.printed("frames");
    assert.ok(
      echoed.ms - sent.ms >= 2 * delay - 5,
      `echoed ${echoed.ms - sent.ms} ms after sending`,
    );
    client.send({ cmd: "stop" });
    const stopped = await client.printed("stop_returned");
    // The close frame and its answer each wait `delay`.
    assert.ok(
      (stopped.took as number) >= 2 * delay - 5 && (stopped.took as number) <= closeTimeout,
      `stop() took ${stopped.took} ms`,
    );
    assert.equal(client.all("disconnected").length, 0, JSON.stringify(client.events));
    await client.finish();
    await waitFor(() => server.closes.length > 0, "the server's close");
    assert.deepEqual(server.closes, [1000]);
  });
});

Deno.test("delay: a round trip longer than the heartbeat's timeout is noticed within interval + timeout (+10%) as heartbeat_timeout", async () => {
  const delay = 300, interval = 300, timeout = 300;
  await oneAfterAnother(ALL, async (target: Target) => {
    await using server = await startFaultServer();
    await using proxy = await startFaultProxy(server.port);
    proxy.apply({ kind: "delay", ms: delay });
    const client = startFaultClient(target.place, {
      url: proxy.url(),
      transport: target.transport,
      heartbeat: heartbeatFor(target, interval, timeout),
      closeTimeout: 1000,
    });
    const connected = await client.printed("connected");
    const disconnected = await client.printed("disconnected");
    assert.deepEqual(disconnected.reason, { kind: "heartbeat_timeout", interval, timeout });
    const noticed = (disconnected.at as number) - (connected.at as number);
    assert.ok(
      noticed >= interval + timeout - 5 && noticed <= within(interval + timeout),
      `noticed ${noticed} ms after connecting`,
    );
    client.send({ cmd: "stop" });
    await client.printed("stop_returned");
    if (target.transport === "web") proxy.dropAll();
    await client.finish();
  });
});
