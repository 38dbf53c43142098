// The fault proxy itself (tests/support/fault_proxy.ts), byte by byte: a raw TCP client here
// (Deno.connect) through the proxy to a raw node:net server, for each fault. The fault suites
// (this folder) rely on each doing exactly what it says.

import assert from "node:assert/strict";
import * as net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { startFaultProxy } from "../support/fault_proxy.ts";
import { sleep, waitFor } from "../support/recorder.ts";

/** A raw server: records what arrives, and gives each connection's socket to the test. */
async function startRecordingServer() {
  const sockets: Socket[] = [];
  const received: number[] = [];
  const ended: boolean[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const i = sockets.push(s) - 1;
    received[i] = 0;
    ended[i] = false;
    s.on("data", (c: Uint8Array) => void (received[i] += c.length));
    s.on("end", () => void (ended[i] = true));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    received,
    ended,
    socket: async (i: number) => {
      await waitFor(() => sockets[i] !== undefined, `server connection ${i}`);
      return sockets[i];
    },
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads from `conn` in the background: bytes, arrival times, and how it ended. */
function reader(conn: Deno.Conn) {
  const seen = {
    bytes: [] as number[],
    times: [] as number[],
    end: undefined as undefined | "eof" | string,
  };
  const done = (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) {
          seen.end = "eof";
          return;
        }
        for (let i = 0; i < n; i++) {
          seen.bytes.push(buf[i]);
          seen.times.push(performance.now());
        }
      }
    } catch (error) {
      seen.end = (error as Error).name;
    }
  })();
  return { seen, done };
}

const bytes = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) % 256);

Deno.test("fault proxy: forwards both ways in order, and passes an end on as an end", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  await conn.write(bytes(100_000));
  const s = await server.socket(0);
  await waitFor(() => server.received[0] === 100_000, "100,000 bytes at the server");
  s.write(bytes(5000, 7));
  await waitFor(() => r.seen.bytes.length === 5000, "5000 bytes at the client");
  assert.deepEqual(r.seen.bytes, [...bytes(5000, 7)]);
  s.end();
  await r.done;
  assert.equal(r.seen.end, "eof");
  await conn.closeWrite();
  await waitFor(() => server.ended[0], "the client's end at the server");
  conn.close();
  const c = await proxy.connection(0);
  assert.equal(c.bytesToServer, 100_000);
  assert.equal(c.bytesToClient, 5000);
});

Deno.test("fault proxy: a black hole forwards nothing either way and closes nothing; the client's writes back up; forward resumes in order", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  (await proxy.connection(0)).apply({ kind: "black_hole" });
  s.write(bytes(1000));
  // The client writes until the kernel takes no more.
  let written = 0;
  let blocked = false;
  const writing = (async () => {
    const chunk = bytes(64 * 1024);
    while (written < 64 * 1024 * 1024) written += await conn.write(chunk);
  })();
  await sleep(500);
  const stalled = written;
  await sleep(300);
  blocked = written === stalled && written < 64 * 1024 * 1024;
  assert.ok(blocked, `the client's writes went on: ${written} bytes`);
  assert.equal(server.received[0], 0, "nothing reached the server");
  assert.equal(r.seen.bytes.length, 0, "nothing reached the client");
  assert.equal(r.seen.end, undefined, "no end, no reset");
  assert.equal(server.ended[0], false);
  (await proxy.connection(0)).apply({ kind: "forward" });
  await waitFor(() => r.seen.bytes.length === 1000, "the held bytes, once forwarding");
  await waitFor(() => server.received[0] >= stalled, "the client's bytes, once forwarding");
  conn.close();
  await writing.catch(() => {});
});

Deno.test("fault proxy: stop reading the client holds the client's bytes back while the server's still arrive", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  (await proxy.connection(0)).apply({ kind: "stop_reading_client" });
  await conn.write(bytes(1000));
  s.write(bytes(3000));
  await waitFor(() => r.seen.bytes.length === 3000, "the server's bytes at the client");
  await sleep(100);
  assert.equal(server.received[0], 0, "the client's bytes are held");
  conn.close();
});

Deno.test("fault proxy: a delay holds each chunk back that long, both ways", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  (await proxy.connection(0)).apply({ kind: "delay", ms: 150 });
  const t0 = performance.now();
  await conn.write(bytes(10));
  await waitFor(() => server.received[0] === 10, "the client's bytes");
  const up = performance.now() - t0;
  const t1 = performance.now();
  s.write(bytes(10));
  await waitFor(() => r.seen.bytes.length === 10, "the server's bytes");
  const down = r.seen.times[9] - t1;
  assert.ok(up >= 145 && up < 400, `up ${up} ms`);
  assert.ok(down >= 145 && down < 400, `down ${down} ms`);
  conn.close();
});

Deno.test("fault proxy: a reset resets both connections", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  let serverError = "";
  s.on("error", (e: Error & { code?: string }) => serverError = e.code ?? e.message);
  (await proxy.connection(0)).apply({ kind: "reset" });
  await r.done;
  assert.equal(r.seen.end, "ConnectionReset");
  await waitFor(() => serverError !== "" || s.destroyed, "the server's side ends");
  if (serverError !== "") assert.equal(serverError, "ECONNRESET");
  conn.close();
});

Deno.test("fault proxy: a cut forwards that many more bytes of the server's stream, then ends both sides", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  s.write(bytes(100));
  await waitFor(() => r.seen.bytes.length === 100, "the first bytes");
  (await proxy.connection(0)).apply({ kind: "cut", after: 1234 });
  s.write(bytes(100_000, 100));
  await r.done;
  assert.equal(r.seen.end, "eof");
  assert.equal(r.seen.bytes.length, 1334);
  assert.deepEqual(r.seen.bytes.slice(100), [...bytes(1234, 100)]);
  await waitFor(() => server.ended[0], "the server's side ended");
  // What the client sends after the cut is dropped.
  await conn.write(bytes(10)).catch(() => 0);
  conn.close();
});

Deno.test("fault proxy: a drip sends the response head one byte at a time, then the rest at once", async () => {
  await using server = await startRecordingServer();
  await using proxy = await startFaultProxy(server.port);
  proxy.apply({ kind: "drip_upgrade", every: 20 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const r = reader(conn);
  const s = await server.socket(0);
  const head = new TextEncoder().encode("HTTP/1.1 101 X\r\n\r\n");
  const body = bytes(5000);
  s.write(new Uint8Array([...head, ...body]));
  await waitFor(() => r.seen.bytes.length === head.length + body.length, "everything", 5000);
  const gaps = r.seen.times.slice(1, head.length).map((t, i) => t - r.seen.times[i]);
  assert.ok(gaps.every((g) => g >= 15), `gaps in the head: ${gaps.map(Math.round)}`);
  const rest = r.seen.times[r.seen.times.length - 1] - r.seen.times[head.length - 1];
  assert.ok(rest < 15, `the body took ${rest} ms after the head`);
  conn.close();
});
