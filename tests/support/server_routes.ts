// What every test server answers, shared by tests/support/servers.ts (npm:ws, Deno.serve) and
// tests/support/bun_server.ts (Bun.serve): the routes, the test commands, the subprotocol
// choice, the record of each connection and the control channel. Runtime-neutral on purpose
// (web APIs only, no Deno.*, no npm: imports): bun_server.ts runs it under Bun.

/** One accepted WebSocket connection, as a server saw it. */
export interface ConnectionRecord {
  /** The upgrade request's `id` query parameter, or `""`. */
  readonly id: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** The subprotocol the server chose, or `""`. */
  protocol: string;
  /** Messages received. */
  received: number;
  /** Payloads of pings and pongs received (npm:ws and Bun only; Deno.serve cannot see them). */
  readonly pings: Uint8Array[];
  readonly pongs: Uint8Array[];
  /** The close code and reason received, once closed. */
  close: { code: number; reason: string } | null;
}

/** A record for a new connection to `url` (a path with its query, or a whole URL). */
export function connectionRecord(url: string, headers: Record<string, string>): ConnectionRecord {
  const u = new URL(url, "http://127.0.0.1");
  return {
    id: u.searchParams.get("id") ?? "",
    path: u.pathname,
    headers,
    protocol: "",
    received: 0,
    pings: [],
    pongs: [],
    close: null,
  };
}

/** The JSON the control channel answers for one connection (ping and pong payloads as text). */
export function connectionJson(record: ConnectionRecord): Record<string, unknown> {
  const text = (p: Uint8Array) => new TextDecoder().decode(p);
  return { ...record, pings: record.pings.map(text), pongs: record.pongs.map(text) };
}

/** A request's headers as a record (names in lower case). */
export function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((v, k) => (record[k] = v));
  return record;
}

/** The subprotocols a `Sec-WebSocket-Protocol` request header offers, in order. */
export function offeredSubprotocols(header: string | null): string[] {
  return (header ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
}

/**
 * The subprotocol to choose for an upgrade to `url` offering `offered`: with `?protocols=a,b`,
 * the first offered that is in that list (or none); without it, `fallback`.
 */
export function chooseSubprotocol(
  url: string,
  offered: readonly string[],
  fallback: string | undefined,
): string | undefined {
  const supported = new URL(url, "http://127.0.0.1").searchParams.get("protocols");
  if (supported === null) return fallback;
  const list = supported.split(",");
  return offered.find((p) => list.includes(p));
}

/** The answer for an upgrade the routes refuse: /reject, /ws/auth without a bearer token, or an unknown path. */
export function refusal(
  path: string,
  headers: Record<string, string>,
): { status: number; text: string } | undefined {
  if (path === "/reject") return { status: 403, text: "Forbidden" };
  if (path === "/ws/auth" && !/^Bearer /.test(headers["authorization"] ?? "")) {
    return { status: 401, text: "Unauthorized" };
  }
  if (path !== "/ws" && path !== "/ws/auth" && path !== "/") {
    return { status: 404, text: "Not Found" };
  }
  return undefined;
}

/** What a server can do to one connection, for {@linkcode handleCommand}. */
export interface CommandActions {
  /** Sends text as text and bytes as binary. */
  send(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Drops the connection without a close frame (where the server can). */
  drop(): void;
  ping(payload: Uint8Array): void;
}

/**
 * Answers one message with the test commands: "close", "crash", "send_and_crash",
 * "send_ping", "send_ping:<payload>", "close:<code>:<reason>"; anything else is echoed.
 */
export function handleCommand(data: string | Uint8Array, actions: CommandActions): void {
  if (typeof data !== "string") return actions.send(data);
  if (data === "close") return actions.close(1000, "normal closure");
  if (data === "crash") return actions.drop();
  if (data === "send_and_crash") {
    actions.send("push_this");
    setTimeout(() => actions.drop(), 10);
    return;
  }
  if (data === "send_ping") return actions.ping(new TextEncoder().encode("ping"));
  if (data.startsWith("send_ping:")) return actions.ping(new TextEncoder().encode(data.slice(10)));
  const closeWith = /^close:([0-9]{4}):(.*)$/s.exec(data);
  if (closeWith) return actions.close(Number(closeWith[1]), closeWith[2]);
  actions.send(data);
}

/**
 * The control channel's answers for a server listening on `port`:
 *
 * - `GET /connections?id=<id>`: JSON array of the connections `connections()` lists whose `id`
 *   query parameter was `<id>` (see {@linkcode connectionJson});
 * - `POST /restart?down=<ms>`: runs `restart(ms)` (one restart at a time) and answers once it
 *   is done.
 *
 * `idle()` settles once no restart is running.
 */
export function controlChannel(
  port: number,
  connections: () => readonly ConnectionRecord[],
  restart: (down: number) => Promise<void>,
): { fetch(req: Request): Promise<Response>; idle(): Promise<void> } {
  let restarting: Promise<void> | undefined;
  return {
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/connections") {
        const id = url.searchParams.get("id") ?? "";
        return Response.json(connections().filter((c) => c.id === id).map(connectionJson));
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
    idle: async () => {
      await restarting?.catch(() => {});
    },
  };
}
