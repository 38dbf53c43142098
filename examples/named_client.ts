// A named client: start it with `name: "ticker"`, then reach it by name alone with the
// module-level sendFrame, whereis and stopClient.
//
//   deno run --allow-net=127.0.0.1 examples/named_client.ts

import { defineClient, ok, sendFrame, stopClient, whereis } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();
const echoes = Promise.withResolvers<void>();

const Ticker = defineClient({
  handleFrame(frame, count: number) {
    if (frame.type === "text") console.log(`ticker got: ${frame.data}`);
    if (count + 1 === 3) echoes.resolve();
    return ok(count + 1);
  },
});

const conn = await Ticker.start(0, { url: server.url(), name: "ticker" });
console.log(`whereis("ticker") is the handle: ${whereis("ticker") === conn}`);
console.log(`its name: ${String(conn.name)}`);

// Sent by name; frames sent while connecting wait in a queue and go out once connected.
for (const price of ["tick 101.5", "tick 101.7", "tick 101.2"]) {
  await sendFrame("ticker", { type: "text", data: price });
}
await echoes.promise;

const reason = await stopClient("ticker");
console.log(`stopClient("ticker"): ${JSON.stringify(reason)}`);
console.log(`whereis("ticker") after the stop: ${whereis("ticker")}`);
await server.close();
