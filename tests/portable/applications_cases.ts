// The applications cases (issue 12), registered once per transport: what a user builds on
// `conn.call` + `handleCall`, `conn.events()`, `conn.ready()`, `conn.stats`, `conn.frames()` and
// connection parameters given as functions, run unchanged under Deno, Node 24, Node 22 and Bun
// against the applications servers (tests/support/app_routes.ts: npm:ws, Deno.serve, Bun.serve,
// Python websockets), which they reach through `config` (see support.ts):
//
// - a token from an async `headers` function, fresh on every attempt, reaches a route that takes
//   each token once, across server drops (and a static token is refused when stale);
// - `url` and `subprotocols` as functions; a `headers` function that throws;
// - an event reader that sees every state change in order across server restarts, a second
//   reader the same, a slow reader told what it missed, and diagnostics_channel the same;
// - a JSON-RPC client: 100 concurrent calls answered out of order, timeouts, aborts, a stale
//   `from`, calls in flight when the connection drops, answers after a reconnect;
// - `frames()` with a reader that stops while the server floods: the socket transport stops
//   reading (bytes received stay near receiveBuffer), the web transport pauses where it can
//   (WebSocketStream) and otherwise fails the connection with the documented error;
// - `ready()`, `conn.stats` and `call` in every state; a callback awaiting its own client;
// - credentials planted in the URL never appear in logs, error messages or their causes.

import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import {
  CallTimeoutError,
  type ClientEvent,
  type ClientHandle,
  ClientStoppedError,
  type ConnectInfo,
  DeadlockError,
  defineClient,
  DisconnectedError,
  type DisconnectReason,
  type From,
  HandshakeError,
  type Logger,
  ok,
  push,
  type ReceivedFrame,
  reply,
} from "../../mod.ts";
import { test, use } from "./suite.ts";
import {
  type Config,
  connectionId,
  restartServer,
  seen,
  sleep,
  type Transport,
} from "./support.ts";

/** An upgrade an applications server refused (GET /refusals?id=). */
interface Refusal {
  readonly id: string;
  readonly path: string;
  readonly status: number;
  readonly text: string;
  readonly token: string;
}

async function refusals(config: Pick<Config, "control">, id: string): Promise<Refusal[]> {
  const res = await fetch(`${config.control}/refusals?id=${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`The control channel answered ${res.status}: ${await res.text()}`);
  return await res.json() as Refusal[];
}

/** A logger that keeps every line, debug included, as "<level>: <message>". */
function keepingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Polls `pred` every 10 ms until it holds; throws naming `what` after `timeout` ms. */
async function until(
  pred: () => boolean,
  what: string | (() => string),
  timeout = 5000,
): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!pred()) {
    if (performance.now() > deadline) {
      throw new Error(`Not within ${timeout} ms: ${typeof what === "string" ? what : what()}`);
    }
    await sleep(10);
  }
}

/** What a reader gets until its iteration ends. */
function collect<T>(iterable: AsyncIterable<T>): { items: T[]; done: Promise<void> } {
  const items: T[] = [];
  const done = (async () => {
    for await (const item of iterable) items.push(item);
  })();
  return { items, done };
}

/** An event in a few words, for assertions and messages. */
function brief(e: ClientEvent): string {
  switch (e.type) {
    case "connecting":
      return `connecting ${e.attempt}`;
    case "connected":
      return "connected";
    case "disconnected":
      return `disconnected ${
        e.reason.kind === "remote_close" ? `remote_close ${e.reason.code}` : e.reason.kind
      }`;
    case "reconnecting":
      return `reconnecting ${e.attempt}`;
    case "stopped":
      return `stopped ${e.reason.kind}`;
    case "missed":
      return `missed ${e.count}`;
  }
}

/**
 * Throws unless `events` is a life a client can have: each event may follow the one before it
 * (a connecting's attempt one more than the last, the reconnecting before it announcing it), and
 * the last is `stopped`.
 */
function assertLifecycle(events: readonly ClientEvent[]): void {
  const follows: Record<string, readonly string[]> = {
    connecting: ["connected", "disconnected", "stopped"],
    connected: ["disconnected", "stopped"],
    disconnected: ["reconnecting", "stopped"],
    reconnecting: ["connecting", "stopped"],
  };
  const text = events.map(brief).join(", ");
  let attempt = 0;
  for (const [i, e] of events.entries()) {
    assert.notEqual(e.type, "missed", text);
    if (i > 0) {
      const before = events[i - 1].type;
      assert.ok(follows[before]?.includes(e.type), `${e.type} after ${before}: ${text}`);
    }
    if (e.type === "connecting") {
      if (attempt > 0) assert.equal(e.attempt, attempt + 1, text);
      attempt = e.attempt;
      const announced = events[i - 1];
      if (announced?.type === "reconnecting") assert.equal(announced.attempt, e.attempt, text);
    }
  }
  assert.equal(events.at(-1)?.type, "stopped", text);
}

/**
 * Every text an error, reason or event carries that a user might print: messages, stacks,
 * string fields, and the same of causes, aggregated errors and nested objects.
 */
function textsOf(value: unknown, out: string[] = [], seenBefore = new Set<unknown>()): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === "string") {
    out.push(value);
    return out;
  }
  if (typeof value !== "object") return out;
  if (seenBefore.has(value)) return out;
  seenBefore.add(value);
  const record = value as Record<string, unknown>;
  if (value instanceof Error) {
    out.push(String(value), value.stack ?? "");
    textsOf(value.cause, out, seenBefore);
    if (value instanceof AggregateError) textsOf(value.errors, out, seenBefore);
  }
  // An ErrorEvent's message and error are getters; a CloseEvent's reason too.
  for (const key of ["message", "error", "reason", "cause"]) {
    try {
      if (key in record) textsOf(record[key], out, seenBefore);
    } catch {
      // a getter that throws carries nothing
    }
  }
  if (Array.isArray(value)) { for (const item of value) textsOf(item, out, seenBefore); }
  else if (!(value instanceof Uint8Array)) {
    for (const key of Object.keys(record)) textsOf(record[key], out, seenBefore);
  }
  return out;
}

// The JSON-RPC client: handleCall sends a request and keeps `from` until the answer arrives.

interface RpcRequest {
  readonly method: string;
  readonly params?: unknown;
}

interface RpcState {
  next: number;
  /** The callers waiting, by request id. */
  readonly waiting: Map<number, From>;
  /** The ids of the answers, in the order they arrived. */
  readonly arrivals: number[];
  /** A caller kept without an answer (method "keep"). */
  kept?: From;
}

const Rpc = defineClient<RpcState, null, never, RpcRequest>({
  init: () => ok({ next: 1, waiting: new Map(), arrivals: [] }),
  handleCall(request, from, state) {
    switch (request.method) {
      // Answered by the client itself, from its state.
      case "waiting":
        return reply(state.waiting.size, state);
      case "arrivals":
        return reply(state.arrivals.splice(0), state);
      case "keep":
        state.kept = from;
        return ok(state);
      case "kept": {
        const kept = state.kept!;
        return reply({ pending: kept.pending, aborted: kept.signal.aborted }, state);
      }
      case "answer kept":
        return reply({ replied: state.kept!.reply("too late") }, state);
    }
    const id = state.next++;
    state.waiting.set(id, from);
    // A caller that stops waiting (timeout, abort) leaves the table.
    from.signal.addEventListener("abort", () => state.waiting.delete(id), { once: true });
    const message = { jsonrpc: "2.0", id, method: request.method, params: request.params };
    return push({ type: "text", data: JSON.stringify(message) }, state);
  },
  handleFrame(frame, state) {
    if (frame.type !== "text") return ok(state);
    const answer = JSON.parse(frame.data) as {
      id: number;
      result?: unknown;
      error?: { message: string };
    };
    state.arrivals.push(answer.id);
    const from = state.waiting.get(answer.id);
    state.waiting.delete(answer.id);
    if (answer.error !== undefined) from?.reject(new Error(answer.error.message));
    else from?.reply(answer.result);
    return ok(state);
  },
  handleDisconnect(reason, state) {
    for (const from of state.waiting.values()) {
      from.reject(new Error(`The connection was lost (${reason.kind}) before the answer came`));
    }
    state.waiting.clear();
    return ok(state);
  },
});

/** Registers every applications case for `transport`. */
export function registerApplicationCases(config: Config, transport: Transport): void {
  const socket = transport === "socket";
  const name = (text: string) => `${transport}: ${text}`;
  /** Whether this transport can tell a refused upgrade's status (see cases.ts). */
  const knowsStatus = socket || config.runtime !== "node";
  /** The web transport can pause reading only over WebSocketStream (Deno with --unstable-net). */
  const canPause = socket ||
    typeof (globalThis as { WebSocketStream?: unknown }).WebSocketStream === "function";

  /** Options every client of these cases starts with. */
  const base = (lines: string[] = []) => ({ transport, logger: keepingLogger(lines) });

  test(
    name(
      "a token from an async headers function, fresh on every attempt, reaches a server that " +
        "takes each token once: 4 connections across 3 drops, 4 distinct tokens, none refused; " +
        "the function gets attempt 1-4 and the last reason",
    ),
    async () => {
      const id = connectionId(config, transport, "fresh-token");
      const issued: string[] = [];
      const contexts: string[] = [];
      const Client = defineClient<null>({});
      const conn = use(
        await Client.start(null, {
          ...base(),
          url: `${config.ws}/once?id=${id}`,
          reconnect: { baseDelay: 20, maxDelay: 40 },
          headers: async ({ attempt, lastReason, signal }) => {
            // A token service takes a moment.
            await sleep(5);
            assert.ok(signal instanceof AbortSignal && !signal.aborted);
            contexts.push(`${attempt} after ${lastReason?.kind ?? "nothing"}`);
            const token = `${id}.${attempt}.${Math.random().toString(36).slice(2)}`;
            issued.push(token);
            return { authorization: `Bearer ${token}` };
          },
        }),
      );
      for (let connects = 1; connects <= 3; connects++) {
        await until(() => conn.stats.connects === connects, `connection ${connects}`);
        await until(() => conn.state === "connected", "connected");
        // The server drops the connection (Deno.serve: closes with 1011).
        await conn.sendFrame({ type: "text", data: "crash" });
      }
      await until(() => conn.stats.connects === 4, "connection 4");
      const conns = await seen(config, id);
      assert.deepEqual(
        conns.map((c) => c.headers["authorization"]),
        issued.map((t) => `Bearer ${t}`),
      );
      assert.equal(new Set(issued).size, 4);
      assert.deepEqual(await refusals(config, id), []);
      assert.equal(contexts.length, 4, contexts.join("; "));
      assert.equal(contexts[0], "1 after nothing");
      for (const [i, c] of contexts.entries()) {
        assert.match(c, new RegExp(`^${i + 1} after `));
        if (i > 0) assert.doesNotMatch(c, /after nothing$/);
      }
    },
  );

  test(
    name(
      "the same token given statically is refused when stale: after the drop, each reconnect " +
        `gets 401 "stale token" (${
          knowsStatus ? "HandshakeError status 401" : "a HandshakeError without a status"
        }), and maxRetries 2 stops the client`,
    ),
    async () => {
      const id = connectionId(config, transport, "stale-token");
      const token = `${id}.static`;
      const reasons: DisconnectReason[] = [];
      const Client = defineClient<null>({
        handleDisconnect: (reason, state) => {
          reasons.push(reason);
          return ok(state);
        },
      });
      const conn = use(
        await Client.start(null, {
          ...base(),
          url: `${config.ws}/once?id=${id}`,
          headers: { authorization: `Bearer ${token}` },
          reconnect: { baseDelay: 20, maxDelay: 40, maxRetries: 2 },
        }),
      );
      await conn.ready({ signal: AbortSignal.timeout(5000) });
      await conn.sendFrame({ type: "text", data: "crash" });
      const stopped = await conn.stopped;
      assert.equal(stopped.kind, "max_retries_exceeded", JSON.stringify(stopped));
      // Node 24's WebSocket (undici 7) sends an upgrade refused with 401 a second time, as
      // fetch's HTTP authentication step does (Node 22's, undici 6, does not).
      const perAttempt = !socket && config.runtime === "node" &&
          Number(process.versions.node.split(".")[0]) >= 24
        ? 2
        : 1;
      assert.deepEqual(
        (await refusals(config, id)).map((r) => `${r.status} ${r.text} ${r.token}`),
        Array(2 * perAttempt).fill(`401 stale token ${token}`),
      );
      assert.equal(reasons.length, 3);
      for (const reason of reasons.slice(1)) {
        assert.equal(reason.kind, "error", JSON.stringify(reason));
        if (reason.kind !== "error") continue;
        assert.ok(reason.error instanceof HandshakeError, reason.error.message);
        assert.equal(reason.error.status, knowsStatus ? 401 : undefined, reason.error.message);
      }
    },
  );

  test(
    name(
      "url and subprotocols as functions: each attempt connects to its own URL (a token in the " +
        "query, taken once) offering its own subprotocol; the ConnectInfo names the URL without " +
        "the query's values",
    ),
    async () => {
      const id = connectionId(config, transport, "url-function");
      const url = (attempt: number) => `${config.ws}/once?id=${id}&token=${id}.u${attempt}`;
      const infos: ConnectInfo[] = [];
      const Client = defineClient<null>({
        handleConnect: (state, info) => {
          infos.push(info);
          return ok(state);
        },
      });
      const conn = use(
        await Client.start(null, {
          ...base(),
          url: ({ attempt }) => url(attempt),
          subprotocols: async ({ attempt }) => {
            await sleep(1);
            return [`parley.a${attempt}`];
          },
          reconnect: { baseDelay: 20, maxDelay: 40 },
        }),
      );
      await until(() => infos.length === 1, "the first connection");
      await conn.sendFrame({ type: "text", data: "crash" });
      await until(() => infos.length === 2, "the second connection");
      // ConnectInfo.url is redacted (the token is for the server only); that each attempt used
      // its own URL shows at the server: the route takes each token once, and refused none.
      const shown = `${config.ws}/once?id=***&token=***`;
      assert.deepEqual(infos.map((i) => i.url), [shown, shown]);
      assert.deepEqual(infos.map((i) => i.protocol), ["parley.a1", "parley.a2"]);
      const conns = await seen(config, id);
      assert.deepEqual(conns.map((c) => c.headers["sec-websocket-protocol"]), [
        "parley.a1",
        "parley.a2",
      ]);
      assert.deepEqual(await refusals(config, id), []);
    },
  );

  test(
    name(
      "a headers function that throws fails that attempt with a HandshakeError whose cause is " +
        "its error; the reconnect policy goes on and the next attempt connects",
    ),
    async () => {
      const id = connectionId(config, transport, "headers-throw");
      const reasons: DisconnectReason[] = [];
      const Client = defineClient<null>({
        handleDisconnect: (reason, state) => {
          reasons.push(reason);
          return ok(state);
        },
      });
      const conn = use(
        await Client.start(null, {
          ...base(),
          url: `${config.ws}/once?id=${id}`,
          reconnect: { baseDelay: 20, maxDelay: 40 },
          headers: async ({ attempt }) => {
            await sleep(1);
            if (attempt === 1) throw new Error("the token service is down");
            return { authorization: `Bearer ${id}.${attempt}` };
          },
        }),
      );
      await conn.ready({ signal: AbortSignal.timeout(5000) });
      assert.equal(reasons.length, 1);
      const [first] = reasons;
      assert.equal(first.kind, "error", JSON.stringify(first));
      if (first.kind !== "error") return;
      assert.ok(first.error instanceof HandshakeError, first.error.message);
      assert.equal((first.error.cause as Error)?.message, "the token service is down");
      assert.equal(conn.stats.attempts, 2);
      assert.equal((await seen(config, id)).length, 1);
    },
  );

  test(
    name(
      "events(): a reader sees every state change in order across two server restarts " +
        "(connected, disconnected 1001, reconnecting, connecting, ..., connected, stopped), a " +
        "second reader the same, diagnostics_channel the same where the runtime has it, and a " +
        "reader with buffer 2 that never reads gets missed then the last two",
    ),
    async () => {
      const id = connectionId(config, transport, "events");
      const Client = defineClient<null>({});
      type Published = { client: unknown; event: ClientEvent };
      const published: Published[] = [];
      const dc = process.getBuiltinModule?.("node:diagnostics_channel") as
        | typeof import("node:diagnostics_channel")
        | undefined;
      const types = ["connecting", "connected", "disconnected", "reconnecting", "stopped"];
      const listener = (message: unknown) => void published.push(message as Published);
      for (const type of types) dc?.subscribe(`parley:${type}`, listener);
      try {
        const conn = await Client.start(null, {
          ...base(),
          url: `${config.ws}/ws?id=${id}`,
          reconnect: { baseDelay: 30, maxDelay: 100 },
        });
        const a = collect(conn.events());
        const b = collect(conn.events());
        const slow = conn.events({ buffer: 2 });
        try {
          await conn.ready({ signal: AbortSignal.timeout(5000) });
          for (let restart = 1; restart <= 2; restart++) {
            await restartServer(config, 100);
            await until(
              () => a.items.filter((e) => e.type === "connected").length === restart + 1,
              () => `connected again after restart ${restart}: ${a.items.map(brief).join(", ")}`,
            );
          }
        } finally {
          await conn.stop();
        }
        await Promise.all([a.done, b.done]);
        const lives = a.items.map(brief).join(", ");
        // The reader came after start: it may have missed the first connecting.
        assert.ok(["connecting", "connected"].includes(a.items[0]?.type), lives);
        assertLifecycle(a.items);
        assert.deepEqual(
          a.items.filter((e) => e.type === "disconnected").map(brief).slice(0, 1),
          ["disconnected remote_close 1001"],
          lives,
        );
        assert.equal(a.items.filter((e) => e.type === "connected").length, 3, lives);
        assert.equal(
          a.items.filter((e) => brief(e) === "disconnected remote_close 1001").length,
          2,
          lives,
        );
        assert.deepEqual(b.items, a.items);
        // The slow reader kept the last two, and says how many came before them.
        const lagging = collect(slow);
        await lagging.done;
        const n = a.items.length;
        assert.deepEqual(lagging.items[0], {
          type: "missed",
          count: n - 2,
          at: a.items[n - 2].at,
        });
        assert.deepEqual(lagging.items.slice(1), a.items.slice(-2));
        if (dc !== undefined) {
          // Subscribed before start: the whole life, from the first connecting.
          const mine = published.filter((p) => p.client === conn).map((p) => p.event);
          assert.equal(mine[0]?.type === "connecting" && mine[0].attempt, 1);
          assertLifecycle(mine);
          assert.deepEqual(mine.slice(mine.length - a.items.length), a.items);
        }
      } finally {
        for (const type of types) dc?.unsubscribe(`parley:${type}`, listener);
      }
    },
    { timeout: 15_000 },
  );

  /** A JSON-RPC client of the server's /rpc route; `use()` stops it at the end of the test. */
  const startRpc = async (slug: string, lines: string[] = []) => {
    const id = connectionId(config, transport, slug);
    const conn = use(
      await Rpc.start(null, {
        ...base(lines),
        url: `${config.ws}/rpc?id=${id}`,
        reconnect: { baseDelay: 30, maxDelay: 100 },
      }),
    );
    await conn.ready({ signal: AbortSignal.timeout(5000) });
    return conn;
  };

  test(
    name(
      "JSON-RPC over call/handleCall: 100 concurrent calls, answered out of order by the " +
        "server (delays 0-75 ms), each resolve with their own answer; none left waiting",
    ),
    async () => {
      const conn = await startRpc("rpc-100");
      const calls = Array.from({ length: 100 }, (_, i) =>
        conn.call<number>({
          method: "echo",
          params: { value: i * 7, delay: (3 - (i % 4)) * 25 },
        }, { timeout: 5000 }));
      assert.deepEqual(await Promise.all(calls), Array.from({ length: 100 }, (_, i) => i * 7));
      const arrivals = await conn.call<number[]>({ method: "arrivals" });
      assert.equal(arrivals.length, 100);
      assert.deepEqual([...arrivals].sort((x, y) => x - y), arrivals.map((_, i) => i + 1));
      assert.notDeepEqual(arrivals, arrivals.map((_, i) => i + 1), "answers came in order");
      assert.equal(await conn.call({ method: "waiting" }), 0);
      // An error answer rejects its caller only.
      await assert.rejects(conn.call({ method: "nope" }), /Method not found/);
      assert.equal(
        await conn.call({ method: "echo", params: { value: "still here" } }),
        "still here",
      );
    },
  );

  test(
    name(
      "JSON-RPC timeouts and aborts: an unanswered call rejects with CallTimeoutError (timeout " +
        "150), another with its signal's reason; their from is stale (pending false, signal " +
        "aborted, a late reply returns false, with a debug line); a late answer is dropped; the " +
        "client carries on",
    ),
    async () => {
      const lines: string[] = [];
      const conn = await startRpc("rpc-timeouts", lines);
      // An answer that comes late (after 800 ms; the caller waited 100) finds no caller and is
      // dropped, and later calls are answered. Asked first, it arrives while the rest runs; the
      // margin is wide, as a process that wakes late on a loaded machine may handle the answer
      // and its timer in either order.
      await assert.rejects(
        conn.call({ method: "echo", params: { value: "late", delay: 800 } }, { timeout: 100 }),
        CallTimeoutError,
      );

      const started = performance.now();
      const timedOut = await conn.call({ method: "never" }, { timeout: 150 }).then(
        () => assert.fail("answered"),
        (e: unknown) => e,
      );
      assert.ok(timedOut instanceof CallTimeoutError, String(timedOut));
      assert.equal(timedOut.timeout, 150);
      assert.ok(performance.now() - started >= 140, "rejected before its timeout");

      const ac = new AbortController();
      const gaveUp = new Error("the user gave up");
      const aborted = conn.call({ method: "never" }, { signal: ac.signal, timeout: Infinity });
      setTimeout(() => ac.abort(gaveUp), 30);
      await assert.rejects(aborted, (e) => e === gaveUp);
      await assert.rejects(
        conn.call({ method: "never" }, { signal: AbortSignal.abort(gaveUp) }),
        (e) => e === gaveUp,
      );
      assert.equal(await conn.call({ method: "waiting" }), 0);

      await assert.rejects(conn.call({ method: "keep" }, { timeout: 50 }), CallTimeoutError);
      assert.deepEqual(await conn.call({ method: "kept" }), { pending: false, aborted: true });
      assert.deepEqual(await conn.call({ method: "answer kept" }), { replied: false });
      // The late answer arrives.
      const deadline = performance.now() + 3000;
      while ((await conn.call<number[]>({ method: "arrivals" })).length === 0) {
        assert.ok(performance.now() < deadline, "the late answer never came");
        await sleep(20);
      }
      assert.equal(await conn.call({ method: "echo", params: { value: 42 } }), 42);
      assert.equal(conn.state, "connected");
      assert.ok(
        lines.some((l) => l.startsWith("debug: ") && /late|stale|no longer/i.test(l)),
        `no debug line about the late reply: ${lines.join(" | ")}`,
      );
    },
  );

  test(
    name(
      "JSON-RPC across a server restart: a call in flight is rejected by handleDisconnect " +
        "(from.reject), calls made after ready() are answered by the new connection",
    ),
    async () => {
      const conn = await startRpc("rpc-restart");
      assert.equal(await conn.call({ method: "echo", params: { value: "before" } }), "before");
      const inFlight = conn.call({ method: "never" }, { timeout: 10_000 });
      inFlight.catch(() => {});
      await restartServer(config, 100);
      await assert.rejects(inFlight, /The connection was lost \((remote_close|error)\)/);
      await conn.ready({ signal: AbortSignal.timeout(5000) });
      const after = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => conn.call({ method: "echo", params: { value: i, delay: (i % 3) * 10 } }),
        ),
      );
      assert.deepEqual(after, Array.from({ length: 20 }, (_, i) => i));
      assert.equal(conn.stats.connects, 2);
    },
  );

  const MiB = 1024 * 1024;
  const FLOOD = 32 * MiB;
  const FRAME = 64 * 1024;
  /** The default receiveBuffer. */
  const BOUND = 4 * MiB;
  test(
    name(
      canPause
        ? "frames(): a reader takes one frame and stops while the server floods 32 MiB: the " +
          "client stops reading (bytes received stay under receiveBuffer 4 MiB + 1 MiB, " +
          "process memory grows by less than the flood); the reader reads on and all 32 MiB " +
          "arrive, in order, none dropped"
        : "frames(): a reader takes one frame and stops while the server floods 32 MiB: this " +
          "runtime's WebSocket cannot pause, so once the reader holds more than receiveBuffer " +
          "(4 MiB) the connection fails with the documented error, with at most 8 MiB received",
    ),
    async () => {
      const id = connectionId(config, transport, "flood");
      const reasons: DisconnectReason[] = [];
      const Client = defineClient<null>({
        handleDisconnect: (reason, state) => {
          reasons.push(reason);
          return ok(state);
        },
      });
      const conn = use(await Client.start(null, { ...base(), url: `${config.ws}/ws?id=${id}` }));
      await conn.ready({ signal: AbortSignal.timeout(5000) });
      const frames = conn.frames();
      const rssBefore = process.memoryUsage().rss;
      await conn.sendFrame({ type: "text", data: `flood:${FLOOD}:${FRAME}` });
      const first = await frames.next();
      assert.equal(first.done, false);
      assert.equal((first.value as ReceivedFrame).type, "binary");
      let received = ((first.value as ReceivedFrame).data as Uint8Array).length;
      if (!canPause) {
        await until(() => reasons.length > 0, "the connection failing", 10_000);
        const [reason] = reasons;
        assert.equal(reason.kind, "error", JSON.stringify(reason));
        if (reason.kind !== "error") return;
        assert.equal(
          reason.error.message,
          `Cannot keep up with the server: more than ${BOUND} bytes of received messages ` +
            `wait for the application, and the web transport cannot pause reading (raise ` +
            `receiveBuffer, or use transport: "socket")`,
        );
        const bytesIn = conn.stats.bytesIn;
        assert.ok(bytesIn > BOUND - 4 * FRAME && bytesIn <= 2 * BOUND, `${bytesIn} bytes received`);
        assert.equal(conn.state, "disconnected");
        await conn.stop();
        // The reader gets what it holds, then the end.
        for await (const frame of frames) received += (frame.data as Uint8Array).length;
        // (What it holds counts with a per-frame overhead: a few frames short of the bound.)
        assert.ok(
          received >= BOUND - 4 * FRAME && received <= bytesIn,
          `${received} of ${bytesIn} bytes`,
        );
        return;
      }
      // Wait for the client to stop reading: nothing more received for 300 ms.
      let last = -1;
      let since = performance.now();
      await until(
        () => {
          const now = performance.now();
          if (conn.stats.bytesIn !== last) {
            last = conn.stats.bytesIn;
            since = now;
          }
          return last > BOUND / 2 && now - since > 300;
        },
        () => `the client to stop reading (${conn.stats.bytesIn} bytes received so far)`,
        10_000,
      );
      const held = conn.stats.bytesIn;
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(held <= BOUND + MiB, `${held} bytes received while the reader stopped`);
      assert.ok(grown < FLOOD, `the process grew by ${grown} bytes while the reader stopped`);
      for await (const frame of frames) {
        if (frame.type === "text") {
          assert.equal(frame.data, `flood done:${FLOOD}`);
          break;
        }
        assert.equal(frame.type, "binary");
        const data = frame.data as Uint8Array;
        assert.equal(data[0], 0);
        assert.equal(data[data.length - 1], (data.length - 1) & 0xff);
        received += data.length;
      }
      assert.equal(received, FLOOD);
      assert.equal(conn.stats.bytesIn, FLOOD + `flood done:${FLOOD}`.length);
      assert.deepEqual(reasons, []);
    },
    { timeout: 20_000 },
  );

  test(
    name(
      "ready(), stats and call in every state: call answers while connecting, connected, " +
        "disconnected; ready() waits for connect() and gives up on its signal; stats count " +
        "messages and bytes both ways, attempts, connects and the last close; once stopped, " +
        "call and ready reject with ClientStoppedError",
    ),
    async () => {
      const id = connectionId(config, transport, "states");
      const Probe = defineClient<{ calls: number }, null, never, string>({
        init: () => ok({ calls: 0 }),
        handleCall: (request, _from, state) => {
          state.calls++;
          return reply(`${request} #${state.calls}`, state);
        },
      });
      const conn = use(await Probe.start(null, { ...base(), url: `${config.ws}/ws?id=${id}` }));
      const when = conn.state;
      assert.equal(await conn.call("connecting?"), "connecting? #1");
      assert.equal(when, "connecting");
      await conn.ready({ signal: AbortSignal.timeout(5000) });
      assert.equal(conn.state, "connected");
      await conn.ready();
      assert.equal(await conn.call("connected?"), "connected? #2");

      const reader = conn.frames();
      const texts = ["#one", "#two", "#three"];
      const binaries = [new Uint8Array(10), new Uint8Array(1000)];
      for (const data of texts) await conn.sendFrame({ type: "text", data });
      for (const data of binaries) await conn.sendFrame({ type: "binary", data });
      for (let i = 0; i < 5; i++) await reader.next();
      await reader.return?.();
      const size = 4 + 4 + 6 + 10 + 1000;
      let stats = conn.stats;
      assert.equal(stats.attempts, 1);
      assert.equal(stats.connects, 1);
      assert.equal(stats.messagesOut, 5);
      assert.equal(stats.bytesOut, size);
      assert.equal(stats.messagesIn, 5);
      assert.equal(stats.bytesIn, size);
      assert.equal(typeof stats.connectedAt, "number");
      assert.ok(stats.connectedMs >= 0);
      assert.equal(stats.lastClose, undefined);

      await conn.disconnect();
      assert.equal(conn.state, "disconnected");
      assert.equal(await conn.call("disconnected?"), "disconnected? #3");
      stats = conn.stats;
      assert.deepEqual(stats.lastClose, { kind: "closed" });
      assert.equal(stats.connectedAt, undefined);
      await assert.rejects(conn.sendFrame({ type: "text", data: "#nope" }), DisconnectedError);

      let readied = false;
      const waiting = conn.ready().then(() => (readied = true));
      await sleep(50);
      assert.equal(readied, false, "ready() resolved while disconnected");
      await conn.connect();
      await waiting;
      assert.equal(conn.stats.attempts, 2);
      assert.equal(conn.stats.connects, 2);

      await conn.disconnect();
      const gaveUp = new Error("stopped waiting");
      const ac = new AbortController();
      const aborted = conn.ready({ signal: ac.signal });
      ac.abort(gaveUp);
      await assert.rejects(aborted, (e) => e === gaveUp);
      const pending = conn.ready();
      pending.catch(() => {});
      await conn.stop();
      await assert.rejects(pending, ClientStoppedError);
      await assert.rejects(conn.call("stopped?"), ClientStoppedError);
      await assert.rejects(conn.ready(), ClientStoppedError);
      assert.equal(conn.state, "stopped");
    },
  );

  test(
    name(
      "a callback awaiting its own client's sendFrame gets a DeadlockError at once (and " +
        "carries on with push); a text frame with a lone surrogate is a TypeError at sendFrame",
    ),
    async () => {
      const id = connectionId(config, transport, "deadlock");
      const me: { conn?: ClientHandle<null> } = {};
      const refused: unknown[] = [];
      const Client = defineClient<null>({
        async handleConnect(state) {
          try {
            await me.conn!.sendFrame({ type: "text", data: "#from inside" });
          } catch (error) {
            refused.push(error);
          }
          return push({ type: "text", data: "#pushed" }, state);
        },
      });
      const conn = use(await Client.start(null, { ...base(), url: `${config.ws}/ws?id=${id}` }));
      me.conn = conn;
      const reader = conn.frames();
      const echo = await reader.next();
      assert.deepEqual(echo.value, { type: "text", data: "#pushed" });
      assert.equal(refused.length, 1);
      assert.ok(refused[0] instanceof DeadlockError, String(refused[0]));
      assert.match(refused[0].message, /^Cannot await sendFrame from inside handleConnect/);
      await assert.rejects(conn.sendFrame({ type: "text", data: "a\uD800b" }), TypeError);
      await conn.sendFrame({ type: "text", data: "#\uD83D\uDE00 whole" });
      assert.deepEqual((await reader.next()).value, { type: "text", data: "#\uD83D\uDE00 whole" });
    },
  );

  test(
    name(
      "credentials planted in the URL (ws://user:PLANTED@host/path?token=PLANTED) appear in no " +
        "log line (debug included), no error message or cause, no disconnect or stop reason, " +
        "no HandshakeError, no rejected send: against a refusing server (403), a closed port, " +
        "a server that never answers (connect timeout), and a server that closes and drops",
    ),
    async () => {
      const host = new URL(config.ws).host;
      const planted = (where: string, path: string) =>
        `ws://user:PLANTED@${where}${path}${path.includes("?") ? "&" : "?"}token=PLANTED`;
      const silent = net.createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const sockets = new Set<net.Socket>();
      silent.on("connection", (s) => {
        sockets.add(s);
        s.on("error", () => {});
      });
      const silentHost = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const lines: string[] = [];
      const found: unknown[] = [];
      const Client = defineClient<null>({
        handleDisconnect: (reason, state) => {
          found.push(reason);
          return ok(state);
        },
      });
      const watch = (conn: ClientHandle<null>) => {
        const events = collect(conn.events());
        return async () => {
          if (conn.state !== "stopped") await conn.stop();
          found.push(await conn.stopped, conn.stats.lastClose);
          await events.done;
          found.push(...events.items.filter((e) => e.type !== "connected"));
        };
      };
      try {
        // Refused, nothing listening, never answering: one retry each, then they give up.
        const attempts = [
          {
            url: planted(host, `/reject?id=${connectionId(config, transport, "planted-403")}`),
            connectTimeout: 5000,
          },
          { url: planted("127.0.0.1:1", "/ws"), connectTimeout: 5000 },
          { url: planted(silentHost, "/ws"), connectTimeout: 150 },
        ];
        for (const { url, connectTimeout } of attempts) {
          const conn = await Client.start(null, {
            ...base(lines),
            url,
            connectTimeout,
            // (A WebSocketStream abandoned while connecting lets go only at closeTimeout.)
            closeTimeout: 300,
            reconnect: { baseDelay: 10, maxDelay: 20, maxRetries: 1 },
          });
          const done = watch(conn);
          // A frame queued while connecting is rejected when the attempt fails.
          const queued = conn.sendFrame({ type: "text", data: "#queued" });
          queued.catch(() => {});
          await conn.stopped;
          found.push(await queued.then(() => "sent", (e: unknown) => e));
          await done();
        }
        // A server that closes, then one that drops the connection.
        const id = connectionId(config, transport, "planted-close");
        const conn = await Client.start(null, {
          ...base(lines),
          url: planted(host, `/ws?id=${id}`),
        });
        const done = watch(conn);
        await conn.ready({ signal: AbortSignal.timeout(5000) });
        await conn.sendFrame({ type: "text", data: "close:4001:bye" });
        await until(() => conn.state === "disconnected", "the server's close");
        await conn.connect();
        await conn.sendFrame({ type: "text", data: "crash" });
        await until(() => conn.state === "disconnected", "the dropped connection");
        await done();
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
      const texts = textsOf(found);
      assert.ok(lines.length >= 6, `only ${lines.length} log lines: ${lines.join(" | ")}`);
      assert.ok(
        found.some((f) => f instanceof Error && f.name === "ConnectionError"),
        "no rejected send",
      );
      assert.ok(
        found.some((f) =>
          (f as DisconnectReason).kind === "error" &&
          (f as { error: unknown }).error instanceof HandshakeError
        ),
        "no HandshakeError",
      );
      const leaks = [...lines, ...texts].filter((t) => t.includes("PLANTED"));
      assert.deepEqual([...new Set(leaks)], [], "the planted credentials leaked");
      // The messages still say which URL, redacted.
      assert.ok(
        texts.some((t) => t.includes("token=***")),
        `no message names the redacted URL: ${[...new Set(texts)].join(" | ")}`,
      );
    },
    { timeout: 20_000 },
  );
}
