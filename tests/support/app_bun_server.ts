// The Bun.serve applications server (`bun tests/support/app_bun_server.ts`): the routes and
// control channel of app_routes.ts, as app_servers.ts's npm:ws and Deno.serve servers answer
// them. Prints `{"port": <ws port>, "control": <control port>}` on one stdout line once
// listening, and exits when its stdin ends (or on SIGTERM).

import process from "node:process";
import type { ConnectionRecord } from "./server_routes.ts";
import { headerRecord, offeredSubprotocols } from "./server_routes.ts";
import { type AppActions, AppRoutes } from "./app_routes.ts";

// The parts of Bun's API used here (this file is type-checked by Deno, which has no Bun types).
interface Data {
  record: ConnectionRecord;
  actions?: AppActions;
  /** Wakes a flood waiting for the socket to drain. */
  drained?: () => void;
  open: boolean;
}
interface BunSocket {
  readonly data: Data;
  send(data: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(data?: Uint8Array): number;
}
interface BunServer {
  readonly port: number;
  upgrade(req: Request, options: { data: Data; headers?: Record<string, string> }): boolean;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunServeOptions {
  port: number;
  hostname: string;
  fetch(req: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket?: {
    maxPayloadLength?: number;
    open?(ws: BunSocket): void;
    message?(ws: BunSocket, message: string | Uint8Array): void;
    close?(ws: BunSocket, code: number, reason: string): void;
    drain?(ws: BunSocket): void;
  };
}
const Bun = (() => {
  const bun = (globalThis as { Bun?: { serve(o: BunServeOptions): BunServer } }).Bun;
  if (bun === undefined) throw new Error("tests/support/app_bun_server.ts runs under Bun only");
  return bun;
})();

const routes = new AppRoutes();
const open = new Set<BunSocket>();

function actionsFor(ws: BunSocket): AppActions {
  return {
    send: (d) => void (ws.data.open && ws.send(d)),
    // send() answers -1 when the message is queued behind backpressure: wait for drain.
    sendPaced: (d) => {
      if (!ws.data.open) return Promise.resolve();
      if (ws.send(d) !== -1) return Promise.resolve();
      return new Promise((resolve) => (ws.data.drained = resolve));
    },
    isOpen: () => ws.data.open,
    close: (code, reason) => ws.close(code, reason),
    drop: () => ws.terminate(),
    ping: (p) => void ws.ping(p),
  };
}

const options = (port: number): BunServeOptions => ({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const headers = headerRecord(req.headers);
    const refused = routes.refusal(req.url, headers);
    if (refused) return new Response(refused.text, { status: refused.status });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    const record = routes.accepted(req.url, headers);
    // The first subprotocol offered, if any, as npm:ws chooses.
    const protocol = offeredSubprotocols(req.headers.get("sec-websocket-protocol"))[0];
    record.protocol = protocol ?? "";
    const upgraded = server.upgrade(req, {
      data: { record, open: false },
      headers: protocol === undefined ? undefined : { "Sec-WebSocket-Protocol": protocol },
    });
    if (!upgraded) {
      return new Response("upgrade failed", { status: 400 });
    }
    return undefined;
  },
  websocket: {
    maxPayloadLength: 64 * 1024 * 1024,
    open(ws) {
      ws.data.open = true;
      ws.data.actions = actionsFor(ws);
      open.add(ws);
    },
    message(ws, message) {
      routes.message(
        ws.data.record,
        typeof message === "string" ? message : new Uint8Array(message),
        ws.data.actions!,
      );
    },
    drain(ws) {
      const wake = ws.data.drained;
      ws.data.drained = undefined;
      wake?.();
    },
    close(ws, code, reason) {
      ws.data.open = false;
      open.delete(ws);
      ws.data.record.close = { code, reason };
      ws.data.drained?.();
    },
  },
});

let server = Bun.serve(options(0));
const port = server.port;

/** Stops listening (Bun's stop(true) may not settle once a socket was closed: see bun_server.ts). */
async function stop(s: BunServer): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    s.stop(true),
    new Promise((resolve) => (timer = setTimeout(resolve, 100))),
  ]);
  clearTimeout(timer);
}

async function restart(down: number): Promise<void> {
  // Stop listening first (see app_servers.ts), then close the connections, then let go.
  server.stop(false).catch(() => {});
  for (const ws of open) ws.close(1001, "going away");
  await stop(server);
  await new Promise((r) => setTimeout(r, down));
  server = Bun.serve(options(port));
}

const channel = routes.controlChannel(port, restart);
const control = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: channel.fetch });

async function shutdown(): Promise<void> {
  for (const ws of open) ws.close(1001, "going away");
  await Promise.all([stop(server), stop(control)]);
  process.exit(0);
}

process.stdin.on("end", shutdown);
process.stdin.on("error", shutdown);
process.stdin.resume();
process.on("SIGTERM", shutdown);
process.stdout.write(JSON.stringify({ port, control: control.port }) + "\n");
