// sendFrame resolves only once the transport says the frame's bytes went out; a send whose bytes
// never went out rejects, with ConnectionError when the connection ended first and with
// ClientStoppedError when the client stopped. The same for frames queued while connecting.

import assert from "node:assert/strict";
import {
  ClientStoppedError,
  ConnectionError,
  defineClient,
  type DisconnectReason,
  ok,
} from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { isSettled, openScripted, startScripted, text } from "../support/scripted_client.ts";

Deno.test("a send waiting for its bytes rejects with ClientStoppedError when the client stops and they never go out", async () => {
  await using h = await startScripted(defineClient({}), null);
  const c = await openScripted(h);
  c.holdWrites();
  const sent = h.conn.sendFrame(text("stuck"));
  assert.equal(await isSettled(sent), false);
  const stopped = h.conn.stop();
  await settle();
  c.failWrites(new Error("the stream was destroyed"));
  await assert.rejects(sent, (e) => e instanceof ClientStoppedError && e.reason.kind === "normal");
  await stopped;
});

Deno.test("a send waiting for its bytes rejects with ConnectionError (the reason, the write's error as cause) when the connection drops", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await startScripted(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
  );
  const c = await openScripted(h);
  c.holdWrites();
  const sent = h.conn.sendFrame(text("stuck"));
  const lost = new Error("The connection was reset");
  c.error(lost);
  await until(() => reasons.length === 1, "handleDisconnect");
  const cause = new Error("the stream was destroyed");
  c.failWrites(cause);
  await assert.rejects(
    sent,
    (e) =>
      e instanceof ConnectionError && e.reason.kind === "error" && e.reason.error === lost &&
      e.cause === cause && /before it was written/.test(e.message),
  );
});

Deno.test("a send whose write fails while the connection is up rejects with ConnectionError and fails the connection", async () => {
  const order: string[] = [];
  await using h = await startScripted(
    defineClient({
      handleDisconnect: (r, s: null) => {
        order.push(`handleDisconnect ${r.kind}`);
        return ok(s);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  c.holdWrites();
  const sent = h.conn.sendFrame(text("x")).catch((e) => {
    order.push(`rejected ${e.constructor.name}`);
  });
  await settle();
  c.failWrites(new Error("EPIPE"));
  await sent;
  await until(() => order.length === 2, "both");
  assert.deepEqual(order.sort(), ["handleDisconnect error", "rejected ConnectionError"]);
  assert.equal(h.conn.state, "disconnected");
});

Deno.test("frames queued while connecting resolve only once written after the connect, and reject if never written", async () => {
  await using h = await startScripted(defineClient({}), null);
  const c = await h.connector.connection(1);
  c.holdWrites();
  const a = h.conn.sendFrame(text("a"));
  const b = h.conn.sendFrame(text("b"));
  c.opened();
  await until(() => c.sent.length === 2, "both sent");
  assert.equal(await isSettled(a), false);
  c.releaseWrites();
  await a;
  await b;
  const later = h.conn.sendFrame(text("c"));
  await settle();
  const stopped = h.conn.stop();
  await settle();
  c.failWrites();
  await assert.rejects(later, ClientStoppedError);
  await stopped;
});
