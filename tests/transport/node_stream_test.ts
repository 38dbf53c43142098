// The node:net stream (Node, Bun, and Deno for some TLS settings), driven here on Deno's node:net.
// Under Node and Bun: tests/transport/*_runtimes_test.ts.

import assert from "node:assert/strict";
import * as net from "node:net";
import { nodeDial } from "../../src/transport/_node_dial.ts";
import type { ByteStream, StreamEvents } from "../../src/transport/_stream.ts";
import { startRawWsServer } from "../support/raw_ws_server.ts";
import { sleep, waitFor } from "../support/recorder.ts";

/** A stream's events, recorded. */
function recording() {
  const seen = { written: [] as number[], received: 0, closed: false, ended: false };
  const events: StreamEvents = {
    data: (chunk) => void (seen.received += chunk.length),
    written: (total) => void seen.written.push(total),
    end: () => void (seen.ended = true),
    error() {},
    done: () => void (seen.closed = true),
  };
  return { seen, events };
}

function dial(port: number, events: StreamEvents): Promise<ByteStream> {
  return nodeDial(
    { hostname: "127.0.0.1", port, tls: undefined },
    events,
    new AbortController().signal,
  );
}

Deno.test("node:net stream: while a server does not read, the written total stays short of what was given, and reaches it in order once it reads", async () => {
  const server = await startRawWsServer({ respond: () => undefined });
  const { seen, events } = recording();
  const stream = await dial(Number(new URL(server.url()).port), events);
  try {
    const sc = await server.connection();
    sc.socket.pause();
    const chunk = new Uint8Array(1024 * 1024);
    const given = 32 * chunk.length;
    // Batches of one chunk and of several: the socket gets one chunk at a time, and each is
    // reported once written.
    for (let i = 0; i < 16; i++) stream.write([chunk]);
    for (let i = 0; i < 8; i++) stream.write([chunk, chunk]);
    await sleep(200);
    const before = seen.written.at(-1) ?? 0;
    assert.ok(before < given, `all ${given} bytes reported written to a server that reads nothing`);
    sc.socket.removeAllListeners("data");
    sc.socket.on("data", () => {});
    sc.socket.resume();
    await waitFor(() => seen.written.at(-1) === given, "every byte written", 5000);
    assert.ok(seen.written.every((t, i) => i === 0 || t > seen.written[i - 1]), "in order");
    assert.deepEqual(seen.written, Array.from({ length: 32 }, (_, i) => (i + 1) * chunk.length));
  } finally {
    stream.destroy();
    await waitFor(() => seen.closed, "the stream to close");
    await server.close();
  }
});

Deno.test("node:net stream on Deno: pause() says it cannot pause (Deno's node:tls, which it serves there, reads on while paused), and every byte arrives", async () => {
  const total = 20 * 1024 * 1024;
  let serverWrote = 0;
  const server = net.createServer((socket) => {
    const chunk = new Uint8Array(64 * 1024).fill(1);
    const pump = () => {
      while (serverWrote < total) {
        serverWrote += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { seen, events } = recording();
  const stream = await dial((server.address() as net.AddressInfo).port, events);
  try {
    assert.equal(stream.pause(), false);
    stream.resume();
    await waitFor(() => seen.ended, "the server's end", 10_000);
    assert.equal(serverWrote, total);
    assert.equal(seen.received, total);
  } finally {
    stream.destroy();
    await waitFor(() => seen.closed, "the stream to close");
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("node:net stream: chunks under 64 KiB go out together, up to 256 KiB a write, reported once each write completes; runs of tiny ones are joined; every byte arrives in order", async () => {
  const received: Uint8Array[] = [];
  const server = net.createServer((socket) => {
    socket.on("data", (chunk: Uint8Array) => void received.push(new Uint8Array(chunk)));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { seen, events } = recording();
  const stream = await dial((server.address() as net.AddressInfo).port, events);
  const KiB = 1024;
  let next = 0;
  const chunk = (size: number) => {
    const c = new Uint8Array(size);
    for (let i = 0; i < size; i++) c[i] = next++ & 0xff;
    return c;
  };
  try {
    // Twenty 16 KiB chunks: sixteen fill the first write; the other four, ten tiny chunks
    // (joined) and a 16 KiB one the second; then 64 KiB alone; then two tiny ones, joined.
    const medium = Array.from({ length: 20 }, () => chunk(16 * KiB));
    const mixed = [...Array.from({ length: 10 }, () => chunk(100)), chunk(16 * KiB)];
    const tail = [chunk(64 * KiB), chunk(10), chunk(20)];
    stream.write(medium);
    stream.write(mixed);
    stream.write(tail);
    const total = next;
    await waitFor(() => seen.written.at(-1) === total, "every byte written", 5000);
    assert.deepEqual(seen.written, [
      256 * KiB,
      256 * KiB + 64 * KiB + 1000 + 16 * KiB,
      256 * KiB + 144 * KiB + 1000,
      total,
    ]);
    await waitFor(() => received.reduce((n, c) => n + c.length, 0) === total, "every byte read");
    let at = 0;
    for (const c of received) {
      for (const b of c) assert.equal(b, at++ & 0xff, `byte ${at - 1}`);
    }
  } finally {
    stream.destroy();
    await waitFor(() => seen.closed, "the stream to close");
    await new Promise((resolve) => server.close(resolve));
  }
});
