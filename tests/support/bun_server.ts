// A Bun.serve test server, run under Bun by tests/portable_test.ts (`bun tests/support/bun_server.ts`).
// It answers what tests/support/servers.ts's servers answer, so the portable suites run against
// it unchanged:
//
// - the routes /ws, / (echo), /ws/auth (101 only with "authorization: Bearer ..."; else 401),
//   /reject (403), anything else 404;
// - the commands "close", "crash", "send_and_crash", "send_ping", "send_ping:<payload>",
//   "close:<code>:<reason>", anything else echoed;
// - `?protocols=a,b` picks the first subprotocol offered that is in that list;
// - the control channel of `startControlledServer` on a port of its own: GET /connections?id=
//   and POST /restart?down=<ms>.
//
// The routes, commands, subprotocol choice and control channel are server_routes.ts's, as for
// servers.ts's servers. Prints `{"port": <ws port>, "control": <control port>}` on one stdout line
// once listening, and exits when its stdin ends (or on SIGTERM).

import process from "node:process";
import {
  chooseSubprotocol,
  type ConnectionRecord,
  connectionRecord,
  controlChannel,
  handleCommand,
  headerRecord,
  offeredSubprotocols,
  refusal,
} from "./server_routes.ts";

// The parts of Bun's API used here (this file is type-checked by Deno, which has no Bun types).
interface BunSocket {
  readonly data: ConnectionRecord;
  send(data: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(data?: Uint8Array): number;
}
interface BunServer {
  readonly port: number;
  upgrade(
    req: Request,
    options: { data: ConnectionRecord; headers?: Record<string, string> },
  ): boolean;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunServeOptions {
  port: number;
  hostname: string;
  fetch(req: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket?: {
    open?(ws: BunSocket): void;
    message?(ws: BunSocket, message: string | Uint8Array): void;
    close?(ws: BunSocket, code: number, reason: string): void;
    ping?(ws: BunSocket, data: Uint8Array): void;
    pong?(ws: BunSocket, data: Uint8Array): void;
  };
}
const Bun = (() => {
  const bun = (globalThis as { Bun?: { serve(o: BunServeOptions): BunServer } }).Bun;
  if (bun === undefined) throw new Error("tests/support/bun_server.ts runs under Bun only");
  return bun;
})();

const connections: ConnectionRecord[] = [];
const open = new Set<BunSocket>();

const options = (port: number): BunServeOptions => ({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const headers = headerRecord(req.headers);
    const refused = refusal(new URL(req.url).pathname, headers);
    if (refused) return new Response(refused.text, { status: refused.status });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    const offered = offeredSubprotocols(req.headers.get("sec-websocket-protocol"));
    // Without ?protocols=, Bun's own default: the first protocol offered.
    const protocol = chooseSubprotocol(req.url, offered, offered[0]);
    const record = connectionRecord(req.url, headers);
    record.protocol = protocol ?? "";
    const upgraded = server.upgrade(req, {
      data: record,
      headers: protocol === undefined ? undefined : { "Sec-WebSocket-Protocol": protocol },
    });
    if (!upgraded) return new Response("upgrade failed", { status: 400 });
    connections.push(record);
    return undefined;
  },
  websocket: {
    open: (ws) => void open.add(ws),
    message(ws, message) {
      ws.data.received++;
      handleCommand(typeof message === "string" ? message : new Uint8Array(message), {
        send: (d) => void ws.send(d),
        close: (code, reason) => ws.close(code, reason),
        drop: () => ws.terminate(),
        ping: (p) => void ws.ping(p),
      });
    },
    close(ws, code, reason) {
      open.delete(ws);
      ws.data.close = { code, reason };
    },
    ping: (ws, data) => void ws.data.pings.push(new Uint8Array(data)),
    pong: (ws, data) => void ws.data.pongs.push(new Uint8Array(data)),
  },
});

let server = Bun.serve(options(0));
const port = server.port;

/**
 * Stops listening. Bun 1.3.14's `stop(true)` does not settle once a WebSocket was closed by the
 * server (`ws.close()`), though the port is released at once: wait for it a little only.
 */
async function stop(s: BunServer): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    s.stop(true),
    new Promise((resolve) => (timer = setTimeout(resolve, 100))),
  ]);
  clearTimeout(timer);
}

async function restart(down: number): Promise<void> {
  for (const ws of open) ws.close(1001, "going away");
  await stop(server);
  await new Promise((r) => setTimeout(r, down));
  server = Bun.serve(options(port));
}

const channel = controlChannel(port, () => connections, restart);
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
