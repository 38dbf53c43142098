// sendFrame resolves only once the transport says the frame's bytes went out; a send whose bytes
// never went out rejects, with ConnectionError when the connection ended first and with
// ClientStoppedError when the client stopped. The same for frames queued while connecting.

import assert from "node:assert/strict";
import {
  ClientStoppedError,
  ConnectionError,
  defineClient,
  type DisconnectReason,
} from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import {
  isSettled,
  openScripted,
  recordingDisconnects,
  startScripted,
  text,
} from "../support/scripted_client.ts";

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

Deno.test("a send whose bytes are dropped while the connection is still up waits for the connection's end, and rejects with it (the end is the reason, not the write)", async () => {
  const { def, reasons } = recordingDisconnects();
  await using h = await startScripted(
    def,
    null,
  );
  const c = await openScripted(h);
  c.holdWrites();
  const sent = h.conn.sendFrame(text("x"));
  await settle();
  c.failWrites(new Error("Cannot send frame as the WebSocket is closing"));
  assert.equal(await isSettled(sent), false);
  assert.equal(h.conn.state, "connected");
  c.remoteClose(1000, "bye");
  await assert.rejects(
    sent,
    (e) =>
      e instanceof ConnectionError && e.reason.kind === "remote_close" &&
      /closing/.test((e.cause as Error).message),
  );
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "remote_close", code: 1000, reason: "bye" }]);
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
