// Inbound flow control on the socket transport under Deno, Node 24 and Bun, over each runtime's
// own TCP (and its TLS, for a pause mid-flood; STREAM_PATHS): a server (tests/support/ws_sink.ts)
// writes 20 MiB of binary frames as fast as TCP lets it against a client that paused the
// connection; the client reads no more than it had under way when it paused, and after resume()
// every byte arrives intact. (What the server got rid of meanwhile is in the details, not
// asserted: the kernel's buffers take part of the flood, and Linux grows a receive buffer it saw
// drained quickly up to net.ipv4.tcp_rmem's maximum, 32 MiB here.) The client runs in
// tests/transport/socket_transport_driver.ts and keeps every frame it gets (as an application's
// queue would), so reading on would show in its memory.

import assert from "node:assert/strict";
import { binaryFrame } from "../support/raw_ws_server.ts";
import {
  eachAtOnce,
  pathOptions,
  runDriver,
  STREAM_PATHS,
  type StreamPath,
} from "../support/runtime_driver.ts";
import { type KeyPair, makeCerts, type TestCerts } from "../support/certs.ts";
import { startWsSink } from "../support/ws_sink.ts";

const TOTAL = 20 * 1024 * 1024;
const FRAME = 64 * 1024;
/** The most a paused client may have read: the reads under way when it paused. */
const READ_BOUND = 512 * 1024;

/** The server's frames: FRAME bytes each, payload byte i of the whole stream is i % 251. */
function* floodFrames(): Generator<Uint8Array> {
  for (let offset = 0; offset < TOTAL; offset += FRAME) {
    const payload = new Uint8Array(FRAME);
    for (let i = 0; i < FRAME; i++) payload[i] = (offset + i) % 251;
    yield binaryFrame(payload);
  }
}

/**
 * A server flooding its one connection after the upgrade, as fast as TCP lets it (each write
 * awaited, so what it has sent is what TCP took); ws://, or wss:// with `tls`.
 */
function startFloodServer(tls?: KeyPair) {
  let sent = 0;
  const sink = startWsSink(tls);
  const pumping = sink.connection().then(async (conn) => {
    for (const frame of floodFrames()) {
      await conn.write(frame);
      sent += FRAME;
    }
  }).catch(() => {});
  return {
    url: sink.url,
    /** Payload bytes TCP has taken from the server so far. */
    sent: () => sent,
    close: async () => {
      await sink.close();
      await pumping;
    },
  };
}

let certsPromise: Promise<TestCerts> | undefined;
/** One set of certificates for every wss:// server here (openssl takes a moment). */
const certs = () => certsPromise ??= makeCerts();

const WHEN = {
  "while connecting": { pauseAtOpen: true },
  "once open": { pauseAfter: 0 },
  "after 1 MiB": { pauseAfter: 1024 * 1024 },
} as const;

for (const [when, options] of Object.entries(WHEN)) {
  // TLS paths for a pause mid-flood only: the others are about when the pause applies.
  const paths = when === "after 1 MiB" ? STREAM_PATHS : STREAM_PATHS.filter((p) => !p.tls);
  const over = when === "after 1 MiB" ? "each runtime's TCP and TLS" : "each runtime's TCP";
  Deno.test(`inbound flow control [socket, ${over}]: paused ${when}, a client flooded with 20 MiB reads at most what it had under way; resumed, every byte arrives intact`, async () => {
    const ca = paths.some((p) => p.tls) ? (await certs()).ca : "";
    await eachAtOnce(paths, (p) => p.name, async (path: StreamPath) => {
      const server = startFloodServer(path.tls === undefined ? undefined : (await certs()).server);
      try {
        const driver = runDriver(path.runtime, "flood", server.url, {
          ...pathOptions(path, ca),
          total: TOTAL,
          pauseFor: 1000,
          ...options,
        });
        await driver.printed("resumed");
        const sentWhilePaused = server.sent();
        const report = await driver.report();
        const readWhilePaused = (report.receivedWhilePaused as number) -
          (report.receivedAtPause as number);
        const grew = (report.rssWhilePaused as number) - (report.rssAtPause as number);
        const detail = JSON.stringify({ ...report, seen: undefined, sentWhilePaused });
        if (path.name === "deno node:tls") {
          // Deno's node:tls reads on while paused: the transport says it cannot pause.
          assert.equal(report.paused, false, detail);
          assert.equal(report.received, TOTAL, detail);
          assert.equal(report.intact, true, `bytes out of order or lost; ${detail}`);
          return;
        }
        assert.equal(report.paused, true, detail);
        assert.ok(
          readWhilePaused <= READ_BOUND,
          `read ${readWhilePaused} B while paused; ${detail}`,
        );
        assert.ok(grew < 10, `memory grew by ${grew} MiB while paused; ${detail}`);
        assert.equal(report.received, TOTAL, detail);
        assert.equal(report.intact, true, `bytes out of order or lost; ${detail}`);
      } finally {
        await server.close();
      }
    });
  });
}
