// A small WebSocket echo server for the examples, on 127.0.0.1 and a free port.
//
// Routes: any path echoes (text as text, binary as binary); `/auth` echoes too but only
// upgrades requests carrying `authorization: Bearer <token>` (else 401); `/once` wants a token
// from `issueToken()`, each good for one connection; `/rpc` answers JSON-RPC requests
// (`{ id, method, params }` → `{ id, result }`) after `params.delay` ms, so out of order, and
// never answers the method "never"; `/feed` sends `tick <n>` every 20 ms.

/** Options for {@linkcode startEchoServer}. */
export interface EchoServerOptions {
  /** The bearer token `/auth` accepts. Default `"secret"`. */
  readonly token?: string;
  /** Receives one line per server-side event (connections, refusals, drops, closes). */
  readonly log?: (line: string) => void;
}

/** A running echo server. */
export interface EchoServer {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>`; `path` defaults to `/`. */
  url(path?: string): string;
  /** How many WebSocket connections are open. */
  openCount(): number;
  /** Simulates a drop: closes every open socket with 1011 "dropped". */
  dropAll(): void;
  /** Answers every upgrade with 503 for the next `ms` milliseconds (no timer involved). */
  refuseFor(ms: number): void;
  /** A fresh token for `/once`, accepted for one connection. */
  issueToken(): string;
  /** Closes every socket with 1001 and stops listening. */
  close(): Promise<void>;
}

/** Starts an echo server on 127.0.0.1, port 0. */
export function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const token = options.token ?? "secret";
  const log = options.log ?? (() => {});
  const sockets = new Set<WebSocket>();
  const ac = new AbortController();
  let refuseUntil = 0;
  const tokens = new Set<string>();
  let issued = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void) => {
    const id = setTimeout(() => {
      timers.delete(id);
      fn();
    }, ms);
    timers.add(id);
  };
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: ({ port }) =>
        resolve({
          port,
          url: (path = "/") => `ws://127.0.0.1:${port}${path}`,
          openCount: () => sockets.size,
          dropAll() {
            log(`dropping ${sockets.size} connection(s) with 1011`);
            for (const s of sockets) s.close(1011, "dropped");
          },
          refuseFor(ms) {
            refuseUntil = performance.now() + ms;
            log(`refusing new connections for ${ms} ms`);
          },
          issueToken() {
            const t = `t${++issued}-${crypto.randomUUID().slice(0, 8)}`;
            tokens.add(t);
            return t;
          },
          async close() {
            for (const id of timers) clearTimeout(id);
            for (const s of sockets) s.close(1001, "going away");
            ac.abort();
            await server.finished;
          },
        }),
    }, (req) => {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("WebSocket only", { status: 426 });
      }
      const path = new URL(req.url).pathname;
      if (performance.now() < refuseUntil) {
        log("refused an upgrade with 503");
        return new Response("try later", { status: 503 });
      }
      if (path === "/auth" && req.headers.get("authorization") !== `Bearer ${token}`) {
        log("refused an upgrade to /auth with 401 (no valid bearer token)");
        return new Response("unauthorized", { status: 401 });
      }
      if (path === "/once") {
        const given = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        if (!tokens.delete(given)) {
          log(`refused an upgrade to /once with 401 (token ${given ? "used already" : "missing"})`);
          return new Response("unauthorized", { status: 401 });
        }
        log(`accepted token ${given.split("-")[0]} (now used)`);
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.binaryType = "arraybuffer";
      const send = (data: string | ArrayBuffer) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(data);
      };
      socket.onopen = () => {
        sockets.add(socket);
        log(`accepted a connection on ${path}`);
        if (path === "/feed") {
          let n = 0;
          const tick = () => {
            if (socket.readyState !== WebSocket.OPEN) return;
            send(`tick ${++n}`);
            later(20, tick);
          };
          later(20, tick);
        }
      };
      socket.onmessage = (e) => {
        if (path !== "/rpc") {
          send(e.data);
          return;
        }
        const { id, method, params } = JSON.parse(String(e.data));
        if (method === "never") return;
        later(
          Number(params?.delay ?? 0),
          () => send(JSON.stringify({ id, result: `${method} done` })),
        );
      };
      socket.onerror = () => {};
      socket.onclose = (e) => {
        if (sockets.delete(socket)) log(`connection closed (${e.code} "${e.reason}")`);
      };
      return response;
    });
  });
}
