// The real servers behind the fault proxy (127.0.0.1, port 0):
//
// - `startFaultServer()`: npm:ws (it answers pings), echoing text and binary, with commands:
//   `big <n>` sends one binary message of n bytes; `tick <ms>` sends "tick" every ms until the
//   connection closes; `flood <count> <size>` sends count binary messages of size bytes, numbered
//   by their first 4 bytes (big-endian), as fast as TCP takes them (it waits while more than
//   1 MiB is queued), then "flooded".
// - `startRefusingServer(status, retryAfter)`: Deno.serve answering every request with `status`
//   and a `Retry-After` header.
// - `startDroppingServer()`: Deno.serve completing every upgrade and closing it at once with
//   1001 "going away" (a server that accepts and drops).

// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "npm:ws@8.18.3";
// @ts-types="npm:@types/ws@8.18.1"
import type { WebSocket as WsSocket } from "npm:ws@8.18.3";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { closedAtEnd } from "../support/disposable.ts";

/** A server the tests reach through the proxy. */
export interface FaultServer extends AsyncDisposable {
  readonly port: number;
  url(path?: string): string;
  /** Upgrades accepted so far. */
  readonly accepted: number[];
  /** Close codes the server received. */
  readonly closes: number[];
  close(): Promise<void>;
}

/** Waits while more than this is queued for a connection (flood). */
const FLOOD_HIGH_WATER = 1024 * 1024;

/** The npm:ws server with the commands above. */
export async function startFaultServer(): Promise<FaultServer> {
  const http = createServer((_, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WsSocket>();
  const raw = new Set<Socket>();
  const accepted: number[] = [];
  const closes: number[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  http.on("connection", (s: Socket) => {
    raw.add(s);
    s.on("error", () => {});
    s.on("close", () => raw.delete(s));
  });
  http.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      accepted.push(performance.now());
      const own = new Set<ReturnType<typeof setTimeout>>();
      const later = (fn: () => void, ms: number) => {
        const t = setTimeout(() => {
          own.delete(t);
          timers.delete(t);
          fn();
        }, ms);
        own.add(t);
        timers.add(t);
      };
      ws.on("close", (code: number) => {
        sockets.delete(ws);
        closes.push(code);
        for (const t of own) {
          clearTimeout(t);
          timers.delete(t);
        }
      });
      ws.on("error", () => {});
      ws.on("message", (data: Uint8Array, isBinary: boolean) => {
        if (isBinary) return ws.send(data, { binary: true });
        const text = new TextDecoder().decode(data);
        const [command, a, b] = text.split(" ");
        if (command === "big") {
          ws.send(numbered(0, Number(a)), { binary: true });
        } else if (command === "tick") {
          const tick = () => {
            if (ws.readyState !== 1) return;
            ws.send("tick");
            later(tick, Number(a));
          };
          tick();
        } else if (command === "flood") {
          const count = Number(a);
          const size = Number(b);
          let n = 0;
          const pump = () => {
            while (n < count && ws.readyState === 1) {
              if (ws.bufferedAmount > FLOOD_HIGH_WATER) return later(pump, 2);
              ws.send(numbered(n++, size), { binary: true });
            }
            if (ws.readyState === 1) ws.send("flooded");
          };
          pump();
        } else ws.send(text);
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const port = (http.address() as AddressInfo).port;
  return closedAtEnd({
    port,
    url: (path = "/") => `ws://127.0.0.1:${port}${path}`,
    accepted,
    closes,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.terminate();
      for (const s of raw) s.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      wss.close();
    },
  });
}

/** `size` bytes whose first 4 are `n` (big-endian), the rest `n % 251`. */
function numbered(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(n % 251);
  if (size >= 4) new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}

/** A Deno.serve server; `handler` answers every request. */
function serve(
  handler: (req: Request, accepted: number[]) => Response,
): Promise<FaultServer> {
  const accepted: number[] = [];
  const ac = new AbortController();
  return new Promise((resolve) => {
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      signal: ac.signal,
      onListen: ({ port }) =>
        resolve(closedAtEnd({
          port,
          url: (path = "/") => `ws://127.0.0.1:${port}${path}`,
          accepted,
          closes: [],
          async close() {
            ac.abort();
            await server.finished;
          },
        })),
    }, (req) => handler(req, accepted));
  });
}

/** Refuses every upgrade with `status` and `Retry-After: <retryAfter>`. */
export function startRefusingServer(status: number, retryAfter: string): Promise<FaultServer> {
  return serve((_, accepted) => {
    accepted.push(performance.now());
    return new Response("busy", { status, headers: { "retry-after": retryAfter } });
  });
}

/** Completes every upgrade, then closes it at once with 1001 "going away". */
export function startDroppingServer(): Promise<FaultServer> {
  return serve((req, accepted) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      accepted.push(performance.now());
      socket.close(1001, "going away");
    };
    socket.onerror = () => {};
    return response;
  });
}
