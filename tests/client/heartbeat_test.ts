// The heartbeat as the client sees it: which settings reach the transport (on by default for
// the socket transport, off for the web transport), and what a timeout becomes (the disconnect
// reason heartbeat_timeout, then the reconnect policy). The probing itself is the transports'
// (tests/transport/, tests/e2e/).

import assert from "node:assert/strict";
import { defineClient, type DisconnectReason } from "../../mod.ts";
import { until } from "../support/scripted.ts";
import { openScripted, recordingDisconnects, startScripted } from "../support/scripted_client.ts";

const socket = { controlFrames: true } as const;

Deno.test("heartbeat: on by default (20 s / 20 s) for the socket transport, off by default for the web transport", async () => {
  await using s = await startScripted(defineClient({}), null, {}, socket);
  assert.deepEqual((await s.connector.connection(1)).params.heartbeat, {
    interval: 20_000,
    timeout: 20_000,
    message: undefined,
  });
  await using w = await startScripted(defineClient({}), null, {});
  assert.equal((await w.connector.connection(1)).params.heartbeat, undefined);
});

Deno.test("heartbeat: false turns it off; true or an object turns it on, on either transport", async () => {
  await using off = await startScripted(defineClient({}), null, { heartbeat: false }, socket);
  assert.equal((await off.connector.connection(1)).params.heartbeat, undefined);
  await using on = await startScripted(defineClient({}), null, { heartbeat: true });
  assert.deepEqual((await on.connector.connection(1)).params.heartbeat, {
    interval: 20_000,
    timeout: 20_000,
    message: undefined,
  });
  const message = { type: "text", data: "ping" } as const;
  await using custom = await startScripted(defineClient({}), null, {
    heartbeat: { interval: 500, timeout: 250, message },
  });
  assert.deepEqual((await custom.connector.connection(1)).params.heartbeat, {
    interval: 500,
    timeout: 250,
    message,
  });
});

Deno.test("heartbeat: a timeout is the disconnect reason heartbeat_timeout, logged as a warning, then the reconnect policy", async () => {
  const { def, reasons } = recordingDisconnects();
  await using h = await startScripted(
    def,
    null,
    {
      heartbeat: { interval: 300, timeout: 200 },
      reconnect: { baseDelay: 100, random: () => 0 },
    },
    socket,
  );
  const c = await openScripted(h);
  c.heartbeatTimeout();
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "heartbeat_timeout", interval: 300, timeout: 200 }]);
  assert.equal(c.releases, 1);
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "warn" &&
      /Disconnected: the server went silent: nothing arrived within 200 ms of a heartbeat probe/
        .test(m.message)
    ),
  );
  await h.clock.tickAsync(51);
  await h.connector.connection(2);
});

Deno.test("heartbeat: a timeout reported for an old connection is ignored", async () => {
  const reasons: DisconnectReason[] = [];
  await using h = await startScripted(
    defineClient({ handleDisconnect: (r, _s: null) => void reasons.push(r) }),
    null,
    {},
    socket,
  );
  const c = await openScripted(h);
  await h.conn.disconnect();
  c.heartbeatTimeout();
  await until(() => reasons.length === 1, "handleDisconnect");
  assert.deepEqual(reasons, [{ kind: "closed" }]);
});
