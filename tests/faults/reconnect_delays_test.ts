// Reconnect delays against real servers (Deno.serve): a server refusing with 503 and
// `Retry-After: 1` is retried after the second it asks for (capped by maxRetryAfter), not on the
// client's backoff; a server that accepts and drops at once is retried with a growing delay while
// connections do not last minUptime, and at the base delay when minUptime is 0. The delays the
// client announces (conn.events() "reconnecting") must match the options, and the attempts must
// follow them. The socket transport under Deno, Node and Bun; minUptime on the web transport too
// (the web API gives no response headers, so it cannot see Retry-After).

import assert from "node:assert/strict";
import { startDroppingServer, startRefusingServer } from "./fault_server.ts";
import { type FaultEvent, startFaultClient } from "./fault_runner.ts";
import { ALL, allAtOnce, oneAfterAnother, SOCKET, type Target } from "./targets.ts";

/** How late an attempt may begin after its announced delay (a busy 2-core machine). */
const LATE = 200;
/** The same with twelve clients at once (the minUptime case): their timers delay each other. */
const LATE_AT_ONCE = 600;

/**
 * For each "reconnecting" event: its announced delay, and the time until the next attempt began
 * (its "connecting" event), both in ms.
 */
function waits(events: readonly FaultEvent[]): Array<{ delay: number; waited: number }> {
  return events.flatMap((e, i) => {
    if (e.event !== "reconnecting") return [];
    const next = events.slice(i + 1).find((n) => n.event === "connecting");
    if (next === undefined) return [];
    return [{ delay: e.delay as number, waited: (next.at as number) - (e.at as number) }];
  });
}

/** Checks that every attempt began after its delay, and at most `late` ms later. */
function assertWaited(events: readonly FaultEvent[], late = LATE): void {
  for (const { delay, waited } of waits(events)) {
    assert.ok(
      waited >= delay - 2 && waited <= delay + late,
      `an attempt began ${waited} ms after a reconnect announced for ${delay} ms`,
    );
  }
}

Deno.test("Retry-After: a 503 with Retry-After: 1 is retried after 1000 ms, not the 51-100 ms backoff; maxRetryAfter caps it", async () => {
  await oneAfterAnother(SOCKET, async (target: Target) => {
    await Promise.all([undefined, 300].map(async (cap) => {
      await using server = await startRefusingServer(503, "1");
      const client = startFaultClient(target.place, {
        url: server.url(),
        transport: target.transport,
        reconnect: { baseDelay: 100, maxDelay: 5000, ...(cap ? { maxRetryAfter: cap } : {}) },
      });
      const want = cap ?? 1000;
      await client.printed("connecting", (e) => e.attempt === 3, 10_000);
      client.send({ cmd: "stop" });
      await client.printed("stop_returned");
      await client.finish();
      const reconnecting = client.all("reconnecting").slice(0, 2);
      assert.deepEqual(reconnecting.map((e) => e.delay), [want, want], `cap ${cap}`);
      const disconnects = client.all("disconnected").slice(0, 2);
      for (const d of disconnects) {
        const reason = d.reason as { kind: string; error: { name: string; message: string } };
        assert.equal(reason.kind, "error");
        assert.equal(reason.error.name, "HandshakeError");
        assert.match(reason.error.message, /503/);
      }
      assertWaited(client.events);
      assert.ok(server.accepted.length >= 2);
    }));
  });
});

Deno.test("minUptime: a server that accepts and drops at once is retried with growing delays (retry 1, 2, 3, 4 within 51-100, 101-200, 201-400, 401-800 ms); with minUptime 0, at the base delay each time", async () => {
  // At once: the delays the client announces are exact, and the attempts are checked to follow
  // them (within LATE_AT_ONCE).
  await allAtOnce(ALL, async (target: Target) => {
    for (const minUptime of [5000, 0]) {
      await using server = await startDroppingServer();
      const client = startFaultClient(target.place, {
        url: server.url(),
        transport: target.transport,
        reconnect: { baseDelay: 100, maxDelay: 10_000, minUptime },
      });
      await client.printed("connecting", (e) => e.attempt === 5, 10_000);
      client.send({ cmd: "stop" });
      await client.printed("stop_returned");
      await client.finish();
      const reconnecting = client.all("reconnecting").slice(0, 4);
      const connected = client.all("connected");
      assert.ok(connected.length >= 4, `${connected.length} connections`);
      for (const d of client.all("disconnected").slice(0, 4)) {
        assert.deepEqual(d.reason, { kind: "remote_close", code: 1001, reason: "going away" });
      }
      const retries = reconnecting.map((e) => e.retry);
      if (minUptime > 0) {
        assert.deepEqual(retries, [1, 2, 3, 4]);
        reconnecting.forEach((e, i) => {
          const ceiling = 100 * 2 ** i;
          const delay = e.delay as number;
          assert.ok(delay > ceiling / 2 && delay <= ceiling, `retry ${i + 1}: ${delay} ms`);
        });
      } else {
        assert.deepEqual(retries, [1, 1, 1, 1]);
        for (const e of reconnecting) {
          assert.ok((e.delay as number) > 50 && (e.delay as number) <= 100, `${e.delay} ms`);
        }
      }
      assertWaited(client.events, LATE_AT_ONCE);
    }
  });
});
