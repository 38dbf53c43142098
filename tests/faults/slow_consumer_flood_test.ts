// A flood against a slow consumer, from a real server (npm:ws, no proxy): the server sends 1,000
// messages of 16 KiB (16 MiB) as fast as TCP takes them, while handleFrame awaits 1 ms for each.
// On the socket transport under Deno, Node and Bun, with receiveBuffer 1 MiB, the memory the
// client holds (heap and array buffers after a collection, sampled every 100 ms, above what it
// held before the flood) must stay within receiveBuffer + one message + a constant per runtime,
// and every message must arrive once, in order. The constant is what a runtime holds besides the
// messages the bound counts: its read buffers and the chunks read before the pause took effect,
// the decoder's, and the measure's own noise. Deno and Node: 1.5 MiB (0.1-0.8 MiB measured here).
// Bun: 2.5 MiB, as it reads in chunks of up to 512 KiB, and a message is a view of the chunk it
// arrived in, which keeps the whole chunk alive: the chunks at both ends of what is held and one
// read as the bound is reached make 1.5 MiB (0.7-1.8 MiB measured here). The same client without
// the bound (receiveBuffer 1e12) holds most of the flood, which shows that the measure sees it.

import assert from "node:assert/strict";
import { startFaultServer } from "./fault_server.ts";
import { startFaultClient } from "./fault_runner.ts";
import { allAtOnce, SOCKET, type Target } from "./targets.ts";

const KiB = 1024, MiB = 1024 * KiB;
const COUNT = 1000, SIZE = 16 * KiB;
/** What a runtime holds besides the received messages (see above). */
const CONSTANT = { deno: 1.5 * MiB, node: 1.5 * MiB, bun: 2.5 * MiB };

/** Floods a client at `target` with `receiveBuffer`; its `frames` event. */
async function flood(target: Target, receiveBuffer: number) {
  await using server = await startFaultServer();
  const client = startFaultClient(target.place, {
    url: server.url(),
    transport: target.transport,
    receiveBuffer,
    consume: 1,
    sampleMemory: 100,
  }, 60_000);
  await client.printed("connected");
  client.send({ cmd: "text", data: `flood ${COUNT} ${SIZE}` });
  client.send({ cmd: "expect", total: COUNT * SIZE });
  const frames = await client.printed("frames", undefined, 60_000);
  client.send({ cmd: "stop" });
  await client.printed("stop_returned");
  await client.finish();
  return frames;
}

Deno.test("flood: a server sending 16 MiB to a consumer that awaits 1 ms per message: the socket transport holds at most receiveBuffer + one message + 1.5 MiB (Bun: 2.5 MiB), and every message arrives once, in order [deno/node/bun]; without the bound it holds most of the flood", async () => {
  const receiveBuffer = MiB;
  const unbounded = { ...SOCKET[0], name: `${SOCKET[0].name} (receiveBuffer 1e12)` };
  await allAtOnce([...SOCKET, unbounded], async (target) => {
    const bounded = target !== unbounded;
    const frames = await flood(target, bounded ? receiveBuffer : 1e12);
    assert.equal(frames.count, COUNT);
    assert.equal(frames.bytes, COUNT * SIZE);
    assert.equal(frames.inOrder, true);
    const peak = frames.memoryPeak as number;
    console.log(`${target.name}: ${(peak / MiB).toFixed(2)} MiB held at the peak`);
    if (bounded) {
      const bound = receiveBuffer + SIZE + CONSTANT[target.place as keyof typeof CONSTANT];
      assert.ok(peak <= bound, `peak ${peak} bytes, over ${bound}`);
    } else assert.ok(peak > 4 * receiveBuffer, `peak ${peak} bytes: the measure misses the flood`);
  });
});
