// A heartbeat through handleInfo: a timer calls conn.info("beat") every 100 ms, and handleInfo
// pushes a text "ping" while connected. The echo server sends each ping back.
//
//   deno run --allow-net=127.0.0.1 examples/heartbeat.ts

import { defineClient, ok, push } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();
const BEATS = 3;
const done = Promise.withResolvers<void>();

interface State {
  connected: boolean;
  beats: number;
  echoes: number;
}

const Heart = defineClient<State, State, "beat">({
  handleConnect: (state) => ok({ ...state, connected: true }),
  handleDisconnect: (_reason, state) => ok({ ...state, connected: false }),
  handleInfo(message, state) {
    if (message !== "beat" || !state.connected) return ok(state);
    const beats = state.beats + 1;
    console.log(`beat ${beats}: push "ping"`);
    return push({ type: "text", data: "ping" }, { ...state, beats });
  },
  handleFrame(frame, state) {
    const echoes = state.echoes + 1;
    if (frame.type === "text") console.log(`echo ${echoes}: ${frame.data}`);
    if (echoes === BEATS) done.resolve();
    return ok({ ...state, echoes });
  },
});

const conn = await Heart.start({ connected: false, beats: 0, echoes: 0 }, { url: server.url() });
const timer = setInterval(() => conn.info("beat"), 100);
await done.promise;
clearInterval(timer);

await conn.stop();
console.log(`stopped after ${BEATS} heartbeats`);
await server.close();
