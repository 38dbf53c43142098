// Connect to an echo server, send a text and a binary frame, print the echoes, stop.
//
//   deno run --allow-net=127.0.0.1 examples/echo.ts

import { defineClient, ok, type ReceivedFrame } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();

// Each echo settles the promise the sender is waiting on.
const waiting: Array<(frame: ReceivedFrame) => void> = [];
const nextEcho = () => new Promise<ReceivedFrame>((resolve) => waiting.push(resolve));

const Echo = defineClient({
  handleConnect(state: null, info) {
    console.log(`connected to ${info.url}`);
    return ok(state);
  },
  handleFrame(frame, state: null) {
    if (frame.type === "text") console.log(`echo (text): ${frame.data}`);
    if (frame.type === "binary") console.log(`echo (binary): [${[...frame.data].join(", ")}]`);
    waiting.shift()?.(frame);
    return ok(state);
  },
});

const conn = await Echo.start(null, { url: server.url() });
await conn.connect(); // resolves once connected and handleConnect has run

let echo = nextEcho();
console.log("send (text): hello, parley");
await conn.sendFrame({ type: "text", data: "hello, parley" });
await echo;

echo = nextEcho();
console.log("send (binary): [1, 2, 3, 255]");
await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3, 255]) });
await echo;

const reason = await conn.stop();
console.log(`stopped: ${JSON.stringify(reason)} (state: ${conn.state})`);
await server.close();
