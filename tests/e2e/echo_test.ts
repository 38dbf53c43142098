import assert from "node:assert/strict";
import { defineClient } from "../../mod.ts";
import { Recorder, recordingCallbacks } from "../support/recorder.ts";
import { startDenoServer, startWsServer, type TestServer } from "../support/servers.ts";

for (
  const [label, start] of [["npm:ws", startWsServer], ["Deno.serve", startDenoServer]] as const
) {
  Deno.test(`echo over the web transport against ${label}: text and binary round-trip`, async () => {
    await using server: TestServer = await start();
    const rec = new Recorder();
    await using conn = await defineClient(recordingCallbacks<null>(rec)).start(null, {
      url: server.url(),
    });
    await rec.next("connected");
    await conn.sendFrame({ type: "text", data: "hello" });
    assert.deepEqual((await rec.next("frame")).value, { type: "text", data: "hello" });
    await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3]) });
    assert.deepEqual((await rec.next("frame")).value, {
      type: "binary",
      data: new Uint8Array([1, 2, 3]),
    });
  });
}
