// Truthful sends on the socket transport, as a user sees them: an awaited sendFrame resolves only
// once its bytes were handed to the operating system, so a send held back by a server that does
// not read never resolves for data that is then lost. (The same for each runtime and stream,
// below the client: tests/transport/truthful_writes_runtimes_test.ts.)

import assert from "node:assert/strict";
import { defineClient } from "../../mod.ts";
import { Recorder, recordingCallbacks, recordingLogger, sleep } from "../support/recorder.ts";
import { OP, startRawWsServer } from "../support/raw_ws_server.ts";

const SIZE = 256 * 1024;

for (const end of ["stop", "disconnect"] as const) {
  Deno.test(`a sendFrame held back by a server that does not read rejects on ${end}(); every sendFrame that resolved reached the server, and none that rejected did [socket]`, async () => {
    await using server = await startRawWsServer();
    const rec = new Recorder();
    await using conn = await defineClient<null, null, unknown>(recordingCallbacks(rec)).start(
      null,
      {
        url: server.url(),
        transport: "socket",
        logger: recordingLogger(),
        closeTimeout: 200, // the server below never answers a close
        reconnect: false,
      },
    );
    await rec.next("connected");
    const sc = await server.connection();
    sc.socket.pause(); // the server stops reading: the kernel's buffers fill, then ours
    const chunk = new Uint8Array(SIZE).fill(7);
    let resolved = 0;
    let blocked: Promise<void> | undefined;
    // Far more than the kernel's buffers: some send must wait.
    for (let i = 0; i < 400; i++) {
      const sending = conn.sendFrame({ type: "binary", data: chunk });
      const state = await Promise.race([
        sending.then(() => "done"),
        sleep(100).then(() => "waiting"),
      ]);
      if (state === "waiting") {
        blocked = sending;
        break;
      }
      resolved++;
    }
    assert.ok(blocked !== undefined, `all ${resolved} sends resolved at once`);
    const outcome = blocked.then(() => "resolved", (error: Error) => error);
    if (end === "stop") await conn.stop();
    else await conn.disconnect().catch(() => {});
    const settled = await Promise.race([outcome, sleep(2000).then(() => "pending")]);
    assert.ok(settled instanceof Error, `the held send ${String(settled)} on ${end}()`);
    // What the client's kernel holds still reaches the server once it reads again: exactly the
    // frames whose sends resolved.
    sc.socket.resume();
    await sc.clientEnded(5000);
    await sleep(100);
    const arrived = sc.frames.filter((f) => f.opcode === OP.BINARY && f.payload.length === SIZE);
    assert.equal(arrived.length, resolved);
  });
}
