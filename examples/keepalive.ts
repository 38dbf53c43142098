// Keepalive with real ping frames (the socket transport): a timer calls conn.info("tick"); each
// tick sends a ping, and a tick that finds the last ping unanswered treats the connection as dead
// and disconnects. The server answers pings by itself, so every ping gets its pong here.
//
//   deno run --allow-net=127.0.0.1 examples/keepalive.ts

import { defineClient, disconnect, ok, push } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();
const PONGS = 3;
const done = Promise.withResolvers<void>();

interface State {
  connected: boolean;
  sentAt: number | undefined; // when the unanswered ping went out
  pongs: number;
}

const KeepAlive = defineClient<State, State, "tick">({
  handleConnect: (state) => ok({ ...state, connected: true }),
  handleDisconnect: (_reason, state) => ok({ ...state, connected: false, sentAt: undefined }),
  handleInfo(_tick, state) {
    if (!state.connected) return ok(state);
    if (state.sentAt !== undefined) return disconnect("no pong", state); // dead connection
    return push({ type: "ping", data: new TextEncoder().encode("ka") }, {
      ...state,
      sentAt: performance.now(),
    });
  },
  handleFrame(frame, state) {
    if (frame.type !== "pong" || state.sentAt === undefined) return ok(state);
    const pongs = state.pongs + 1;
    const rtt = performance.now() - state.sentAt;
    console.log(
      `pong ${pongs} (${new TextDecoder().decode(frame.data)}) after ${
        rtt < 50 ? "< 50" : "≥ 50"
      } ms`,
    );
    if (pongs === PONGS) done.resolve();
    return ok({ ...state, sentAt: undefined, pongs });
  },
});

// Ping frames need the socket transport: ask for it (auto would pick the web transport here).
const conn = await KeepAlive.start({ connected: false, sentAt: undefined, pongs: 0 }, {
  url: server.url(),
  transport: "socket",
});
console.log(`transport: ${conn.transport}`);
const timer = setInterval(() => conn.info("tick"), 50);
await done.promise;
clearInterval(timer);

await conn.stop();
console.log(`stopped after ${PONGS} pongs`);
await server.close();
