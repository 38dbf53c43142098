// The node:net stream (Node, Bun, and Deno for some TLS settings), driven here on Deno's node:net.

import assert from "node:assert/strict";
import { nodeDial } from "../../src/transport/_node_dial.ts";
import type { StreamEvents } from "../../src/transport/_stream.ts";
import { startRawWsServer } from "../support/raw_ws_server.ts";
import { waitFor } from "../support/recorder.ts";

Deno.test("node:net stream: while a server does not read, every drained() waiter shares one wait, and all settle once it reads", async () => {
  const server = await startRawWsServer({ respond: () => undefined });
  let closed = false;
  const events: StreamEvents = {
    data() {},
    end() {},
    error() {},
    done: () => (closed = true),
  };
  const stream = await nodeDial(
    {
      hostname: "127.0.0.1",
      port: Number(new URL(server.url()).port),
      tls: undefined,
    },
    events,
    new AbortController().signal,
  );
  try {
    const sc = await server.connection();
    sc.socket.pause();
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 16 && stream.buffered < 4 * chunk.length; i++) stream.write([chunk]);
    await waitFor(() => stream.buffered > 0, "bytes left in our buffer");
    const waits = Array.from({ length: 20 }, () => stream.drained(0));
    assert.ok(waits.every((w) => w === waits[0]), "one shared wait, not a listener per waiter");
    sc.socket.removeAllListeners("data");
    sc.socket.on("data", () => {});
    sc.socket.resume();
    await Promise.all(waits);
    assert.equal(stream.buffered, 0);
  } finally {
    stream.destroy();
    await waitFor(() => closed, "the stream to close");
    await server.close();
  }
});
