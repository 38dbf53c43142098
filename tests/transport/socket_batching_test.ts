// The socket transport batches: frames written in one burst of the client's events go to the
// socket in one write, and nothing waits behind a callback that awaits. A recording stream
// stands in for the socket, so the writes themselves are observed.

import assert from "node:assert/strict";
import { ok, push } from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import { acceptFor } from "../../src/protocol/handshake.ts";
import type { ByteStream, Dialer, StreamEvents } from "../../src/transport/_stream.ts";
import { createSocketConnector } from "../../src/transport/socket.ts";
import { recordingLogger, waitFor } from "../support/recorder.ts";

/** A stream that accepts the upgrade and records every write after it (one entry per call). */
function recordingDialer() {
  const writes: Uint8Array[][] = [];
  let events: StreamEvents | undefined;
  let upgraded = false;
  let total = 0;
  const stream: ByteStream = {
    write(chunks) {
      // Taken at once, as by a socket with room to spare.
      for (const c of chunks) total += c.length;
      events!.written(total);
      if (!upgraded) {
        const request = new TextDecoder().decode(chunks[0]);
        const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)![1];
        upgraded = true;
        queueMicrotask(() =>
          events!.data(new TextEncoder().encode(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
          ))
        );
        return;
      }
      writes.push(chunks);
    },
    end() {
      queueMicrotask(() => events?.done());
    },
    destroy() {
      queueMicrotask(() => events?.done());
    },
    pause: () => true,
    resume() {},
  };
  const dialer: Dialer = (_target, e) => {
    events = e;
    return Promise.resolve(stream);
  };
  /**
   * How many frames each write carried, read from its bytes (frames written in a row may share a
   * chunk; a frame never spans two).
   */
  const framesPerWrite = () =>
    writes.map((chunks) => {
      let frames = 0;
      for (const chunk of chunks) {
        for (let at = 0; at < chunk.length; at += clientFrameLength(chunk, at)) frames++;
      }
      return frames;
    });
  return { dialer, writes, framesPerWrite };
}

const zeros = (b: Uint8Array) => b.fill(0);

/** The length of the client frame at `at` (header, 4-byte mask key and payload). */
function clientFrameLength(bytes: Uint8Array, at: number): number {
  const short = bytes[at + 1] & 0x7f;
  if (short < 126) return 6 + short;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at);
  return short === 126 ? 8 + view.getUint16(2) : 14 + Number(view.getBigUint64(2));
}

Deno.test("frames pushed by one callback go to the socket in one write", async () => {
  const rec = recordingDialer();
  const frames = Array.from({ length: 50 }, (_, i) => ({ type: "text" as const, data: `m${i}` }));
  await using _conn = await startClient(
    { handleConnect: (s: unknown) => push(frames, s) },
    null,
    { url: "ws://127.0.0.1:9/", logger: recordingLogger(), closeTimeout: 50 },
    { connector: createSocketConnector(zeros, rec.dialer) },
  );
  await waitFor(() => rec.writes.length > 0, "a write");
  assert.deepEqual(rec.framesPerWrite(), [50]);
});

Deno.test("frames sent from outside in one turn go out together, once the client is idle", async () => {
  const rec = recordingDialer();
  await using conn = await startClient(
    { handleConnect: (s: unknown) => ok(s) },
    null,
    { url: "ws://127.0.0.1:9/", logger: recordingLogger(), closeTimeout: 50 },
    { connector: createSocketConnector(zeros, rec.dialer) },
  );
  await waitFor(() => conn.state === "connected", "connected");
  for (let i = 0; i < 20; i++) conn.sendFrameAsync({ type: "binary", data: new Uint8Array(8) });
  await waitFor(() => rec.writes.length > 0, "a write");
  assert.deepEqual(rec.framesPerWrite(), [20]);
});

Deno.test("frames already sent are written before a callback that awaits, not after it", async () => {
  const rec = recordingDialer();
  const gate = Promise.withResolvers<void>();
  await using conn = await startClient(
    {
      handleConnect: (s: unknown) => ok(s),
      async handleInfo(_m: unknown, s: unknown) {
        await gate.promise;
        return ok(s);
      },
    },
    null,
    { url: "ws://127.0.0.1:9/", logger: recordingLogger(), closeTimeout: 50 },
    { connector: createSocketConnector(zeros, rec.dialer) },
  );
  await waitFor(() => conn.state === "connected", "connected");
  conn.sendFrameAsync({ type: "text", data: "before" });
  conn.info("block");
  // The client is busy in handleInfo, but "before" is on the wire already.
  await waitFor(() => rec.writes.length === 1, "the write before the await");
  gate.resolve();
});

Deno.test("a batch over 64 KiB is written at once, without waiting for the end of the burst", async () => {
  const rec = recordingDialer();
  const big = new Uint8Array(40 * 1024);
  await using _conn = await startClient(
    {
      handleConnect: (s: unknown) =>
        push([1, 2, 3].map(() => ({ type: "binary" as const, data: big })), s),
    },
    null,
    { url: "ws://127.0.0.1:9/", logger: recordingLogger(), closeTimeout: 50 },
    { connector: createSocketConnector(zeros, rec.dialer) },
  );
  await waitFor(
    () => rec.framesPerWrite().reduce((a, b) => a + b, 0) === 3,
    "three frames written",
  );
  assert.deepEqual(rec.framesPerWrite(), [2, 1]);
});
