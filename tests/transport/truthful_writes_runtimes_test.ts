// Truthful writes on the socket transport under Deno, Node 24 and Bun, over each runtime's own
// TCP and TLS (STREAM_PATHS: every stream class and dialer): a frame's callback says it was written only once its bytes were handed to the
// operating system, and hears an error when they never will be. The client (in
// tests/transport/socket_transport_driver.ts) sends 1 MiB frames to a server here that reads
// slowly or not at all, far more than the kernel's buffers hold; then it releases the connection,
// or the server resets it. Every frame the client was told was written must reach the server once
// it reads again, and no frame that heard an error may.

import assert from "node:assert/strict";
import { OP, type RawConnection, response101, startRawWsServer } from "../support/raw_ws_server.ts";
import {
  eachAtOnce,
  pathOptions,
  runDriver,
  STREAM_PATHS,
  type StreamPath,
} from "../support/runtime_driver.ts";
import { waitFor } from "../support/recorder.ts";
import { makeCerts, type TestCerts } from "../support/certs.ts";
import { type SinkConnection, startWsSink } from "../support/ws_sink.ts";

const FRAMES = 64;
const SIZE = 1024 * 1024;

type Reader = "stopped" | "slow";

/** A server that answers the upgrade, then reads nothing, or a little every 50 ms. */
interface ReluctantServer {
  readonly url: string;
  /** Waits for the client's connection, then reads as `reader` says. */
  start(reader: Reader): Promise<void>;
  /** Reads everything until the client has gone; the whole client frames that arrived. */
  readAll(): Promise<number>;
  /** Drops the connection with bytes unread: the kernel answers the client with a reset. */
  reset(): void;
  close(): Promise<void>;
}

/** ws://: the raw server (node:net), paused. */
async function startPlainServer(): Promise<ReluctantServer> {
  let slow: ReturnType<typeof setInterval> | undefined;
  let slowPause: ReturnType<typeof setTimeout> | undefined;
  const upgraded = Promise.withResolvers<void>();
  const server = await startRawWsServer({
    respond(request, conn) {
      conn.write(response101(request)).then(() => {
        conn.socket.pause();
        upgraded.resolve();
      }, upgraded.reject);
      return undefined;
    },
  });
  const stopSlow = () => {
    clearInterval(slow);
    clearTimeout(slowPause);
  };
  let conn: RawConnection | undefined;
  return {
    url: server.url(),
    async start(reader) {
      conn = await server.connection(0, 10_000);
      await upgraded.promise;
      if (reader === "slow") {
        slow = setInterval(() => {
          conn!.socket.resume();
          slowPause = setTimeout(() => conn!.socket.pause(), 1);
        }, 50);
      }
    },
    async readAll() {
      stopSlow();
      conn!.socket.resume();
      await conn!.clientEnded(5000);
      await waitFor(() => conn!.closedAt !== undefined || conn!.endedAt !== undefined, "the end");
      return conn!.frames.filter((f) => f.opcode === OP.BINARY && f.payload.length === SIZE)
        .length;
    },
    reset: () => conn!.socket.resetAndDestroy(),
    close() {
      stopSlow();
      return server.close();
    },
  };
}

/** wss://: Deno.listenTls, reading only when told to (see ws_sink.ts). */
async function startTlsServer(): Promise<ReluctantServer> {
  const sink = startWsSink((await certs()).server);
  let slow: ReturnType<typeof setInterval> | undefined;
  let conn: SinkConnection | undefined;
  return {
    url: sink.url,
    async start(reader) {
      conn = await sink.connection();
      if (reader === "slow") slow = setInterval(() => conn!.readSome(), 50);
    },
    async readAll() {
      clearInterval(slow);
      await conn!.readAll();
      // The client's frames are all alike: a 14-byte header (64-bit length, mask) and SIZE bytes.
      return Math.floor(conn!.received / (SIZE + 14));
    },
    reset: () => conn!.close(),
    close() {
      clearInterval(slow);
      return sink.close();
    },
  };
}

const startReluctantServer = (path: StreamPath) =>
  path.tls === undefined ? startPlainServer() : startTlsServer();

let certsPromise: Promise<TestCerts> | undefined;
/** One set of certificates for every wss:// server here (openssl takes a moment). */
const certs = () => certsPromise ??= makeCerts();

for (const reader of ["stopped", "slow"] as const) {
  Deno.test(
    `truthful writes [socket, each runtime's TCP and TLS]: sends to a server that reads ${
      reader === "stopped" ? "nothing" : "slowly"
    } are written only as the kernel takes them; on release the rest hear an error; exactly the frames told written reach the server`,
    async () => {
      const ca = (await certs()).ca;
      await eachAtOnce(STREAM_PATHS, (p) => p.name, async (path) => {
        const server = await startReluctantServer(path);
        try {
          const driver = runDriver(path.runtime, "blocked-sends", server.url, {
            ...pathOptions(path, ca),
            frames: FRAMES,
            size: SIZE,
            waitFor: 1000,
            end: "release",
          });
          await server.start(reader);
          const report = await driver.report();
          const detail = JSON.stringify({ ...report, seen: undefined });
          assert.ok((report.pendingBefore as number) > 0, `nothing held back: ${detail}`);
          assert.equal(report.writtenInOrder, true, detail);
          assert.equal(report.pendingAtDone, 0, `left pending once done settled: ${detail}`);
          assert.equal(report.doublesLater, 0, `a callback called twice: ${detail}`);
          assert.equal((report.written as number) + (report.failed as number), FRAMES, detail);
          assert.deepEqual(
            report.errors,
            ["error: Cannot write the frame as the connection was released first"],
            detail,
          );
          // What the client's kernel holds still arrives once the server reads.
          const arrived = await server.readAll();
          assert.equal(arrived, report.written, `${arrived} frames arrived: ${detail}`);
        } finally {
          await server.close();
        }
      });
    },
  );
}

Deno.test("truthful writes [socket, each runtime's TCP and TLS]: sends held by a server that reads nothing hear an error when it resets the connection", async () => {
  const ca = (await certs()).ca;
  await eachAtOnce(STREAM_PATHS, (p) => p.name, async (path) => {
    const server = await startReluctantServer(path);
    try {
      const driver = runDriver(path.runtime, "blocked-sends", server.url, {
        ...pathOptions(path, ca),
        frames: FRAMES,
        size: SIZE,
        waitFor: 500,
        end: "reset",
      });
      await server.start("stopped");
      await driver.printed("blocked");
      server.reset();
      const report = await driver.report();
      const detail = JSON.stringify({ ...report, seen: undefined });
      assert.ok((report.pendingBefore as number) > 0, `nothing held back: ${detail}`);
      assert.equal(report.pendingAtDone, 0, `left pending once done settled: ${detail}`);
      assert.equal(report.doublesLater, 0, detail);
      assert.equal(report.written, report.writtenBefore, detail);
      assert.equal(report.failed, FRAMES - (report.written as number), detail);
      const errors = report.errors as string[];
      assert.equal(errors.length, 1, detail);
      assert.match(errors[0], /^error: Cannot write the frame as the connection failed: /);
    } finally {
      await server.close();
    }
  });
});
