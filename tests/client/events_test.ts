// conn.events(), conn.ready() and the diagnostics_channel events: every state change in order,
// any number of readers each with a bounded buffer (a slow one is told what it missed and never
// slows the client), the end at stop, and breaking out releases a reader.

import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import {
  type ClientEvent,
  ClientStoppedError,
  defineClient,
  type DisconnectReason,
  ok,
} from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { startWsServer } from "../support/servers.ts";
import { openScripted, startScripted } from "../support/scripted_client.ts";

/** Collects what a reader gets until the iteration ends. */
function collect(
  iterable: AsyncIterable<ClientEvent>,
): { events: ClientEvent[]; done: Promise<void> } {
  const events: ClientEvent[] = [];
  const done = (async () => {
    for await (const e of iterable) events.push(e);
  })();
  return { events, done };
}

const brief = (e: ClientEvent) => {
  switch (e.type) {
    case "connecting":
      return `connecting ${e.attempt}`;
    case "connected":
      return "connected";
    case "disconnected":
      return `disconnected ${e.reason.kind}`;
    case "reconnecting":
      return `reconnecting ${e.attempt} retry ${e.retry} in ${e.delay}`;
    case "stopped":
      return `stopped ${e.reason.kind}`;
    case "missed":
      return `missed ${e.count}`;
  }
};

Deno.test("events: every state change in order across drops and reconnects, to two readers, ending at stop", async () => {
  await using h = await startScripted(
    defineClient({ handleDisconnect: (_r: DisconnectReason, s: null) => ok(s) }),
    null,
    { reconnect: { baseDelay: 100, random: () => 0, minUptime: 0 } },
  );
  const a = collect(h.conn.events());
  const b = collect(h.conn.events());
  const c1 = await openScripted(h);
  c1.remoteClose(1011, "oops");
  await until(() => a.events.length >= 3, "three events");
  await h.clock.tickAsync(51);
  (await h.connector.connection(2)).error(new Error("refused"));
  await settle();
  await h.clock.tickAsync(101);
  await openScripted(h, 3);
  await h.conn.stop();
  await a.done;
  await b.done;
  const expected = [
    "connected",
    "disconnected remote_close",
    "reconnecting 2 retry 1 in 51",
    "connecting 2",
    "disconnected error",
    "reconnecting 3 retry 2 in 101",
    "connecting 3",
    "connected",
    "disconnected closed",
    "stopped normal",
  ];
  // stop() closes with a normal close (no handleDisconnect, so no disconnected event).
  expected.splice(expected.indexOf("disconnected closed"), 1);
  assert.deepEqual(a.events.map(brief), expected);
  assert.deepEqual(b.events.map(brief), expected);
  for (const e of a.events) assert.ok(Math.abs(e.at - Date.now()) < 5000);
});

Deno.test("events: a reader that falls behind loses the oldest and is told how many; the client does not wait for it", async () => {
  await using h = await startScripted(
    defineClient({}),
    null,
    { reconnect: { baseDelay: 10, maxDelay: 10, random: () => 0, minUptime: 0 } },
  );
  const reader = h.conn.events({ buffer: 3 });
  // 10 failed attempts, 3 events each, with nobody reading.
  for (let n = 1; n <= 10; n++) {
    (await h.connector.connection(n)).error(new Error(`refused ${n}`));
    await settle();
    await h.clock.tickAsync(10);
  }
  await h.connector.connection(11);
  const first = await reader.next();
  assert.equal(first.done, false);
  assert.equal(first.value.type, "missed");
  assert.ok((first.value as { count: number }).count > 20);
  const rest = [await reader.next(), await reader.next(), await reader.next()];
  assert.deepEqual(rest.map((r) => brief(r.value as ClientEvent)), [
    "disconnected error",
    "reconnecting 11 retry 10 in 6",
    "connecting 11",
  ]);
  await reader.return!();
});

Deno.test("events: breaking out of the loop releases the reader; events() after stop ends at once", async () => {
  await using h = await startScripted(defineClient({}), null);
  let seen = 0;
  const loop = (async () => {
    for await (const _ of h.conn.events()) {
      seen++;
      break;
    }
  })();
  await openScripted(h);
  await loop;
  assert.equal(seen, 1);
  await h.conn.stop();
  const after = h.conn.events();
  assert.deepEqual(await after.next(), { value: undefined, done: true });
  assert.throws(() => h.conn.events({ buffer: 0 }), RangeError);
});

Deno.test("ready(): resolves when connected (at once if it is), rejects when the client stops or the signal aborts", async () => {
  await using h = await startScripted(defineClient({}), null);
  const waiting = h.conn.ready();
  let done = false;
  waiting.then(() => (done = true));
  await settle();
  assert.equal(done, false);
  await openScripted(h);
  await waiting;
  await h.conn.ready(); // at once
  const c = await h.connector.connection(1);
  c.remoteClose(1000, "");
  await until(() => h.conn.state === "disconnected", "disconnected");
  const aborted = new AbortController();
  const gaveUp = h.conn.ready({ signal: aborted.signal });
  aborted.abort(new Error("enough waiting"));
  await assert.rejects(gaveUp, /enough waiting/);
  const pending = h.conn.ready();
  await h.conn.stop();
  await assert.rejects(pending, ClientStoppedError);
  await assert.rejects(h.conn.ready(), ClientStoppedError);
});

Deno.test("ready() and events(): options are checked as start's are (an unknown key, a non-AbortSignal signal, a buffer that is not a number)", async () => {
  await using h = await startScripted(defineClient({}), null);
  await assert.rejects(
    h.conn.ready({ timeout: 300 } as never),
    (e) =>
      e instanceof TypeError &&
      e.message ===
        'Cannot wait for the client as the option "timeout" is unknown (to wait at most so long, pass signal: AbortSignal.timeout(ms))',
  );
  await assert.rejects(
    h.conn.ready({ toString: 1 } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === 'Cannot wait for the client as the option "toString" is unknown',
  );
  await assert.rejects(
    h.conn.ready({ signal: 300 } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === 'Cannot wait for the client as "signal" must be an AbortSignal, got 300',
  );
  await assert.rejects(h.conn.ready("soon" as never), TypeError);
  assert.throws(
    () => h.conn.events({ size: 10 } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === `Cannot read the client's events as the option "size" is unknown`,
  );
  assert.throws(
    () => h.conn.events({ buffer: "10" } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === `Cannot read the client's events as "buffer" must be a number, got "10"`,
  );
  assert.throws(() => h.conn.events({ buffer: 0 }), RangeError);
  await assert.rejects(
    h.conn.disconnect({ code: 1000, reson: "bye" } as never),
    (e) =>
      e instanceof TypeError && e.message === 'Cannot disconnect as the option "reson" is unknown',
  );
});

Deno.test("diagnostics_channel: parley:connecting, connected, disconnected and stopped carry the handle and the event", async () => {
  const seen: Array<{ channel: string; message: { client: unknown; event: ClientEvent } }> = [];
  const subscribers = ["connecting", "connected", "disconnected", "stopped"].map((type) => {
    const name = `parley:${type}`;
    const fn = (message: unknown) =>
      seen.push({ channel: name, message: message as { client: unknown; event: ClientEvent } });
    dc.subscribe(name, fn);
    return () => dc.unsubscribe(name, fn);
  });
  try {
    await using h = await startScripted(defineClient({}), null, { name: "dc-client" });
    const c = await openScripted(h);
    c.remoteClose(1001, "bye");
    await until(() => h.conn.state === "disconnected", "disconnected");
    await h.conn.stop();
    assert.deepEqual(seen.map((s) => s.channel), [
      "parley:connecting",
      "parley:connected",
      "parley:disconnected",
      "parley:stopped",
    ]);
    assert.ok(seen.every((s) => s.message.client === h.conn));
  } finally {
    for (const unsubscribe of subscribers) unsubscribe();
  }
});

for (const transport of ["socket", "web"] as const) {
  Deno.test(`info.url [${transport}]: handleConnect, the connected event and diagnostics_channel get the URL without its credentials or query values`, async () => {
    await using server = await startWsServer();
    const seen: unknown[] = [];
    const fn = (message: unknown) => seen.push(message);
    dc.subscribe("parley:connected", fn);
    try {
      const urls: string[] = [];
      const Client = defineClient<null>({
        handleConnect: (state, info) => {
          urls.push(info.url);
          return ok(state);
        },
      });
      await using conn = await Client.start(null, {
        url: `ws://bob:hunter2@127.0.0.1:${server.port}/ws?token=s3cr3t&x`,
        transport,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      const reader = conn.events()[Symbol.asyncIterator]();
      await conn.ready();
      const expected = `ws://***@127.0.0.1:${server.port}/ws?token=***&x`;
      assert.deepEqual(urls, [expected]);
      let event = (await reader.next()).value as ClientEvent;
      while (event.type !== "connected") event = (await reader.next()).value as ClientEvent;
      assert.equal(event.info.url, expected);
      await reader.return?.();
      const published = seen.map((m) => (m as { event: ClientEvent }).event);
      assert.equal(published.length, 1);
      assert.ok(published[0].type === "connected" && published[0].info.url === expected);
      assert.doesNotMatch(JSON.stringify([urls, event, published]), /bob|hunter2|s3cr3t/);
    } finally {
      dc.unsubscribe("parley:connected", fn);
    }
  });
}
