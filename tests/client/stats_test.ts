// conn.stats: attempts, connects, messages and bytes both ways, time connected, the last close
// and the last heartbeat round trip.

import assert from "node:assert/strict";
import { settle, until } from "../support/scripted.ts";
import {
  bytes,
  openScripted,
  recordingDisconnects,
  startScripted,
  text,
} from "../support/scripted_client.ts";

Deno.test("stats count attempts, connects, messages and bytes both ways, the last close and the rtt", async () => {
  const { def, reasons } = recordingDisconnects();
  await using h = await startScripted(
    def,
    null,
  );
  const fresh = h.conn.stats;
  assert.deepEqual(fresh, {
    attempts: 1,
    connects: 0,
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    connectedAt: undefined,
    connectedMs: 0,
    lastClose: undefined,
    rtt: undefined,
  });
  const c = await openScripted(h);
  c.text("hello");
  c.frame({ type: "binary", data: bytes(1, 2, 3) });
  c.frame({ type: "pong", data: bytes(9) });
  await h.conn.sendFrame(text("hi"));
  await h.conn.sendFrame({ type: "binary", data: bytes(1, 2, 3, 4) });
  c.rtt(12.5);
  await settle();
  const up = h.conn.stats;
  assert.equal(up.connects, 1);
  assert.equal(up.messagesIn, 2);
  assert.equal(up.bytesIn, 8);
  assert.equal(up.messagesOut, 2);
  assert.equal(up.bytesOut, 6);
  assert.equal(up.rtt, 12.5);
  assert.ok(up.connectedAt !== undefined && Math.abs(up.connectedAt - Date.now()) < 1000);
  c.remoteClose(1001, "going away");
  await until(() => reasons.length === 1, "handleDisconnect");
  const down = h.conn.stats;
  assert.equal(down.connectedAt, undefined);
  assert.deepEqual(down.lastClose, { kind: "remote_close", code: 1001, reason: "going away" });
  assert.ok(down.connectedMs >= 0);
  const again = h.conn.connect();
  (await h.connector.connection(2)).opened();
  await again;
  assert.equal(h.conn.stats.attempts, 2);
  assert.equal(h.conn.stats.connects, 2);
});
