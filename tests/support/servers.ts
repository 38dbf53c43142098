// Test servers on loopback, port 0, answering the test commands:
//   "close"               -> the server closes with 1000 "normal closure"
//   "crash"               -> the server drops the TCP connection, no close frame
//   "send_and_crash"      -> replies "push_this", then drops the connection after 10 ms
//   "send_ping"           -> sends a ping with payload "ping"
//   "send_ping:<payload>" -> sends a ping with <payload>
//   "close:<code>:<reason>" -> the server closes with <code> and <reason>
//   anything else         -> echoed (text as text, binary as binary)
// Routes: /ws (echo), /ws/auth (101 only with "authorization: Bearer ..."; else 401),
// /reject (403). Two implementations: npm:ws and Deno.serve + upgradeWebSocket.
// Each accepted connection is recorded in `connections`, keyed by the `id` query parameter; with
// `?protocols=a,b` the server picks the first subprotocol offered that is in that list (without
// it, npm:ws picks the first offered and Deno.serve none). `startControlledServer` adds an HTTP
// control channel (tests/portable/, tests/support/bun_server.ts answers the same). The routes,
// commands, records and control channel are in server_routes.ts, shared with bun_server.ts.

// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "npm:ws@8.18.3";
// @ts-types="npm:@types/ws@8.18.1"
import type { WebSocket as WsSocket } from "npm:ws@8.18.3";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as net from "node:net";
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
import { type BeforeDispose, closedAtEnd } from "./disposable.ts";
import { readFirstLine } from "./first_line.ts";

export type { ConnectionRecord } from "./server_routes.ts";

/**
 * A running test server. `await using server = await startWsServer();` closes it at the end of
 * the block (closing it earlier is fine: `close` runs once).
 */
export interface TestServer extends AsyncDisposable {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>` */
  url(path?: string): string;
  /** Headers of every upgrade request seen, in order. */
  readonly requests: Array<{ path: string; headers: Record<string, string> }>;
  /** Messages the server received, in order (text as string, binary as Uint8Array). */
  readonly received: Array<string | Uint8Array>;
  /** Close codes and reasons the server received from clients. */
  readonly closes: Array<{ code: number; reason: string }>;
  /** Payloads of pings and pongs the server received (npm:ws only). */
  readonly pings: Uint8Array[];
  readonly pongs: Uint8Array[];
  /** Every WebSocket connection accepted, in order. */
  readonly connections: ConnectionRecord[];
  /** Number of currently open WebSocket connections. */
  openCount(): number;
  /** Sends to every open connection. */
  broadcast(data: string | Uint8Array): void;
  /** Sends a ping to every open connection (npm:ws only). */
  pingAll(payload: Uint8Array): void;
  /** Drops every connection without a close frame. */
  dropAll(): void;
  /** Stops listening and closes every connection with 1001 "going away". */
  close(): Promise<void>;
  /**
   * The bytes read from and written to the connections' sockets so far, upgrade requests and
   * responses included (npm:ws only): what went over the wire, compressed or not.
   */
  wire?(): { read: number; written: number };
}

/** Options of {@linkcode startWsServer}. */
export interface WsServerOptions {
  /** npm:ws's `perMessageDeflate` (default `false`: no compression). */
  // deno-lint-ignore no-explicit-any
  readonly perMessageDeflate?: boolean | Record<string, any>;
}

/** Starts an npm:ws server. `port` reuses a port (for restart tests). */
export async function startWsServer(
  port = 0,
  options: WsServerOptions = {},
): Promise<TestServer> {
  const http: Server = createServer((req, res) => {
    res.writeHead(req.url === "/reject" ? 403 : 404).end();
  });
  const wss = new WebSocketServer({
    noServer: true,
    // Without ?protocols=, npm:ws's own default: the first protocol offered.
    handleProtocols: (offered: Set<string>, req: { url?: string }) =>
      chooseSubprotocol(req.url ?? "/", [...offered], offered.values().next().value) ?? false,
    perMessageDeflate: options.perMessageDeflate ?? false,
  });
  const sockets = new Set<WsSocket>();
  const connections: ConnectionRecord[] = [];
  const rawSockets = new Set<Socket>();
  // Bytes of the sockets that closed already.
  const closedWire = { read: 0, written: 0 };
  const requests: TestServer["requests"] = [];
  const received: TestServer["received"] = [];
  const closes: TestServer["closes"] = [];
  const pings: Uint8Array[] = [];
  const pongs: Uint8Array[] = [];
  http.on("connection", (s: Socket) => {
    rawSockets.add(s);
    // A client may reset the connection after a refused upgrade (Bun does): without a listener
    // that "error" would be thrown and end the whole test process.
    s.on("error", () => {});
    s.on("close", () => {
      rawSockets.delete(s);
      closedWire.read += s.bytesRead;
      closedWire.written += s.bytesWritten;
    });
  });
  http.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = String(v);
    requests.push({ path, headers });
    const refused = refusal(path, headers);
    if (refused) {
      socket.end(
        `HTTP/1.1 ${refused.status} ${refused.text}\r\nContent-Length: ${refused.text.length}\r\n` +
          `Connection: close\r\n\r\n${refused.text}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const record = connectionRecord(req.url ?? "/", headers);
      record.protocol = ws.protocol;
      connections.push(record);
      ws.on("close", (code: number, reason: Uint8Array) => {
        sockets.delete(ws);
        closes.push({ code, reason: new TextDecoder().decode(reason) });
        record.close = closes[closes.length - 1];
      });
      ws.on("error", () => {});
      ws.on("ping", (p: Uint8Array) => {
        pings.push(new Uint8Array(p));
        record.pings.push(new Uint8Array(p));
      });
      ws.on("pong", (p: Uint8Array) => {
        pongs.push(new Uint8Array(p));
        record.pongs.push(new Uint8Array(p));
      });
      ws.on("message", (raw: Uint8Array, isBinary: boolean) => {
        const data = isBinary ? new Uint8Array(raw) : new TextDecoder().decode(raw);
        received.push(data);
        record.received++;
        handleCommand(data, {
          send: (d) => ws.send(d, { binary: typeof d !== "string" }),
          close: (code, reason) => ws.close(code, reason),
          drop: () => ws.terminate(),
          ping: (p) => ws.ping(p),
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  return closedAtEnd<BeforeDispose<TestServer>>({
    port: actual,
    url: (path = "/ws") => `ws://127.0.0.1:${actual}${path}`,
    requests,
    received,
    closes,
    pings,
    pongs,
    connections,
    openCount: () => sockets.size,
    wire: () => {
      const total = { ...closedWire };
      for (const s of rawSockets) {
        total.read += s.bytesRead;
        total.written += s.bytesWritten;
      }
      return total;
    },
    broadcast: (d) => sockets.forEach((s) => s.send(d, { binary: typeof d !== "string" })),
    pingAll: (p) => sockets.forEach((s) => s.ping(p)),
    dropAll: () => {
      sockets.forEach((s) => s.terminate());
    },
    close: async () => {
      for (const s of sockets) s.close(1001, "going away");
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          for (const s of sockets) s.terminate();
          for (const s of rawSockets) s.destroy();
        }, 500);
        http.close(() => {
          clearTimeout(t);
          resolve();
        });
        http.closeIdleConnections?.();
      });
      for (const s of rawSockets) s.destroy();
      wss.close();
    },
  });
}

/** Starts a Deno.serve server with the same routes and commands (no ping support). */
export function startDenoServer(port = 0): Promise<TestServer> {
  const sockets = new Set<WebSocket>();
  const requests: TestServer["requests"] = [];
  const received: TestServer["received"] = [];
  const closes: TestServer["closes"] = [];
  const connections: ConnectionRecord[] = [];
  const ac = new AbortController();
  return new Promise((resolve) => {
    const server = Deno.serve({
      port,
      hostname: "127.0.0.1",
      signal: ac.signal,
      onListen: ({ port: actual }) => {
        resolve(closedAtEnd<BeforeDispose<TestServer>>({
          port: actual,
          url: (path = "/ws") => `ws://127.0.0.1:${actual}${path}`,
          requests,
          received,
          closes,
          pings: [],
          pongs: [],
          connections,
          openCount: () => sockets.size,
          broadcast: (d) => sockets.forEach((s) => s.send(d)),
          pingAll: () => {
            throw new Error("Deno.serve sockets cannot send pings");
          },
          dropAll: () => {
            // Deno cannot drop without a close frame; 1011 is the nearest.
            sockets.forEach((s) => s.close(1011, "dropped"));
          },
          close: async () => {
            for (const s of sockets) s.close(1001, "going away");
            ac.abort();
            await server.finished;
          },
        }));
      },
    }, (req) => {
      const path = new URL(req.url).pathname;
      const headers = headerRecord(req.headers);
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        requests.push({ path, headers });
      }
      const refused = refusal(path, headers);
      if (refused) return new Response(refused.text, { status: refused.status });
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("not found", { status: 404 });
      }
      const offered = offeredSubprotocols(req.headers.get("sec-websocket-protocol"));
      const protocol = chooseSubprotocol(req.url, offered, undefined);
      const { socket, response } = Deno.upgradeWebSocket(
        req,
        protocol === undefined ? undefined : { protocol },
      );
      const record = connectionRecord(req.url, headers);
      record.protocol = protocol ?? "";
      connections.push(record);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => sockets.add(socket);
      socket.onclose = (e) => {
        sockets.delete(socket);
        closes.push({ code: e.code, reason: e.reason });
        record.close = closes[closes.length - 1];
      };
      socket.onerror = () => {};
      socket.onmessage = (e) => {
        const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data);
        received.push(data);
        record.received++;
        handleCommand(data, {
          send: (d) => socket.readyState === 1 && socket.send(d),
          close: (code, reason) => socket.close(code, reason),
          drop: () => socket.close(1011, "crash"),
          ping: () => socket.close(1011, "cannot ping"),
        });
      };
      return response;
    });
  });
}

/** A raw TCP server; `close()` closes every socket. `await using` closes it at the end of the block. */
export interface RawServer extends AsyncDisposable {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>` */
  url(path?: string): string;
  close(): Promise<void>;
}

/** A raw TCP server scripted by `onConnection`; closes every socket on `close()`. */
export async function startRawServer(
  onConnection: (socket: Socket) => void,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return closedAtEnd({
    port,
    url: (path = "/ws") => `ws://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** A server that accepts TCP and never answers (for connect timeouts). */
export function startSilentServer(): Promise<RawServer> {
  return startRawServer(() => {});
}

/** A server that answers the upgrade with garbage and closes. */
export function startGarbageServer(): Promise<RawServer> {
  return startRawServer((s) => {
    s.once("data", () => s.end("not-http\r\n\r\n"));
  });
}

/** A port on 127.0.0.1 with nothing listening (taken, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A test server behind an HTTP control channel on a port of its own, which outlives restarts.
 * The same protocol as tests/support/bun_server.ts:
 *
 * - `GET /connections?id=<id>`: JSON array of the connections whose `id` query parameter was
 *   `<id>`, across restarts: `{ id, path, headers, protocol, received, pings, pongs, close }`
 *   with ping and pong payloads as text and `close` `null` until the server saw the close.
 * - `POST /restart?down=<ms>`: closes every connection with 1001 "going away", stops listening,
 *   listens again on the same port after `<ms>` ms; answers once it listens again.
 */
export interface ControlledServer {
  /** `ws://127.0.0.1:<port>` (no path) */
  readonly url: string;
  /** `http://127.0.0.1:<control port>` */
  readonly control: string;
  /** The server listening now. */
  current(): TestServer;
  /** Closes the control channel and the server. */
  close(): Promise<void>;
}

/** Starts an npm:ws or Deno.serve server with a control channel (see {@linkcode ControlledServer}). */
export async function startControlledServer(
  kind: "ws" | "deno" | "ws-deflate",
): Promise<ControlledServer> {
  const start = kind === "ws" ? startWsServer : kind === "ws-deflate"
    // Every message compressed, however short (npm:ws's own threshold is 1 KiB).
    ? (port?: number) => startWsServer(port, { perMessageDeflate: { threshold: 0 } })
    : startDenoServer;
  let current = await start();
  const port = current.port;
  const earlier: ConnectionRecord[] = [];
  const channel = controlChannel(port, () => [...earlier, ...current.connections], async (down) => {
    earlier.push(...current.connections);
    await current.close();
    await new Promise((r) => setTimeout(r, down));
    current = await start(port);
  });
  const control = await serveControl(channel);
  return {
    url: `ws://127.0.0.1:${port}`,
    control: control.url,
    current: () => current,
    close: async () => {
      await control.close();
      await current.close();
    },
  };
}

/**
 * Serves a control channel (see `controlChannel` in server_routes.ts) over HTTP on a free port of
 * 127.0.0.1; `close` stops it once no restart is running.
 */
export async function serveControl(
  channel: ReturnType<typeof controlChannel>,
): Promise<{ url: string; close(): Promise<void> }> {
  const ac = new AbortController();
  const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    signal: ac.signal,
    onListen: ({ port }) => onListen(port),
  }, channel.fetch);
  const port = await listening;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      ac.abort();
      await server.finished;
      await channel.idle();
    },
  };
}

/** A test server running in a child process, with its control channel (see bun_server.ts). */
export interface ServerProcess {
  /** `ws://127.0.0.1:<port>` (no path) */
  readonly url: string;
  /** `http://127.0.0.1:<control port>` */
  readonly control: string;
  /** Closes its stdin (it exits then), waits for it, and returns what it wrote to stderr. */
  close(): Promise<string>;
}

/**
 * Starts `bin args` as a test server: one that prints `{"port": <ws port>, "control": <control
 * port>}` on its first stdout line once listening and exits when its stdin ends, like
 * tests/support/bun_server.ts and tests/support/python_server.py. Throws with its output (`what`
 * names it) if it does not start.
 */
export async function startServerProcess(
  bin: string,
  args: string[],
  what: string,
): Promise<ServerProcess> {
  const child = new Deno.Command(bin, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
  let first: Awaited<ReturnType<typeof readFirstLine>>;
  try {
    first = await readFirstLine(child.stdout);
  } finally {
    clearTimeout(kill);
  }
  const { line: out, drained } = first;
  const close = async () => {
    await child.stdin.close().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    try {
      await child.status;
    } finally {
      clearTimeout(timer);
    }
    await drained;
    return await stderr;
  };
  let ports: { port: number; control: number };
  try {
    ports = JSON.parse(out);
  } catch {
    const err = await close();
    throw new Error(`${what} did not start: ${out}${err}`);
  }
  return {
    url: `ws://127.0.0.1:${ports.port}`,
    control: `http://127.0.0.1:${ports.control}`,
    close,
  };
}
