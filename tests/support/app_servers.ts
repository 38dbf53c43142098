// The applications servers (see app_routes.ts for what they answer), the peers of
// tests/portable/applications_cases.ts: npm:ws and Deno.serve in this process, and launchers for
// Bun.serve (app_bun_server.ts) and Python websockets (app_python_server.py) in processes of their
// own. Each has a control channel on a port of its own, which outlives restarts: a restart stops
// listening, closes every connection with 1001 "going away" and listens again on the same port
// after the pause (in that order: a client reconnecting at once finds nothing listening, rather
// than the old server, which would accept it and then close it).

// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "npm:ws@8.18.3";
// @ts-types="npm:@types/ws@8.18.1"
import type { WebSocket as WsSocket } from "npm:ws@8.18.3";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { type AppActions, AppRoutes } from "./app_routes.ts";
import { headerRecord, offeredSubprotocols } from "./server_routes.ts";
import { serveControl, startServerProcess } from "./servers.ts";
import { PYTHON, pythonWebsocketsVersion } from "./python_server.ts";

/** A running applications server. */
export interface AppServer {
  /** `ws://127.0.0.1:<port>` (no path) */
  readonly url: string;
  /** `http://127.0.0.1:<control port>` */
  readonly control: string;
  close(): Promise<void>;
}

/** One listening WebSocket server; `close` closes its connections with 1001 "going away". */
interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

/** What the flood may leave in a server's buffer before it waits (its pace). */
const PACE = 256 * 1024;

/** npm:ws on `port` (0: a free one), answering `routes`. */
async function listenWs(routes: AppRoutes, port: number): Promise<Listener> {
  const http = createServer((_req, res) => void res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  const open = new Set<WsSocket>();
  const raw = new Set<Socket>();
  http.on("connection", (s: Socket) => {
    raw.add(s);
    s.on("error", () => {});
    s.on("close", () => raw.delete(s));
  });
  http.on("upgrade", (req, socket, head) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
    const refused = routes.refusal(req.url ?? "/", headers);
    if (refused) {
      socket.end(
        `HTTP/1.1 ${refused.status} ${refused.text}\r\nContent-Length: ${refused.text.length}\r\n` +
          `Connection: close\r\n\r\n${refused.text}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      const record = routes.accepted(req.url ?? "/", headers);
      record.protocol = ws.protocol;
      ws.on("error", () => {});
      ws.on("close", (code: number, reason: Uint8Array) => {
        open.delete(ws);
        record.close = { code, reason: new TextDecoder().decode(reason) };
      });
      const actions: AppActions = {
        send: (d) => ws.readyState === 1 && ws.send(d, { binary: typeof d !== "string" }),
        sendPaced: (d) =>
          new Promise((resolve) => {
            ws.send(d, { binary: true });
            // Wait while more than PACE is buffered: the socket holds it when the client does
            // not read.
            const wait = () => {
              if (ws.readyState !== 1 || ws.bufferedAmount <= PACE) resolve();
              else setTimeout(wait, 2);
            };
            wait();
          }),
        isOpen: () => ws.readyState === 1,
        close: (code, reason) => ws.close(code, reason),
        drop: () => ws.terminate(),
        ping: (p) => ws.ping(p),
      };
      ws.on("message", (data: Uint8Array, isBinary: boolean) => {
        routes.message(
          record,
          isBinary ? new Uint8Array(data) : new TextDecoder().decode(data),
          actions,
        );
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: async () => {
      // Stop listening first (see startAppServer), then close the connections.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const ws of open) ws.close(1001, "going away");
      const t = setTimeout(() => {
        for (const ws of open) ws.terminate();
        for (const s of raw) s.destroy();
      }, 500);
      await closed;
      clearTimeout(t);
      wss.close();
    },
  };
}

/** Deno.serve on `port` (0: a free one), answering `routes`. */
async function listenDeno(routes: AppRoutes, port: number): Promise<Listener> {
  const ac = new AbortController();
  const open = new Set<WebSocket>();
  const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
  const server = Deno.serve({
    port,
    hostname: "127.0.0.1",
    signal: ac.signal,
    onListen: ({ port }) => onListen(port),
  }, (req) => {
    const headers = headerRecord(req.headers);
    const refused = routes.refusal(req.url, headers);
    if (refused) return new Response(refused.text, { status: refused.status });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not found", { status: 404 });
    }
    // The first subprotocol offered, if any, as npm:ws chooses.
    const protocol = offeredSubprotocols(req.headers.get("sec-websocket-protocol"))[0];
    const { socket, response } = Deno.upgradeWebSocket(
      req,
      protocol === undefined ? undefined : { protocol },
    );
    const record = routes.accepted(req.url, headers);
    record.protocol = protocol ?? "";
    socket.binaryType = "arraybuffer";
    socket.onopen = () => open.add(socket);
    socket.onerror = () => {};
    socket.onclose = (e) => {
      open.delete(socket);
      record.close = { code: e.code, reason: e.reason };
    };
    const actions: AppActions = {
      send: (d) => socket.readyState === 1 && socket.send(d),
      sendPaced: async (d) => {
        socket.send(d);
        while (socket.readyState === 1 && socket.bufferedAmount > PACE) {
          await new Promise((r) => setTimeout(r, 2));
        }
      },
      isOpen: () => socket.readyState === 1,
      close: (code, reason) => socket.close(code, reason),
      // Deno cannot drop without a close frame; 1011 is the nearest.
      drop: () => socket.close(1011, "crash"),
      ping: () => socket.close(1011, "cannot ping"),
    };
    socket.onmessage = (e) =>
      routes.message(
        record,
        typeof e.data === "string" ? e.data : new Uint8Array(e.data),
        actions,
      );
    return response;
  });
  const actual = await listening;
  return {
    port: actual,
    close: async () => {
      // Stop listening first (see startAppServer), then close the connections.
      ac.abort();
      for (const s of open) s.close(1001, "going away");
      await server.finished;
    },
  };
}

/** Starts the npm:ws or Deno.serve applications server, with its control channel. */
export async function startAppServer(kind: "ws" | "deno"): Promise<AppServer> {
  const routes = new AppRoutes();
  const listen = kind === "ws" ? listenWs : listenDeno;
  let current = await listen(routes, 0);
  const port = current.port;
  const channel = routes.controlChannel(port, async (down) => {
    await current.close();
    await new Promise((r) => setTimeout(r, down));
    current = await listen(routes, port);
  });
  const control = await serveControl(channel);
  return {
    url: `ws://127.0.0.1:${port}`,
    control: control.url,
    close: async () => {
      await control.close();
      await current.close();
    },
  };
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Starts app_bun_server.ts under `bun` (the pinned Bun's path). */
export async function startAppBunServer(bun: string): Promise<AppServer> {
  const server = await startServerProcess(
    bun,
    [here("./app_bun_server.ts")],
    "tests/support/app_bun_server.ts",
  );
  return { url: server.url, control: server.control, close: async () => void await server.close() };
}

/** Starts app_python_server.py under Debian's Python (see python_server.ts). */
export async function startAppPythonServer(): Promise<AppServer> {
  await pythonWebsocketsVersion();
  const server = await startServerProcess(
    PYTHON,
    ["-u", here("./app_python_server.py")],
    "tests/support/app_python_server.py",
  );
  return { url: server.url, control: server.control, close: async () => void await server.close() };
}
