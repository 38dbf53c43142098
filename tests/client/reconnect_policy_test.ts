// The reconnect policy beyond the backoff: Retry-After on a refused upgrade, failures that look
// permanent, retryPermanent: false, maxElapsed, and minUptime (with the fake clock and a
// scripted connector; tests/e2e/reconnection_test.ts runs minUptime against a real server).

import assert from "node:assert/strict";
import { HandshakeError, ProtocolError } from "../../mod.ts";
import { scheduledReconnects } from "../support/recorder.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, recordingDisconnects, startScripted } from "../support/scripted_client.ts";

const recording = recordingDisconnects;

const refused = (status: number, headers: Record<string, string> = {}) =>
  new HandshakeError(`Cannot connect as the server answered ${status}`, {
    status,
    headers: new Headers(headers),
  });

const reconnect = { baseDelay: 100, maxDelay: 1000, random: () => 0, minUptime: 0 };

for (
  const [status, header, expected, what] of [
    [429, "3", 3000, "seconds"],
    [503, "0", 0, "zero seconds"],
    [503, "600", 5000, "seconds, cut to maxRetryAfter"],
  ] as const
) {
  Deno.test(`Retry-After on a refused upgrade (${status}, ${what}) sets the delay: ${expected} ms`, async () => {
    const r = recording();
    await using h = await startScripted(r.def, null, {
      reconnect: { ...reconnect, maxRetryAfter: 5000 },
    });
    const c = await h.connector.connection(1);
    c.error(refused(status, { "retry-after": header }));
    await until(() => r.reasons.length === 1, "handleDisconnect");
    await settle();
    assert.deepEqual(scheduledReconnects(h.logger), [{ delay: expected, retry: 1 }]);
    assert.ok(
      h.logger.messages.some((m) =>
        m.level === "info" && /as the server asked \(Retry-After\)/.test(m.message)
      ),
    );
    await h.clock.tickAsync(expected);
    await h.connector.connection(2);
  });
}

Deno.test("Retry-After as an HTTP date waits until then; maxDelay caps it by default", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, { reconnect });
  const c = await h.connector.connection(1);
  const inTwo = new Date(Date.now() + 2000).toUTCString();
  c.error(refused(503, { "retry-after": inTwo }));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await settle();
  const [{ delay }] = scheduledReconnects(h.logger);
  assert.ok(delay > 500 && delay <= 2000, `delay ${delay}`);
  const c2 = await (async () => {
    await h.clock.tickAsync(delay);
    return await h.connector.connection(2);
  })();
  c2.error(refused(503, { "retry-after": "3600" }));
  await until(() => r.reasons.length === 2, "handleDisconnect");
  await settle();
  assert.equal(scheduledReconnects(h.logger)[1].delay, 1000);
});

Deno.test("Retry-After is ignored on other statuses and when malformed: the backoff applies", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, { reconnect });
  (await h.connector.connection(1)).error(refused(500, { "retry-after": "9" }));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(51);
  (await h.connector.connection(2)).error(refused(429, { "retry-after": "soon" }));
  await until(() => r.reasons.length === 2, "handleDisconnect");
  await settle();
  assert.deepEqual(scheduledReconnects(h.logger), [
    { delay: 51, retry: 1 },
    { delay: 101, retry: 2 },
  ]);
});

for (
  const [what, fail, permanent] of [
    ["a 401 refusal", (c: { error(e: Error): void }) => c.error(refused(401)), true],
    ["a 403 refusal", (c: { error(e: Error): void }) => c.error(refused(403)), true],
    ["a 404 refusal", (c: { error(e: Error): void }) => c.error(refused(404)), true],
    ["a 400 refusal", (c: { error(e: Error): void }) => c.error(refused(400)), true],
    ["a 500 refusal", (c: { error(e: Error): void }) => c.error(refused(500)), false],
    ["a 429 refusal", (c: { error(e: Error): void }) => c.error(refused(429)), false],
    ["a reset", (c: { error(e: Error): void }) => c.error(new Error("ECONNRESET")), false],
    [
      "our 1002 for a violation",
      (c: { error(e: Error): void }) => c.error(new ProtocolError(1002, "masked frame")),
      true,
    ],
    [
      "our 1009 for a limit",
      (c: { error(e: Error): void }) => c.error(new ProtocolError(1009, "too big")),
      false,
    ],
  ] as const
) {
  Deno.test(`${what} ${permanent ? "looks permanent" : "looks transient"} (reason.permanent)`, async () => {
    const r = recording();
    await using h = await startScripted(r.def, null);
    fail(await h.connector.connection(1));
    await until(() => r.reasons.length === 1, "handleDisconnect");
    assert.equal(r.reasons[0].permanent, permanent ? true : undefined);
    assert.equal("permanent" in r.reasons[0], permanent);
  });
}

for (const code of [1002, 1003, 1007, 1008, 1000, 1001, 1011, 4000]) {
  const permanent = [1002, 1003, 1007, 1008].includes(code);
  Deno.test(`a server close with ${code} ${permanent ? "looks permanent" : "looks transient"}`, async () => {
    const r = recording();
    await using h = await startScripted(r.def, null);
    const c = await openScripted(h);
    c.remoteClose(code, "bye");
    await until(() => r.reasons.length === 1, "handleDisconnect");
    assert.deepEqual(
      r.reasons[0],
      permanent
        ? { kind: "remote_close", code, reason: "bye", permanent: true }
        : { kind: "remote_close", code, reason: "bye" },
    );
  });
}

Deno.test("retryPermanent: true (the default) retries a permanent failure; false stops with permanent_failure and one error line", async () => {
  const r1 = recording();
  await using h1 = await startScripted(r1.def, null, { reconnect });
  (await h1.connector.connection(1)).error(refused(401));
  await until(() => r1.reasons.length === 1, "handleDisconnect");
  await settle();
  assert.equal(scheduledReconnects(h1.logger).length, 1);

  const r2 = recording();
  await using h2 = await startScripted(r2.def, null, {
    reconnect: { ...reconnect, retryPermanent: false },
  });
  (await h2.connector.connection(1)).error(refused(403));
  const reason = await h2.conn.stopped;
  assert.equal(reason.kind, "permanent_failure");
  assert.ok(reason.kind === "permanent_failure" && reason.lastReason.permanent === true);
  assert.equal(scheduledReconnects(h2.logger).length, 0);
  const errors = h2.logger.messages.filter((m) => m.level === "error");
  assert.ok(errors.some((m) => /Giving up: the failure looks permanent/.test(m.message)));
});

Deno.test("maxElapsed: reconnecting gives up after that long without a stable connection (max_elapsed_exceeded)", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, {
    reconnect: { ...reconnect, minUptime: 1000, maxElapsed: 700 },
  });
  (await h.connector.connection(1)).error(new Error("refused"));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(51);
  (await h.connector.connection(2)).error(new Error("refused"));
  await until(() => r.reasons.length === 2, "handleDisconnect");
  await h.clock.tickAsync(101);
  // Up, but not for minUptime: the outage goes on.
  const c3 = await openScripted(h, 3);
  await h.clock.tickAsync(300);
  c3.remoteClose(1011, "");
  await until(() => r.reasons.length === 3, "handleDisconnect");
  await h.clock.tickAsync(300);
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "max_elapsed_exceeded");
  assert.ok(reason.kind === "max_elapsed_exceeded" && reason.elapsed === 700);
  // Giving up logs one error, as max_retries_exceeded and permanent_failure do.
  assert.deepEqual(
    h.logger.messages.filter((m) => m.level === "error").map((m) => m.message),
    ["[parley] stopped: gave up reconnecting after 700 ms (3 attempts)"],
  );
});

Deno.test("maxRetries: giving up logs one error, and one retry is one attempt", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, { reconnect: { ...reconnect, maxRetries: 1 } });
  (await h.connector.connection(1)).error(new Error("refused"));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(101);
  (await h.connector.connection(2)).error(new Error("refused"));
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "max_retries_exceeded");
  assert.deepEqual(
    h.logger.messages.filter((m) => m.level === "error").map((m) => m.message),
    ["[parley] stopped: gave up after 1 reconnect attempt"],
  );
});

Deno.test("maxElapsed: the deadline passing while an unstable connection is up gives up when it drops", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, {
    reconnect: { ...reconnect, minUptime: 1000, maxElapsed: 200 },
  });
  (await h.connector.connection(1)).error(new Error("refused"));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(51);
  const c2 = await openScripted(h, 2);
  await h.clock.tickAsync(500); // the deadline passes while connected, before minUptime
  assert.equal(h.conn.state, "connected");
  c2.remoteClose(1011, "");
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "max_elapsed_exceeded");
});

Deno.test("maxElapsed: a stable connection (minUptime) ends the outage, and the next one gets a fresh deadline", async () => {
  const r = recording();
  await using h = await startScripted(r.def, null, {
    reconnect: { ...reconnect, minUptime: 100, maxElapsed: 300 },
  });
  (await h.connector.connection(1)).error(new Error("refused"));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(51);
  const c2 = await openScripted(h, 2);
  await h.clock.tickAsync(1000);
  c2.remoteClose(1011, "");
  await until(() => r.reasons.length === 2, "handleDisconnect");
  await h.clock.tickAsync(51);
  await openScripted(h, 3);
  assert.equal(h.conn.state, "connected");
});
