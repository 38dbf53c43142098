// Watching a client from the rest of the app: `conn.events()` is an async iterable of what
// happens to it (connecting, connected, disconnected, reconnecting, stopped) that any number of
// readers can hold, and `conn.frames()` gives the received frames to a `for await` loop instead
// of handleFrame. Here the server drops the feed once and the client comes back by itself.
//
//   deno run --allow-net=127.0.0.1 examples/watch.ts

import { type ClientEvent, defineClient } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();
const conn = await defineClient({}).start(null, {
  url: server.url("/feed"),
  reconnect: { baseDelay: 50, maxDelay: 200 },
  // The drop below is part of the demo: keep the client's own log lines quiet.
  logger: { debug() {}, info() {}, warn() {}, error: console.error },
});

function describe(e: ClientEvent): string {
  switch (e.type) {
    case "connecting":
      return `connecting (attempt ${e.attempt})`;
    case "connected":
      return `connected to ${e.info.url}`;
    case "disconnected":
      return `disconnected (${e.reason.kind})`;
    case "reconnecting":
      return `reconnecting in ${e.delay} ms`;
    case "stopped":
      return `stopped (${e.reason.kind})`;
    case "missed":
      return `missed ${e.count} events`;
  }
}

// One part of the app logs the client's state...
const watching = (async () => {
  for await (const event of conn.events()) console.log(`events: ${describe(event)}`);
  console.log("events: the iteration ended");
})();

// ...another reads the feed.
let ticks = 0;
for await (const frame of conn.frames()) {
  if (frame.type !== "text") continue;
  ticks++;
  if (ticks === 3) server.dropAll();
  if (ticks === 6) break; // releases this reader
}
console.log(`frames: read ${ticks} ticks across the drop`);
console.log(`stats: ${conn.stats.connects} connections, ${conn.stats.messagesIn} messages in`);
await conn.stop();
await watching;
await server.close();
