// The tour: an embedded echo server and one client, with a timestamped transcript.
// Connect, echo, a server-side drop, reconnection with backoff while the server refuses
// connections for a moment, a graceful disconnect, and a stop.
//
//   deno task demo   (deno run --allow-net=127.0.0.1 examples/demo.ts)

import { defineClient, type DisconnectReason, HandshakeError, type Logger, ok } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const t0 = performance.now();
const say = (who: string, text: string) =>
  console.log(`[+${((performance.now() - t0) / 1000).toFixed(3)}s] ${who.padEnd(6)} ${text}`);

const server = await startEchoServer({ log: (line) => say("server", line) });
say("server", `listening on ${server.url()}`);

// The client logs "[parley] Reconnecting in N ms (retry k) after: ..." at info level; show it
// briefly (the disconnect reasons are shown by handleDisconnect below).
const logger: Logger = {
  debug: () => {},
  info: (msg) => {
    const m = /Reconnecting in (\d+) ms \(retry (\d+)/.exec(msg);
    if (m) say("client", `reconnecting in ${m[1]} ms (retry ${m[2]})`);
  },
  // Each disconnect is also logged as a warning; handleDisconnect below shows it already.
  warn: (msg) => msg.includes("Disconnected:") || say("client", `warning: ${msg}`),
  error: (msg) => say("client", `error: ${msg}`),
};

const waiting: Array<() => void> = [];
const next = () => new Promise<void>((resolve) => waiting.push(resolve));
const wake = () => waiting.shift()?.();

const Demo = defineClient({
  handleConnect(connects: number) {
    say("client", connects === 0 ? "connected" : "reconnected");
    wake();
    return ok(connects + 1);
  },
  handleFrame(frame, connects: number) {
    if (frame.type === "text") say("client", `echo: ${frame.data}`);
    wake();
    return ok(connects);
  },
  handleDisconnect(reason: DisconnectReason, connects: number) {
    say("client", `disconnected: ${describe(reason)}`);
    return ok(connects); // the reconnect option decides (a disconnect() call holds it off)
  },
});

function describe(reason: DisconnectReason): string {
  switch (reason.kind) {
    case "remote_close":
      return `server closed with ${reason.code} "${reason.reason}"`;
    case "error": {
      // HandshakeError.status when the transport fills it, else Deno's "Invalid status code: N".
      const { error } = reason;
      const status = (error instanceof HandshakeError ? error.status : undefined) ??
        /status code: (\d+)/.exec(error.message)?.[1];
      return `connection failed (${status ? `HTTP ${status}` : error.message})`;
    }
    default:
      return reason.kind;
  }
}

let wait = next();
const conn = await Demo.start(0, {
  url: server.url(),
  reconnect: { baseDelay: 200, maxDelay: 2000 },
  logger,
});
await wait;

for (const text of ["hello", "parley"]) {
  wait = next();
  say("client", `send: ${text}`);
  await conn.sendFrame({ type: "text", data: text });
  await wait;
}

// The server drops us and refuses new connections for 650 ms. With equal jitter, retry 1
// comes 101-200 ms after the drop and retry 2 201-400 ms later (at most 600 ms: refused),
// retry 3 401-800 ms after that (at least 703 ms: accepted).
wait = next();
server.refuseFor(650);
server.dropAll();
await wait;

wait = next();
say("client", "send: back again");
await conn.sendFrame({ type: "text", data: "back again" });
await wait;

say("client", 'disconnect({ code: 1000, reason: "bye" })');
await conn.disconnect({ code: 1000, reason: "bye" });
say("client", `stop() -> ${JSON.stringify(await conn.stop())}`);
await server.close();
say("server", "closed");
