// Inbound flow control on the socket transport under Deno, Node 24 and Bun, over each runtime's
// own TCP (and its TLS, for a pause mid-flood; STREAM_PATHS): a server writes 20 MiB of binary frames as fast as TCP lets it against a
// client that paused the connection; the client reads no more than it had under way when it
// paused, TCP's window holds the server back, and after resume() every byte arrives intact. The
// client runs in tests/transport/socket_transport_driver.ts and keeps every frame it gets (as
// an application's queue would), so reading on would show in its memory.

import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { binaryFrame, response101, startRawWsServer } from "../support/raw_ws_server.ts";
import {
  eachAtOnce,
  pathOptions,
  runDriver,
  STREAM_PATHS,
  type StreamPath,
} from "../support/runtime_driver.ts";
import { makeCerts, type TestCerts } from "../support/certs.ts";
import { startTlsWsSink } from "../support/tls_ws_sink.ts";

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

/** A server flooding its one connection after the upgrade, as fast as TCP lets it. */
interface FloodServer {
  readonly url: string;
  /** Payload bytes TCP has taken from the server so far. */
  sent(): number;
  close(): Promise<void>;
}

/** ws://: the raw server (node:net), each write after the last one's "drain". */
async function startPlainFloodServer(): Promise<FloodServer> {
  let sent = 0;
  const server = await startRawWsServer({
    respond(request, conn) {
      // The frames only once the 101 is out: Deno's node:net has been seen to put a write made
      // in a "data" handler behind later ones (with a Bun client reading).
      conn.write(response101(request)).then(() => pump(conn.socket), () => {});
      return undefined;
    },
  });
  function pump(socket: Socket): void {
    const frames = floodFrames();
    const next = () => {
      // (Not for-of: leaving one would close the generator.)
      for (let f = frames.next(); !f.done; f = frames.next()) {
        sent += FRAME;
        if (!socket.write(f.value)) return void socket.once("drain", next);
      }
    };
    socket.on("error", () => {});
    next();
  }
  return { url: server.url(), sent: () => sent, close: () => server.close() };
}

/** wss://: Deno.listenTls, each write awaited. */
async function startTlsFloodServer(): Promise<FloodServer> {
  let sent = 0;
  const sink = startTlsWsSink((await certs()).server);
  const pumping = sink.connection().then(async (conn) => {
    for (const frame of floodFrames()) {
      await conn.write(frame);
      sent += FRAME;
    }
  }).catch(() => {});
  return {
    url: sink.url,
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
      const server = path.tls === undefined
        ? await startPlainFloodServer()
        : await startTlsFloodServer();
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
        assert.ok(sentWhilePaused < TOTAL, `the server was not held back; ${detail}`);
        assert.ok(grew < 10, `memory grew by ${grew} MiB while paused; ${detail}`);
        assert.equal(report.received, TOTAL, detail);
        assert.equal(report.intact, true, `bytes out of order or lost; ${detail}`);
      } finally {
        await server.close();
      }
    });
  });
}
