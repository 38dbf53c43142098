// A Bun.serve test server, run under Bun by tests/portable_test.ts (`bun tests/support/bun_server.ts`).
// It answers what tests/support/servers.ts's servers answer, so the portable suites run against
// it unchanged:
//
// - the routes /ws, / (echo), /ws/auth (101 only with "authorization: Bearer ..."; else 401),
//   /reject (403), anything else 404;
// - the commands "close", "crash", "send_and_crash", "send_ping", "send_ping:<payload>",
//   "close:<code>:<reason>", anything else echoed (see servers.ts's handleCommand);
// - `?protocols=a,b` picks the first subprotocol offered that is in that list;
// - the control channel of `startControlledServer` on a port of its own: GET /connections?id=
//   and POST /restart?down=<ms>.
//
// Prints `{"port": <ws port>, "control": <control port>}` on one stdout line once listening, and
// exits when its stdin ends (or on SIGTERM).

import process from "node:process";

/** One accepted connection, as servers.ts's ConnectionRecord. */
interface ConnectionRecord {
  readonly id: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  protocol: string;
  received: number;
  readonly pings: string[];
  readonly pongs: string[];
  close: { code: number; reason: string } | null;
}

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

const text = (data: Uint8Array) => new TextDecoder().decode(data);
const connections: ConnectionRecord[] = [];
const open = new Set<BunSocket>();

/** The same answers as servers.ts's `refusal`. */
function refusal(path: string, headers: Record<string, string>): Response | undefined {
  if (path === "/reject") return new Response("Forbidden", { status: 403 });
  if (path === "/ws/auth" && !/^Bearer /.test(headers["authorization"] ?? "")) {
    return new Response("Unauthorized", { status: 401 });
  }
  if (path !== "/ws" && path !== "/ws/auth" && path !== "/") {
    return new Response("Not Found", { status: 404 });
  }
  return undefined;
}

/** The same commands as servers.ts's `handleCommand`. */
function handleCommand(ws: BunSocket, data: string | Uint8Array): void {
  if (typeof data !== "string") {
    ws.send(data);
    return;
  }
  if (data === "close") return ws.close(1000, "normal closure");
  if (data === "crash") return ws.terminate();
  if (data === "send_and_crash") {
    ws.send("push_this");
    setTimeout(() => ws.terminate(), 10);
    return;
  }
  if (data === "send_ping") return void ws.ping(new TextEncoder().encode("ping"));
  if (data.startsWith("send_ping:")) return void ws.ping(new TextEncoder().encode(data.slice(10)));
  const closeWith = /^close:([0-9]{4}):(.*)$/s.exec(data);
  if (closeWith) return ws.close(Number(closeWith[1]), closeWith[2]);
  ws.send(data);
}

const options = (port: number): BunServeOptions => ({
  port,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const url = new URL(req.url);
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const refused = refusal(url.pathname, headers);
    if (refused) return refused;
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",")
      .map((p) => p.trim()).filter((p) => p !== "");
    const supported = url.searchParams.get("protocols");
    // Without ?protocols=, Bun's own default: the first protocol offered.
    const protocol = supported === null
      ? offered[0]
      : offered.find((p) => supported.split(",").includes(p));
    const record: ConnectionRecord = {
      id: url.searchParams.get("id") ?? "",
      path: url.pathname,
      headers,
      protocol: protocol ?? "",
      received: 0,
      pings: [],
      pongs: [],
      close: null,
    };
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
      handleCommand(ws, typeof message === "string" ? message : new Uint8Array(message));
    },
    close(ws, code, reason) {
      open.delete(ws);
      ws.data.close = { code, reason };
    },
    ping: (ws, data) => void ws.data.pings.push(text(data)),
    pong: (ws, data) => void ws.data.pongs.push(text(data)),
  },
});

let server = Bun.serve(options(0));
const port = server.port;
let restarting: Promise<void> | undefined;

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

const control = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/connections") {
      const id = url.searchParams.get("id") ?? "";
      return Response.json(connections.filter((c) => c.id === id));
    }
    if (url.pathname === "/restart" && req.method === "POST") {
      const down = Number(url.searchParams.get("down") ?? "0");
      restarting ??= restart(down).finally(() => (restarting = undefined));
      try {
        await restarting;
      } catch (error) {
        return Response.json({ ok: false, error: String(error) }, { status: 500 });
      }
      return Response.json({ ok: true, port });
    }
    return new Response("not found", { status: 404 });
  },
});

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
