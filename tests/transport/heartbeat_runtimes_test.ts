// The socket transport's heartbeat under Deno, Node 24 and Bun (each runtime's own dialer),
// against raw loopback servers here: one that completes the upgrade and then says nothing (a
// half-open connection: TCP stays up, nothing arrives), and one that answers pings. The client
// runs in tests/transport/socket_transport_driver.ts under each runtime; the runtimes run side by
// side.

import assert from "node:assert/strict";
import {
  type ClientFrame,
  OP,
  type RawConnection,
  startRawWsServer,
} from "../support/raw_ws_server.ts";
import {
  type DriverEvent,
  eachAtOnce,
  runDriver,
  type Runtime,
  RUNTIMES,
} from "../support/runtime_driver.ts";

type Seen = {
  opened: number;
  rtts: Array<{ ms: number; rtt: number }>;
  heartbeatTimeout: number;
  pongFrames: number;
  frames: number;
  afterEnd: string[];
  ends: string[];
};

/**
 * Answers pings with their pongs, `delay` ms later, until the connection closes; only the first
 * `count` pings, then says nothing more.
 */
function answerPings(conn: RawConnection, delay = 0, count = Infinity): void {
  const reply = (f: ClientFrame) => {
    const pong = () => {
      if (conn.closedAt === undefined) conn.send({ opcode: OP.PONG, payload: f.payload });
    };
    if (delay === 0) pong();
    else setTimeout(pong, delay);
  };
  let seen = 0;
  let answered = 0;
  const check = () => {
    for (; seen < conn.frames.length; seen++) {
      if (conn.frames[seen].opcode === OP.PING && answered++ < count) reply(conn.frames[seen]);
    }
  };
  conn.socket.on("data", check);
}

/** Runs `body` for every runtime at once (each with a server of its own). */
/**
 * Runs `body` for each runtime, one after the other: these tests time timers, and three
 * runtimes at once on two cores delay each other's.
 */
const eachRuntime = async (body: (runtime: Runtime) => Promise<void>) => {
  for (const runtime of RUNTIMES) await eachAtOnce([runtime], (r) => r, body);
};

const pings = (conn: RawConnection) => conn.frames.filter((f) => f.opcode === OP.PING);

/**
 * The latest a timeout of `total` ms may be noticed: 10% later, or 200 ms for the shorter ones
 * here (three runtimes at once on two shared cores delay a child's timers by that much; the
 * first test, with seconds, holds the 10%).
 */
const within = (total: number) => total + Math.max(total * 0.1, 200);

Deno.test("heartbeat [socket, deno/node/bun]: a peer that goes silent after the upgrade is noticed within interval + timeout (+10%): one 8-byte ping, nothing after it, no close frame", async () => {
  // Seconds, so that 10% is more than a busy two-core machine's scheduling jitter.
  const interval = 2000, timeout = 1000;
  await eachRuntime(async (runtime) => {
    await using server = await startRawWsServer();
    const driver = runDriver(runtime, "heartbeat", server.url(), {
      interval,
      timeout,
      runFor: 5000,
    });
    const conn = await server.connection(0, 10_000);
    const report = await driver.report();
    const seen = report.seen as Seen;
    const noticed = seen.heartbeatTimeout - seen.opened;
    assert.ok(seen.heartbeatTimeout > 0, `no heartbeat timeout: ${JSON.stringify(seen)}`);
    assert.ok(
      noticed >= interval + timeout && noticed <= (interval + timeout) * 1.1,
      `noticed ${noticed} ms after the upgrade (interval + timeout = ${interval + timeout})`,
    );
    assert.deepEqual(seen.ends, ["heartbeatTimeout"]);
    assert.deepEqual(seen.afterEnd, [], "nothing reported after the timeout");
    const probes = pings(conn);
    assert.equal(probes.length, 1, "one probe");
    assert.equal(probes[0].payload.length, 8, "the probe carries its number");
    assert.ok(!conn.frames.some((f) => f.opcode === OP.CLOSE), "no close frame to a dead peer");
    await conn.clientEnded(2000);
  });
});

Deno.test("heartbeat [socket, deno/node/bun]: a peer that stops answering pings is noticed within interval + timeout (+10%) of its last pong", async () => {
  const interval = 300, timeout = 300;
  await eachRuntime(async (runtime) => {
    await using server = await startRawWsServer();
    const driver = runDriver(runtime, "heartbeat", server.url(), {
      interval,
      timeout,
      runFor: 5000,
    });
    answerPings(await server.connection(0, 10_000), 0, 2);
    const report = await driver.report();
    const seen = report.seen as Seen;
    assert.equal(seen.rtts.length, 2, JSON.stringify(seen));
    const noticed = seen.heartbeatTimeout - seen.rtts[1].ms;
    assert.ok(
      noticed >= interval + timeout - 1 && noticed <= within(interval + timeout),
      `noticed ${noticed} ms after the last pong`,
    );
    assert.deepEqual(seen.ends, ["heartbeatTimeout"]);
  });
});

Deno.test("heartbeat [socket, deno/node/bun]: a peer that answers pings reports round-trip times, its pongs are not frames, and nothing times out", async () => {
  const interval = 150, timeout = 150;
  await eachRuntime(async (runtime) => {
    await using server = await startRawWsServer();
    const driver = runDriver(runtime, "heartbeat", server.url(), {
      interval,
      timeout,
      runFor: 1500,
    });
    answerPings(await server.connection(0, 10_000));
    const report = await driver.report();
    const seen = report.seen as Seen;
    assert.equal(seen.heartbeatTimeout, -1, JSON.stringify(seen));
    assert.ok(seen.rtts.length >= 3, `${seen.rtts.length} round trips in 1.5 s`);
    for (const { rtt } of seen.rtts) assert.ok(rtt >= 0 && rtt < timeout, `rtt ${rtt}`);
    assert.equal(seen.pongFrames, 0, "the heartbeat's pongs are not reported as frames");
    assert.deepEqual(seen.ends, []);
  });
});

Deno.test("heartbeat [socket, deno/node/bun]: a paused connection does not time out; once resumed, a silent peer is noticed within interval + timeout (+10%)", async () => {
  const interval = 300, timeout = 300;
  await eachRuntime(async (runtime) => {
    await using server = await startRawWsServer();
    const driver = runDriver(runtime, "heartbeat", server.url(), {
      interval,
      timeout,
      pauseAtOpen: true,
      resumeAfter: 3 * (interval + timeout),
      runFor: 3000,
    });
    await server.connection(0, 10_000);
    const report = await driver.report();
    const seen = report.seen as Seen;
    assert.equal(report.paused, true, "the socket transport can pause");
    const resumed = driver.events.find((e) => e.event === "resumed");
    assert.ok(resumed !== undefined, `timed out while paused: ${JSON.stringify(driver.events)}`);
    const noticed = seen.heartbeatTimeout - resumed.ms;
    assert.ok(
      noticed >= interval + timeout - 1 && noticed <= within(interval + timeout),
      `noticed ${noticed} ms after resume()`,
    );
  });
});

Deno.test("heartbeat [socket, deno/node/bun]: an event loop blocked for longer than the timeout while the peer answers does not time out", async () => {
  // Each block starts 5 ms after a probe went out, and the server answers 50 ms after the
  // ping: the pong arrives while the client is blocked. 900 ms and 330 ms blocks end past the
  // probe's deadline (300 ms) by less than a second; the 1500 ms one by more.
  const interval = 400, timeout = 300;
  await eachRuntime(async (runtime) => {
    await using server = await startRawWsServer();
    const driver = runDriver(runtime, "heartbeat", server.url(), {
      interval,
      timeout,
      blocks: [900, 1500, 330],
      runFor: 5000,
    }, 20_000);
    answerPings(await server.connection(0, 10_000), 50);
    const report = await driver.report();
    const seen = report.seen as Seen;
    const blocks = driver.events.filter((e: DriverEvent) => e.event === "unblocked");
    assert.equal(seen.heartbeatTimeout, -1, `a false timeout: ${JSON.stringify(driver.events)}`);
    assert.equal(blocks.length, 3, JSON.stringify(driver.events));
    assert.ok(seen.rtts.length >= 3, JSON.stringify(seen.rtts));
  });
});
