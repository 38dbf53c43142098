// Send-side backpressure on the socket transport: an awaited sendFrame waits while more than
// 1 MiB is buffered for a server that does not read, and goes on once the server reads again.

import assert from "node:assert/strict";
import { defineClient } from "../../mod.ts";
import {
  Recorder,
  recordingCallbacks,
  recordingLogger,
  sleep,
  waitFor,
} from "../support/recorder.ts";
import { startRawWsServer } from "../support/raw_ws_server.ts";

Deno.test("an awaited sendFrame waits while a server that does not read holds the socket's buffer full, then resumes", async () => {
  await using server = await startRawWsServer();
  const rec = new Recorder();
  await using conn = await defineClient<null, null, unknown>(recordingCallbacks(rec)).start(null, {
    url: server.url(),
    transport: "socket",
    logger: recordingLogger(),
    closeTimeout: 200, // the server below stops answering frames
  });
  await rec.next("connected");
  const sc = await server.connection();
  sc.socket.pause(); // the server stops reading: the kernel buffers fill, then ours
  const chunk = new Uint8Array(256 * 1024).fill(7);
  let resolved = 0;
  let blocked: Promise<void> | undefined;
  // Far more than the kernel's buffers and our 1 MiB mark: some send must start waiting.
  for (let i = 0; i < 400; i++) {
    const sending = conn.sendFrame({ type: "binary", data: chunk });
    const state = await Promise.race([
      sending.then(() => "done"),
      sleep(50).then(() => "waiting"),
    ]);
    if (state === "waiting") {
      blocked = sending;
      break;
    }
    resolved++;
  }
  assert.ok(blocked !== undefined, `all ${resolved} sends resolved at once: no backpressure`);
  assert.ok(resolved < 400);
  // Still waiting a while later: the buffer does not drain by itself.
  const later = await Promise.race([
    blocked.then(() => "done"),
    sleep(200).then(() => "waiting"),
  ]);
  assert.equal(later, "waiting");
  // The server reads again, counting bytes only (parsing 5 MB of frames is not the point).
  sc.socket.removeAllListeners("data");
  sc.socket.on("data", () => {});
  sc.socket.resume();
  await blocked;
  assert.equal(conn.state, "connected");
  // Every byte sent arrives: the frames' headers (14 bytes each) and payloads.
  const expected = (resolved + 1) * (chunk.length + 14);
  await waitFor(() => sc.socket.bytesRead >= expected, "every frame to reach the server", 5000);
});
