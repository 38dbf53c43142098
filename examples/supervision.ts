// Supervision: a supervisor restarts a client that stops abnormally. The client's handleFrame
// returns stop("boom") when it reads "boom" (the echo server sends back what we send).
//
//   deno run --allow-net=127.0.0.1 examples/supervision.ts

import { defineClient, type Logger, ok, stop, supervise } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();

// Each connection of a (re)started worker settles the promise main() waits on.
const waiting: Array<() => void> = [];
const nextConnect = () => new Promise<void>((resolve) => waiting.push(resolve));

const Worker = defineClient({
  handleConnect(state: null) {
    console.log("worker: connected");
    waiting.shift()?.();
    return ok(state);
  },
  handleFrame(frame, state: null) {
    if (frame.type === "text" && frame.data === "boom") {
      console.log('worker: got "boom", returning stop("boom")');
      return stop("boom");
    }
    return ok(state);
  },
});

const logger: Logger = {
  debug() {},
  info: (msg) => console.log(msg),
  warn: (msg) => console.log(msg),
  error: (msg) => console.log(msg),
};

let connected = nextConnect();
const sup = await supervise([Worker.childSpec(null, { url: server.url(), name: "worker" })], {
  maxRestarts: 3,
  period: 5000,
  logger,
});
await connected;

for (let round = 1; round <= 2; round++) {
  connected = nextConnect();
  await sup.child("worker")?.sendFrame({ type: "text", data: "boom" });
  await connected; // the restarted worker is up
  const info = sup.children()[0];
  console.log(`supervisor: child "${info.id}" restarts = ${info.restarts}`);
}

console.log(`supervisor stopped: ${JSON.stringify(await sup.stop())}`);
await server.close();
