// The supervisor on its own terms: restart policies (permanent, transient, temporary), the
// restart limit within a period, what child() and children() report, stop() (reverse start
// order, once), a child that fails to start, the abort signal, and the arguments supervise()
// refuses. The children are real clients on a scripted connector that accepts every handshake,
// with their timers on a fake clock; the supervisor's own clock is the real one. Supervision
// with real servers is in tests/e2e/supervision_test.ts.

import assert from "node:assert/strict";
import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import {
  type AnyClientHandle,
  type ChildSpec,
  defineClient,
  ok,
  type RestartPolicy,
  stop,
  type StopReason,
  supervise,
  type SupervisorOptions,
  whereis,
} from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import { recordingLogger } from "../support/recorder.ts";
import { ScriptedConnector, settle, until } from "../support/scripted.ts";

const URL = "ws://scripted.test/ws";

/**
 * A scripted connector whose connections open at once, a fake clock for the clients' timers and
 * a recording logger; `await using` resets the clock at the end of the block.
 */
function scripted() {
  const connector = new ScriptedConnector({ onConnect: (c) => queueMicrotask(() => c.opened()) });
  const clock = FakeTimers.createClock();
  const logger = recordingLogger();
  return { connector, clock, logger, [Symbol.dispose]: () => void clock.reset() };
}

type Scripted = ReturnType<typeof scripted>;

/**
 * A child spec `id` whose every start is a fresh client (recorded in `started`, with the abort
 * controller of its `signal` option), stopped by the test with `conn.stop(reason)`.
 */
function childOf(s: Scripted, id: string, restart?: RestartPolicy) {
  const started: Array<{ conn: AnyClientHandle; abort: AbortController }> = [];
  const spec: ChildSpec = {
    id,
    ...(restart === undefined ? {} : { restart }),
    start: async () => {
      const abort = new AbortController();
      const conn = await startClient({}, null, {
        url: URL,
        logger: s.logger,
        signal: abort.signal,
      }, { connector: s.connector, clock: s.clock });
      started.push({ conn, abort });
      return conn;
    },
  };
  return { spec, started, current: () => started.at(-1)!.conn };
}

const quiet: SupervisorOptions = { logger: recordingLogger() };

// --- restarts ---

Deno.test("supervisor: a child that stops abnormally is restarted, one that stops normally is not", async () => {
  using s = scripted();
  let crashes = 0;
  const flaky = defineClient({
    handleConnect: (st: null) => (crashes++ === 0 ? stop("boom", st) : ok(st)),
  });
  const finisher = defineClient({ handleConnect: (st: null) => stop("normal", st) });
  {
    await using sup = await supervise([
      {
        id: "flaky",
        start: () =>
          startClient(flaky.callbacks, null, { url: URL, name: "sup-flaky", logger: s.logger }, {
            connector: s.connector,
            clock: s.clock,
          }),
      },
      {
        id: "finisher",
        start: () =>
          startClient(finisher.callbacks, null, { url: URL, logger: s.logger }, {
            connector: s.connector,
            clock: s.clock,
          }),
      },
    ], { logger: s.logger });
    await until(
      () => sup.children()[0].restarts === 1 && sup.child("flaky")?.state === "connected",
      "flaky restarted",
    );
    await until(() => sup.child("finisher") === undefined, "finisher stopped");
    await settle();
    const [flakyInfo, finisherInfo] = sup.children();
    assert.equal(flakyInfo.restarts, 1);
    assert.equal(whereis("sup-flaky"), flakyInfo.client, "the name is held by the new client");
    assert.equal(finisherInfo.restarts, 0);
    assert.equal(finisherInfo.client, undefined);
    assert.equal(s.connector.connections.length, 3);
    assert.ok(
      s.logger.messages.some((m) =>
        m.level === "warn" &&
        /restarting child "flaky" after: stopped with reason "boom"$/.test(m.message)
      ),
    );
    assert.deepEqual(await sup.stop(), { kind: "normal" });
  }
  assert.equal(whereis("sup-flaky"), undefined);
});

Deno.test("supervisor: after a normal stop only a permanent child is restarted", async () => {
  using s = scripted();
  const children = [
    childOf(s, "permanent", "permanent"),
    childOf(s, "transient", "transient"),
    childOf(s, "default"),
    childOf(s, "temporary", "temporary"),
  ];
  await using sup = await supervise(children.map((c) => c.spec), {
    maxRestarts: 100,
    period: 60_000,
    ...quiet,
  });
  for (const c of children) await c.current().stop();
  await until(() => sup.child("permanent") !== undefined, "the permanent child back");
  await settle();
  assert.deepEqual(sup.children().map((c) => [c.id, c.restarts, c.client !== undefined]), [
    ["permanent", 1, true],
    ["transient", 0, false],
    ["default", 0, false],
    ["temporary", 0, false],
  ]);
  assert.deepEqual(children.map((c) => c.started.length), [2, 1, 1, 1]);
});

Deno.test("supervisor: the restart warning shows a stop reason that is not a string as other messages show values, never [object Object]", async () => {
  using s = scripted();
  const child = childOf(s, "child");
  await using sup = await supervise([child.spec], { logger: s.logger });
  await child.current().stop({ code: "overloaded" });
  await until(() => sup.children()[0].restarts === 1, "the child restarted");
  await child.current().stop(new Error("feed went bad"));
  await until(() => sup.children()[0].restarts === 2, "the child restarted again");
  const warnings = s.logger.messages
    .filter((m) => m.level === "warn" && m.message.startsWith("[parley supervisor]"))
    .map((m) => m.message);
  assert.deepEqual(warnings, [
    '[parley supervisor] restarting child "child" after: stopped with reason an object',
    '[parley supervisor] restarting child "child" after: stopped with reason feed went bad',
  ]);
});

Deno.test("supervisor: a stop by the client's abort signal counts as normal", async () => {
  using s = scripted();
  const transient = childOf(s, "transient");
  const permanent = childOf(s, "permanent", "permanent");
  await using sup = await supervise([transient.spec, permanent.spec], quiet);
  for (const c of [transient, permanent]) c.started[0].abort.abort(new Error("shut down"));
  assert.equal((await transient.started[0].conn.stopped).kind, "aborted");
  assert.equal((await permanent.started[0].conn.stopped).kind, "aborted");
  await until(() => sup.child("permanent") !== undefined, "the permanent child back");
  await settle();
  assert.equal(sup.child("transient"), undefined);
  assert.deepEqual(sup.children().map((c) => c.restarts), [0, 1]);
});

Deno.test("supervisor: transient (the default) and permanent children come back after an abnormal stop, temporary ones do not", async () => {
  using s = scripted();
  const children = [
    childOf(s, "permanent", "permanent"),
    childOf(s, "transient", "transient"),
    childOf(s, "default"),
    childOf(s, "temporary", "temporary"),
  ];
  await using sup = await supervise(children.map((c) => c.spec), {
    maxRestarts: 100,
    period: 60_000,
    ...quiet,
  });
  for (const c of children) await c.current().stop("crashed");
  await until(
    () => ["permanent", "transient", "default"].every((id) => sup.child(id) !== undefined),
    "three children back",
  );
  await settle();
  assert.deepEqual(sup.children().map((c) => [c.id, c.restarts, c.client !== undefined]), [
    ["permanent", 1, true],
    ["transient", 1, true],
    ["default", 1, true],
    ["temporary", 0, false],
  ]);
  for (const [i, c] of children.entries()) assert.equal(c.started.length, i === 3 ? 1 : 2);
});

Deno.test("supervisor: more than maxRestarts restarts within period stop every child and the supervisor with max_restarts", async () => {
  using s = scripted();
  const crasher = defineClient({ handleConnect: (st: null) => stop("boom", st) });
  const bystander = childOf(s, "bystander");
  const sup = await supervise([
    bystander.spec,
    {
      id: "crasher",
      start: () =>
        startClient(crasher.callbacks, null, { url: URL, logger: s.logger }, {
          connector: s.connector,
          clock: s.clock,
        }),
    },
  ], { maxRestarts: 2, period: 60_000, logger: s.logger });
  const reason = await sup.stopped;
  assert.deepEqual(reason, {
    kind: "max_restarts",
    id: "crasher",
    reason: { kind: "user", reason: "boom" },
  });
  assert.equal(s.connector.connections.length, 4, "the bystander and the crasher's 3 starts");
  assert.equal(sup.children()[1].restarts, 2);
  assert.equal(sup.child("crasher"), undefined);
  assert.equal(sup.child("bystander"), undefined);
  assert.deepEqual(await bystander.current().stopped, { kind: "normal" }, "stopped with it");
  assert.ok(
    s.logger.messages.some((m) => m.level === "error" && /more than 2 times/.test(m.message)),
  );
  assert.deepEqual(await sup.stop(), reason, "stop() afterwards keeps the first reason");
});

Deno.test("supervisor: restarts older than period no longer count toward maxRestarts", async () => {
  using s = scripted();
  const child = childOf(s, "child");
  await using sup = await supervise([child.spec], { maxRestarts: 1, period: 100, ...quiet });
  const crashAndWait = async (restarts: number) => {
    await child.current().stop("crash");
    await until(() => sup.children()[0].restarts === restarts && sup.child("child") !== undefined);
  };
  await crashAndWait(1);
  await new Promise((resolve) => setTimeout(resolve, 150)); // the first restart leaves the window
  await crashAndWait(2);
  // A third crash right away is the second restart within 100 ms: one too many.
  await child.current().stop("crash");
  assert.deepEqual(await sup.stopped, {
    kind: "max_restarts",
    id: "child",
    reason: { kind: "user", reason: "crash" },
  });
  assert.equal(child.started.length, 3);
});

Deno.test("supervisor: with maxRestarts 0 the first abnormal stop stops the supervisor", async () => {
  using s = scripted();
  const child = childOf(s, "only");
  const sup = await supervise([child.spec], { maxRestarts: 0, ...quiet });
  await child.current().stop("crash");
  assert.deepEqual(await sup.stopped, {
    kind: "max_restarts",
    id: "only",
    reason: { kind: "user", reason: "crash" },
  });
  assert.equal(child.started.length, 1);
  assert.equal(sup.children()[0].restarts, 0);
});

Deno.test("supervisor: a restart whose start() throws counts as a restart and is tried again", async () => {
  using s = scripted();
  const child = childOf(s, "child");
  let failing = 0; // how many of the next starts throw
  const spec: ChildSpec = {
    id: "child",
    start: () => failing-- > 0 ? Promise.reject(new Error("cannot start")) : child.spec.start(),
  };
  await using sup = await supervise([spec], { maxRestarts: 3, period: 60_000, ...quiet });
  failing = 2;
  await child.current().stop("crash");
  await until(() => child.started.length === 2, "a restart that works");
  assert.equal(sup.children()[0].restarts, 3, "two restarts that threw, then one that worked");
  assert.equal(sup.child("child"), child.current());
});

Deno.test("supervisor: restarts that keep throwing end the supervisor with the error, at the limit", async () => {
  using s = scripted();
  const child = childOf(s, "child");
  const sup = await supervise([{
    id: "child",
    start: () =>
      child.started.length === 0 ? child.spec.start() : Promise.reject(new Error("gone")),
  }], { maxRestarts: 2, period: 60_000, ...quiet });
  await child.current().stop("crash");
  const reason = await sup.stopped;
  assert.equal(reason.kind, "max_restarts");
  const last = (reason as { reason: StopReason }).reason;
  assert.equal(last.kind, "error");
  assert.equal((last as { error: Error }).error.message, "gone");
  assert.equal(sup.children()[0].restarts, 2);
});

// --- what it reports, and stopping ---

Deno.test("supervisor: children() lists id, client and restarts in start order; child(id) is the running client", async () => {
  using s = scripted();
  const a = childOf(s, "a");
  const b = childOf(s, "b", "temporary");
  await using sup = await supervise([a.spec, b.spec], quiet);
  assert.deepEqual(sup.children(), [
    { id: "a", client: a.current(), restarts: 0 },
    { id: "b", client: b.current(), restarts: 0 },
  ]);
  assert.equal(sup.child("a"), a.current());
  assert.equal(sup.child("nobody"), undefined);
  await b.current().stop();
  await until(() => sup.child("b") === undefined, "b gone");
  assert.deepEqual(sup.children()[1], { id: "b", client: undefined, restarts: 0 });
});

Deno.test("supervisor: stop() stops the children in reverse start order, once, and none is restarted", async () => {
  using s = scripted();
  const order: string[] = [];
  const children = ["first", "second", "third"].map((id) => childOf(s, id, "permanent"));
  const sup = await supervise(children.map((c) => c.spec), quiet);
  for (const [i, c] of children.entries()) {
    c.current().stopped.then(() => order.push(["first", "second", "third"][i]));
  }
  const [r1, r2] = await Promise.all([sup.stop(), sup.stop()]);
  assert.deepEqual(r1, { kind: "normal" });
  assert.deepEqual(r2, { kind: "normal" });
  assert.deepEqual(await sup.stopped, { kind: "normal" });
  assert.deepEqual(order, ["third", "second", "first"]);
  await settle();
  assert.deepEqual(children.map((c) => c.started.length), [1, 1, 1], "permanent, not restarted");
  assert.deepEqual(sup.children().map((c) => c.client), [undefined, undefined, undefined]);
});

Deno.test("supervisor: await using stops it and its children at the end of the block", async () => {
  using s = scripted();
  const child = childOf(s, "child");
  let supervisor: Awaited<ReturnType<typeof supervise>> | undefined;
  {
    await using sup = await supervise([child.spec], quiet);
    supervisor = sup;
    assert.notEqual(child.current().state, "stopped");
  }
  assert.deepEqual(await supervisor.stopped, { kind: "normal" });
  assert.equal(child.current().state, "stopped");
});

Deno.test("supervisor: a child that fails to start makes supervise reject with its error, after stopping those started", async () => {
  using s = scripted();
  const before = childOf(s, "before");
  const broken: ChildSpec = { id: "broken", start: () => Promise.reject(new Error("no way")) };
  const after = childOf(s, "after");
  await assert.rejects(supervise([before.spec, broken, after.spec], quiet), /no way/);
  assert.equal(before.started.length, 1);
  assert.equal(before.current().state, "stopped");
  assert.equal(after.started.length, 0, "the children after it never start");
});

Deno.test("supervisor: aborting the signal option stops it and its children; an aborted signal rejects at once", async () => {
  using s = scripted();
  const child = childOf(s, "child", "permanent");
  const ac = new AbortController();
  const sup = await supervise([child.spec], { signal: ac.signal, ...quiet });
  ac.abort();
  assert.deepEqual(await sup.stopped, { kind: "normal" });
  assert.equal(child.current().state, "stopped");
  assert.equal(child.started.length, 1);

  const gone = AbortSignal.abort(new Error("already"));
  await assert.rejects(
    supervise([childOf(s, "never").spec], { signal: gone, ...quiet }),
    /already/,
  );
});

// --- arguments ---

Deno.test("supervisor: supervise refuses bad children and options with a TypeError or RangeError", async () => {
  const start = () => Promise.reject(new Error("never started"));
  const refusals: Array<[unknown, SupervisorOptions, ErrorConstructor, RegExp]> = [
    [{ id: "a", start }, {}, TypeError, /children must be an array/],
    [[{ start }], {}, TypeError, /a string id and a start function/],
    [[{ id: "a" }], {}, TypeError, /a string id and a start function/],
    [[null], {}, TypeError, /a string id and a start function/],
    [[{ id: "a", start }, { id: "a", start }], {}, TypeError, /"a" is used twice/],
    [
      [{ id: "a", start, restart: "sometimes" }],
      {},
      TypeError,
      /permanent, transient or temporary/,
    ],
    [[], { maxRestarts: -1 }, RangeError, /maxRestarts must be a whole number/],
    [[], { maxRestarts: 1.5 }, RangeError, /maxRestarts must be a whole number/],
    [[], { period: 0 }, RangeError, /period must be above 0 ms/],
    [[], { period: NaN }, RangeError, /period must be above 0 ms/],
  ];
  for (const [children, options, type, message] of refusals) {
    await assert.rejects(
      supervise(children as ChildSpec[], options),
      (e: unknown) => e instanceof type && message.test((e as Error).message),
      `${JSON.stringify(children)} ${JSON.stringify(options)}`,
    );
  }
  // No children is fine.
  const empty = await supervise([], quiet);
  assert.deepEqual(empty.children(), []);
  assert.deepEqual(await empty.stop(), { kind: "normal" });
});
