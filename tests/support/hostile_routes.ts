// The hostile server of the portable hostile suite (tests/portable/hostile_cases.ts): a raw
// WebSocket server (raw_ws_server.ts, node:net) that picks its script from the request path,
// `/h/<route>?id=<id>`, and records per connection what the client sent (its frames in order,
// its close code and reason, when it ended TCP), with times in ms since the upgrade request
// arrived. The records are served as JSON on a control port of their own, like the other test
// servers' (servers.ts): `GET /connections?id=<id>`.
//
// Unless a route says otherwise, the server behaves as a normal (if slow) server once its script
// is done: 20 ms after the client's close frame it echoes its code (unless it sent a close
// already) in two writes 20 ms apart, the second with its FIN; a client that ends TCP without a
// close frame gets the server's FIN at once. The Deno parent (tests/portable_test.ts)
// runs it; the runners reach it over the network only.

import {
  closeFrame,
  concat,
  continuationFrame,
  frame,
  OP,
  type RawConnection,
  type RawRequest,
  response101,
  startRawWsServer,
  textFrame,
} from "./raw_ws_server.ts";

/** A frame the client sent, as the control channel reports it. */
export interface HostileFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly rsv: number;
  readonly masked: boolean;
  /** The unmasked payload decoded as UTF-8 (invalid bytes as U+FFFD); close frames: the reason. */
  readonly text: string;
  /** The payload's length in bytes. */
  readonly size: number;
  /** Close frames: the code, or `null` when the payload is empty. */
  readonly code: number | null;
  /** When its last byte arrived. */
  readonly ms: number;
}

/** One connection to the hostile server, as the control channel reports it. Times in ms since
 * the upgrade request arrived. */
export interface HostileRecord {
  /** The request's `id` query parameter. */
  readonly id: string;
  /** The route, e.g. `"masked"` for `/h/masked`. */
  readonly route: string;
  /** The request line, e.g. `GET /h/masked?id=x HTTP/1.1`. */
  readonly request: string;
  /** Every frame the client sent after the handshake, in order. */
  readonly frames: HostileFrame[];
  /** The client's first close frame, or `null`. */
  readonly close: { code: number | null; reason: string; ms: number } | null;
  /** When the server's script did what, by name (e.g. `"bad-byte"`). */
  readonly marks: Record<string, number>;
  /** When the client ended its side of TCP (FIN), or `null`. */
  readonly endedMs: number | null;
  /** When the TCP connection closed, or `null`. */
  readonly closedMs: number | null;
  /** A socket error the server saw (say a reset), or `null`. */
  readonly error: string | null;
  /** Why the script could not finish, or `null`. */
  readonly scriptError: string | null;
}

/** What a route's script can do to its connection. */
interface Context {
  readonly c: RawConnection;
  readonly request: RawRequest;
  readonly id: string;
  /** `ws://127.0.0.1:<port><path>` on this server. */
  url(path: string): string;
  /** Records that the script did `name` now. */
  mark(name: string): void;
  /** Notes that the server sent a close frame (so it does not echo the client's). */
  closeSent(): void;
}

interface Route {
  /** The answer to the upgrade request; default a correct 101. */
  readonly respond?: (ctx: Context) => Uint8Array | string;
  /** Runs once the answer was written. */
  readonly run?: (ctx: Context) => Promise<void>;
  /** Whether the server answers the client's close and its end of TCP. Default true. */
  readonly answersClose?: boolean;
}

/**
 * How long the server takes to answer the client's close frame, and then to finish the answer,
 * in ms: a client that waits for the server's close (RFC 6455 §7.1.1) gets it; one that closed
 * its reading side already makes the second write fail, which the record shows as `error`.
 */
const CLOSE_ANSWER_DELAY = 20;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes `bytes` after the 101 (marked `"sent"` just before), then runs `then`. */
const sends = (bytes: Uint8Array, then?: (ctx: Context) => void): Route => ({
  run: async (ctx) => {
    ctx.mark("sent");
    await ctx.c.write(bytes);
    then?.(ctx);
  },
});

/** The routes, by the name after `/h/`. */
const ROUTES: Readonly<Record<string, Route>> = {
  masked: sends(frame({ opcode: OP.TEXT, payload: "secret", mask: true })),
  rsv: sends(frame({ opcode: OP.TEXT, payload: "hi", rsv: 4 })),
  opcode: sends(frame({ opcode: 0x3, payload: "x" })),
  "fragmented-ping": sends(frame({ opcode: OP.PING, payload: "p", fin: false })),
  "long-control": sends(frame({ opcode: OP.PING, payload: new Uint8Array(126) })),
  // A 64-byte text frame: its header and 3 valid bytes, 50 ms later one invalid byte, then
  // nothing: the frame is never completed. (Marks are taken just before the writes.)
  "utf8-split": {
    run: async ({ c, mark }) => {
      const whole = textFrame(concat("abc", new Uint8Array([0xff]), "d".repeat(60)));
      mark("valid-bytes");
      await c.write(whole.subarray(0, 2 + 3));
      await sleep(50);
      mark("bad-byte");
      await c.write(whole.subarray(2 + 3, 2 + 4));
    },
  },
  "bad-close-code": sends(closeFrame(1005, "no"), (ctx) => ctx.closeSent()),
  // The header of a 2000-byte binary frame and its first 100 bytes; the rest never comes.
  "too-big": sends(
    frame({ opcode: OP.BINARY, payload: new Uint8Array(2000).fill(7) }).subarray(0, 4 + 100),
  ),
  "message-then-close": sends(
    concat(textFrame("hello"), closeFrame(1000, "done")),
    (ctx) => ctx.closeSent(),
  ),
  "message-then-violation": sends(
    concat(textFrame("hello"), frame({ opcode: OP.TEXT, payload: "x", rsv: 2 })),
  ),
  // The close frame and the server's FIN in one go: the client's echo goes to a half-closed
  // connection.
  "close-then-fin": {
    run: ({ c, mark, closeSent }) => {
      closeSent();
      mark("fin");
      c.socket.end(closeFrame(4000, "bye"));
      return Promise.resolve();
    },
  },
  // Never answers the client's close, and never ends TCP.
  "never-close": { answersClose: false },
  "frames-with-101": {
    respond: ({ request }) => concat(response101(request), textFrame("one"), textFrame("two")),
  },
  "403-body": {
    respond: () => {
      const body = "You shall not pass: token expired";
      return "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n" +
        `Content-Length: ${body.length}\r\nX-Reason: expired\r\n\r\n${body}`;
    },
  },
  redirect: {
    respond: ({ id, url }) =>
      `HTTP/1.1 302 Found\r\nLocation: ${url(`/h/elsewhere?id=${id}`)}\r\n` +
      "Content-Length: 0\r\n\r\n",
  },
  // The first fragment and a ping; the rest of the message only once the pong arrived (or after
  // 2 s without it).
  "ping-mid-fragments": {
    run: async ({ c, mark }) => {
      mark("first-fragment-and-ping");
      await c.write(concat(textFrame("Hel", false), frame({ opcode: OP.PING, payload: "p1" })));
      const deadline = performance.now() + 2000;
      while (!c.frames.some((f) => f.opcode === OP.PONG) && performance.now() < deadline) {
        await c.nextFrame(deadline - performance.now()).catch(() => {});
      }
      mark(c.frames.some((f) => f.opcode === OP.PONG) ? "pong-seen" : "no-pong");
      mark("rest");
      await c.write(continuationFrame("lo"));
    },
  },
};

const decoder = new TextDecoder();

/** A running hostile server. */
export interface HostileServer {
  /** `ws://127.0.0.1:<port>` (no path) */
  readonly ws: string;
  /** `http://127.0.0.1:<control port>` */
  readonly control: string;
  /** Every connection's record so far. */
  records(): HostileRecord[];
  /** Closes the control channel, drops every connection and stops listening. */
  close(): Promise<void>;
}

interface Entry {
  readonly c: RawConnection;
  readonly id: string;
  readonly route: string;
  readonly t0: number;
  readonly marks: Record<string, number>;
  scriptError: string | null;
}

/** Starts the hostile server and its control channel on 127.0.0.1, ports 0. */
export async function startHostileServer(): Promise<HostileServer> {
  const entries: Entry[] = [];
  let port = 0;
  const url = (path: string) => `ws://127.0.0.1:${port}${path}`;
  const raw = await startRawWsServer({
    respond: (request, c) => {
      const target = new URL(request.line.split(" ")[1] ?? "/", "http://127.0.0.1");
      const name = target.pathname.startsWith("/h/") ? target.pathname.slice(3) : "";
      const route = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined;
      const entry: Entry = {
        c,
        id: target.searchParams.get("id") ?? "",
        route: name,
        t0: performance.now(),
        marks: {},
        scriptError: null,
      };
      entries.push(entry);
      if (route === undefined) return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      let closed = false;
      const ctx: Context = {
        c,
        request,
        id: entry.id,
        url,
        mark: (name) => (entry.marks[name] = since(entry.t0)),
        closeSent: () => (closed = true),
      };
      if (route.answersClose !== false) {
        // RawConnection's own listeners run first: its frames are parsed by then.
        let answering = false;
        c.socket.on("data", () => {
          const close = c.frames.find((f) => f.opcode === OP.CLOSE);
          if (close === undefined || answering) return;
          answering = true;
          // The echo in two writes: a client that closed its reading side resets the connection
          // on the first, and the second then fails (EPIPE), which the record shows as `error`.
          const echo = closed ? new Uint8Array(0) : closeFrame(closeCode(close.payload));
          closed = true;
          const later = (fn: () => void) =>
            setTimeout(() => c.socket.destroyed || fn(), CLOSE_ANSWER_DELAY);
          later(() => {
            if (echo.length > 0) c.socket.write(echo.subarray(0, 1));
            later(() => c.socket.end(echo.subarray(1)));
          });
        });
        // The client ended TCP without a close frame (a refused upgrade, say): end ours too.
        c.socket.on("end", () => answering || c.socket.end());
      }
      const answer = route.respond?.(ctx) ?? response101(request);
      if (route.run !== undefined) {
        // Once the answer is written, which happens when this returns. Not in a microtask: on
        // Deno the first node:crypto hash (response101's) runs the microtasks queued so far.
        setTimeout(() => {
          route.run!(ctx).catch((error: unknown) => {
            entry.scriptError = error instanceof Error ? error.message : String(error);
          });
        }, 0);
      }
      return answer;
    },
  });
  port = raw.port;
  const ac = new AbortController();
  const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
  const records = () => entries.map(recordOf);
  const control = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    signal: ac.signal,
    onListen: ({ port }) => onListen(port),
  }, (req) => {
    const u = new URL(req.url);
    if (u.pathname !== "/connections") return new Response("not found", { status: 404 });
    const id = u.searchParams.get("id") ?? "";
    return Response.json(records().filter((r) => r.id === id));
  });
  const controlPort = await listening;
  return {
    ws: `ws://127.0.0.1:${port}`,
    control: `http://127.0.0.1:${controlPort}`,
    records,
    close: async () => {
      ac.abort();
      await control.finished;
      await raw.close();
    },
  };
}

/** Milliseconds from `t0` to `t` (default now), to a tenth. */
function since(t0: number, t = performance.now()): number {
  return Math.round((t - t0) * 10) / 10;
}

/** A close payload's code, or `undefined` when it has none. */
function closeCode(payload: Uint8Array): number | undefined {
  return payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
}

function recordOf(e: Entry): HostileRecord {
  const { c, t0 } = e;
  const frames = c.frames.map((f): HostileFrame => {
    const isClose = f.opcode === OP.CLOSE;
    return {
      opcode: f.opcode,
      fin: f.fin,
      rsv: f.rsv,
      masked: f.masked,
      text: decoder.decode(isClose ? f.payload.subarray(2) : f.payload),
      size: f.payload.length,
      code: isClose ? closeCode(f.payload) ?? null : null,
      ms: since(t0, f.at),
    };
  });
  const close = frames.find((f) => f.opcode === OP.CLOSE);
  return {
    id: e.id,
    route: e.route,
    request: c.request?.line ?? "",
    frames,
    close: close === undefined ? null : { code: close.code, reason: close.text, ms: close.ms },
    marks: { ...e.marks },
    endedMs: c.endedAt === undefined ? null : since(t0, c.endedAt),
    closedMs: c.closedAt === undefined ? null : since(t0, c.closedAt),
    error: c.error === undefined ? null : c.error.message,
    scriptError: e.scriptError,
  };
}
