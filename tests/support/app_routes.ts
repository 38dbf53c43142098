// What the applications servers answer (the peers of tests/portable/applications_cases.ts):
// app_servers.ts (npm:ws, Deno.serve) and app_bun_server.ts (Bun.serve) share this file, and
// app_python_server.py answers the same. Runtime-neutral on purpose (web APIs only): Bun runs it.
//
// Routes:
// - `/ws`, `/`: echo and the test commands of server_routes.ts ("close", "crash",
//   "close:<code>:<reason>", ...), and "flood:<bytes>:<frame>": <bytes> bytes of binary frames of
//   <frame> bytes, each sent when the server's buffer has room (so a client that stops reading
//   holds the server back through TCP), then the text "flood done:<bytes>".
// - `/once`: as `/ws`, for a token sent once: `authorization: Bearer <token>` or `?token=<token>`.
//   A token the server has seen before (on any connection, across restarts) is refused with 401
//   "stale token"; no token, 401 "no token".
// - `/rpc`: JSON-RPC 2.0 over text frames: `{"jsonrpc": "2.0", "id": 1, "method": "echo",
//   "params": {"value": <any>, "delay": <ms>}}` is answered `{"jsonrpc": "2.0", "id": 1,
//   "result": <value>}` after <ms> ms (so answers overtake one another); "never" is never
//   answered; another method gets error -32601. Text that is not JSON goes to the commands.
// - `/reject`: 403. Anything else: 404.
// - Every route chooses the first subprotocol offered, if any.
//
// The control channel is server_routes.ts's (`GET /connections?id=`, `POST /restart?down=`) plus
// `GET /refusals?id=`: the upgrades refused, `{ id, path, status, text, token }`.

import {
  type CommandActions,
  type ConnectionRecord,
  connectionRecord,
  controlChannel,
  handleCommand,
} from "./server_routes.ts";

/** An upgrade the server refused. */
export interface RefusalRecord {
  /** The `id` query parameter, or `""`. */
  readonly id: string;
  readonly path: string;
  readonly status: number;
  readonly text: string;
  /** The token it came with, or `""`. */
  readonly token: string;
}

/** What the routes do to one connection. */
export interface AppActions extends CommandActions {
  /**
   * Sends binary data and settles once the server may send more (what it buffers is down to a
   * bound): the flood's pace.
   */
  sendPaced(data: Uint8Array): Promise<void>;
  /** Whether the connection is still open. */
  isOpen(): boolean;
}

const ROUTES = new Set(["/", "/ws", "/once", "/rpc"]);

/** The routes' state: what they accepted and refused, and the tokens seen. */
export class AppRoutes {
  readonly connections: ConnectionRecord[] = [];
  readonly refusals: RefusalRecord[] = [];
  readonly #tokens = new Set<string>();

  /**
   * The answer for an upgrade to `url` (path and query) with `headers` (names in lower case): a
   * refusal, or `undefined` to accept it (then call {@linkcode accepted}).
   */
  refusal(
    url: string,
    headers: Record<string, string>,
  ): { status: number; text: string } | undefined {
    const u = new URL(url, "http://127.0.0.1");
    const token = /^Bearer (.+)$/.exec(headers["authorization"] ?? "")?.[1] ??
      u.searchParams.get("token") ?? "";
    const refuse = (status: number, text: string) => {
      this.refusals.push({
        id: u.searchParams.get("id") ?? "",
        path: u.pathname,
        status,
        text,
        token,
      });
      return { status, text };
    };
    if (u.pathname === "/reject") return refuse(403, "Forbidden");
    if (!ROUTES.has(u.pathname)) return refuse(404, "Not Found");
    if (u.pathname === "/once") {
      if (token === "") return refuse(401, "no token");
      if (this.#tokens.has(token)) return refuse(401, "stale token");
      this.#tokens.add(token);
    }
    return undefined;
  }

  /** Records an accepted connection to `url`. */
  accepted(url: string, headers: Record<string, string>): ConnectionRecord {
    const record = connectionRecord(url, headers);
    this.connections.push(record);
    return record;
  }

  /** Answers one message on `record`'s connection. */
  message(record: ConnectionRecord, data: string | Uint8Array, actions: AppActions): void {
    record.received++;
    if (record.path === "/rpc" && typeof data === "string" && data.startsWith("{")) {
      return answerRpc(data, actions);
    }
    if (typeof data === "string") {
      const flood = /^flood:([0-9]+):([0-9]+)$/.exec(data);
      if (flood) {
        floodWith(Number(flood[1]), Number(flood[2]), actions).catch(() => {});
        return;
      }
    }
    handleCommand(data, actions);
  }

  /**
   * The control channel for a server on `port` whose restart is `restart`: server_routes.ts's,
   * plus `GET /refusals?id=`.
   */
  controlChannel(
    port: number,
    restart: (down: number) => Promise<void>,
  ): ReturnType<typeof controlChannel> {
    const channel = controlChannel(port, () => this.connections, restart);
    return {
      fetch: (req) => {
        const url = new URL(req.url);
        if (url.pathname === "/refusals") {
          const id = url.searchParams.get("id") ?? "";
          return Promise.resolve(Response.json(this.refusals.filter((r) => r.id === id)));
        }
        return channel.fetch(req);
      },
      idle: channel.idle,
    };
  }
}

/** Answers one JSON-RPC request (see the top of this file). */
function answerRpc(data: string, actions: AppActions): void {
  let request: { id?: unknown; method?: unknown; params?: { value?: unknown; delay?: unknown } };
  try {
    request = JSON.parse(data);
  } catch {
    return actions.send(JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "Parse error" },
    }));
  }
  const { id, method, params } = request;
  if (method === "never") return;
  if (method !== "echo") {
    return actions.send(JSON.stringify({
      jsonrpc: "2.0",
      id,
      error: { code: -32601, message: "Method not found" },
    }));
  }
  const delay = typeof params?.delay === "number" ? params.delay : 0;
  setTimeout(() => {
    if (actions.isOpen()) {
      actions.send(JSON.stringify({ jsonrpc: "2.0", id, result: params?.value ?? null }));
    }
  }, delay);
}

/** Sends `total` bytes in binary frames of `frame` bytes, as fast as the connection takes them. */
async function floodWith(total: number, frame: number, actions: AppActions): Promise<void> {
  const chunk = new Uint8Array(frame);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i & 0xff;
  for (let sent = 0; sent < total; sent += frame) {
    if (!actions.isOpen()) return;
    await actions.sendPaced(chunk.subarray(0, Math.min(frame, total - sent)));
  }
  if (actions.isOpen()) actions.send(`flood done:${total}`);
}
