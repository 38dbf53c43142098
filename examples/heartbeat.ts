// The heartbeat notices a server that went silent. After `interval` ms in which nothing arrived,
// the socket transport sends a ping; when nothing at all comes back within `timeout` ms, it
// drops the connection and handleDisconnect gets { kind: "heartbeat_timeout" }, so a dead peer is
// noticed within interval + timeout. Here a proxy between the client and the echo server stops
// forwarding, as a dead NAT or a sleeping laptop's network would: no close, no error, silence.
//
//   deno run --allow-net=127.0.0.1 examples/heartbeat.ts

import { defineClient, type DisconnectReason, ok } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";
import { startSilentProxy } from "./_silent_proxy.ts";

const server = await startEchoServer();
const proxy = startSilentProxy(server.port);
const lost = Promise.withResolvers<DisconnectReason>();

const Client = defineClient({
  handleDisconnect(reason: DisconnectReason, state: null) {
    lost.resolve(reason);
    return ok(state);
  },
});

const conn = await Client.start(null, {
  url: `ws://127.0.0.1:${proxy.port}/`,
  heartbeat: { interval: 200, timeout: 200 }, // the defaults are 20 s and 20 s
});
await conn.ready();
console.log("connected through the proxy");

// A ping goes out after 200 ms of silence; its pong gives the round-trip time.
while (conn.stats.rtt === undefined) await new Promise((r) => setTimeout(r, 50));
console.log(`round trip: ${conn.stats.rtt.toFixed(1)} ms`);

const t0 = performance.now();
proxy.silence();
console.log("the proxy goes silent");
const reason = await lost.promise;
const after = performance.now() - t0;
if (reason.kind === "heartbeat_timeout") {
  console.log(
    `disconnected: heartbeat_timeout ${
      after <= reason.interval + reason.timeout + 300 ? "within" : "AFTER"
    } interval + timeout (${reason.interval} + ${reason.timeout} ms)`,
  );
}

await conn.stop();
console.log("stopped");
await proxy.close();
await server.close();
