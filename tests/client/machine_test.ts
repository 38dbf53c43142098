// Transition tests on the pure machine: state × event → state and effects, then the result of
// every callback. No driver, no clock, no sockets.

import assert from "node:assert/strict";
import {
  type CallbackName,
  createMachine,
  type Effect,
  type Event,
  type Machine,
  type MachineConfig,
  type Phase,
  step,
  type Waiter,
} from "../../src/client/_machine.ts";
import type { ReconnectPolicy } from "../../src/client/_options.ts";
import type { ConnectInfo } from "../../src/vocabulary/connect_info.ts";
import type { Frame } from "../../src/vocabulary/frame.ts";
import {
  ClientStoppedError,
  ConnectionError,
  disconnect,
  DisconnectedError,
  ok,
  push,
  QueueFullError,
  reconnect,
  stayDisconnected,
  stop,
} from "../../mod.ts";

// --- helpers ---

const CONFIG: MachineConfig = {
  reconnect: null,
  connectTimeout: 5000,
  maxQueuedFrames: 1024,
  maxQueuedBytes: 16 * 1024 * 1024,
};

/** random() = 0: attempt 0 waits 51 ms, attempt 1 waits 101 ms, attempt 2 waits 201 ms. */
const POLICY: ReconnectPolicy = {
  baseDelay: 100,
  maxDelay: 1000,
  maxRetries: Infinity,
  random: () => 0,
  // The retry count resets on every handshake here; minUptime has tests of its own.
  minUptime: 0,
  maxElapsed: Infinity,
  maxRetryAfter: 1000,
  retryPermanent: true,
};

const INFO: ConnectInfo = {
  url: "ws://h/",
  protocol: "",
  extensions: "",
  status: 101,
  headers: undefined,
};

function machine(config: Partial<MachineConfig> = {}, user: unknown = "s0"): Machine {
  return createMachine(user, { ...CONFIG, ...config });
}

/** A reply that remembers how it was settled. */
class R implements Waiter {
  outcome: "pending" | "resolved" | "rejected" = "pending";
  error: unknown;
  constructor(readonly label: string) {}
  resolve(): void {
    this.outcome = "resolved";
  }
  reject(error: unknown): void {
    this.outcome = "rejected";
    this.error = error;
  }
}

function fmtFrame(f: Frame): string {
  if (f.type === "text") return `text:${f.data}`;
  return `${f.type}:${f.data?.length ?? 0}`;
}

/** Effects as short strings, for readable tables. */
function sum(fx: Effect[]): string[] {
  return fx.map((e) => {
    switch (e.type) {
      case "open":
        return `open ${e.conn} ${e.timeout}`;
      case "send":
        return `send ${fmtFrame(e.frame)} ${e.origin}${e.reply ? ` ${(e.reply as R).label}` : ""}`;
      case "close":
        return `close ${e.code} ${JSON.stringify(e.reason)}`;
      case "release":
        return "release";
      case "call":
        return `call ${e.callback}`;
      case "arm":
        return `arm ${e.token} ${e.delay}`;
      case "disarm":
        return `disarm ${e.token}`;
      case "settle":
        return `settle ${(e.reply as R).label} ${
          e.error === undefined ? "ok" : (e.error as Error).constructor.name
        }`;
      case "log":
        return `log ${e.level}`;
      case "terminate":
        return `terminate ${e.reason.kind}`;
      case "reply":
        return `reply ${JSON.stringify(e.value)}`;
    }
  });
}

function lastCall(fx: Effect[]): Extract<Effect, { type: "call" }> {
  const c = fx.at(-1);
  assert.ok(c !== undefined && c.type === "call", `expected a call last, got ${sum(fx)}`);
  return c;
}

function terminateOf(fx: Effect[]): Extract<Effect, { type: "terminate" }> {
  const t = fx.find((e) => e.type === "terminate");
  assert.ok(t !== undefined && t.type === "terminate", `expected terminate, got ${sum(fx)}`);
  return t;
}

function settleOf(fx: Effect[], label: string): Extract<Effect, { type: "settle" }> {
  const s = fx.find((e) => e.type === "settle" && (e.reply as R).label === label);
  assert.ok(s !== undefined && s.type === "settle", `no settle for ${label} in ${sum(fx)}`);
  return s;
}

function logsOf(fx: Effect[]): string[] {
  return fx.flatMap((e) => (e.type === "log" ? [`${e.level}: ${e.message}`] : []));
}

function toConnecting(m: Machine): Machine {
  step(m, { type: "connect" });
  assert.equal(m.phase, "connecting");
  return m;
}

function toConnected(m: Machine): Machine {
  toConnecting(m);
  step(m, { type: "opened", conn: m.conn, info: INFO });
  step(m, { type: "result", value: undefined });
  assert.equal(m.phase, "connected");
  return m;
}

/** Connected, then the server closed; handleDisconnect said ok with no reconnect option. */
function toDisconnectedAfterClose(m: Machine): Machine {
  toConnected(m);
  step(m, { type: "remoteClose", conn: m.conn, code: 1000, reason: "" });
  step(m, { type: "result", value: undefined });
  assert.equal(m.phase, "disconnected");
  assert.equal(m.pending, null);
  return m;
}

function inState(state: "disconnected" | "connecting" | "connected", cfg = {}): Machine {
  const m = machine(cfg);
  if (state === "connecting") toConnecting(m);
  if (state === "connected") toConnected(m);
  return m;
}

const text = (data: string): Frame => ({ type: "text", data });

// --- the state × event table ---

interface Row {
  readonly state: "disconnected" | "connecting" | "connected";
  readonly what: string;
  readonly event: (m: Machine) => Event;
  readonly effects: string[];
  readonly phase: Phase;
  readonly pending?: CallbackName;
}

const ra = new R("ra");

const TABLE: Row[] = [
  // disconnected (fresh: conn 0, no timer)
  {
    state: "disconnected",
    what: "connect starts an attempt",
    event: () => ({ type: "connect" }),
    effects: ["open 1 5000"],
    phase: "connecting",
  },
  {
    state: "disconnected",
    what: "a timer with no pending timer is stale",
    event: () => ({ type: "timer", token: 1 }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "opened (stale conn) is ignored",
    event: (m) => ({ type: "opened", conn: m.conn, info: INFO }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "frame is ignored",
    event: (m) => ({ type: "frame", conn: m.conn, frame: { type: "text", data: "x" } }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "ping is ignored (no pong)",
    event: (m) => ({ type: "ping", conn: m.conn, payload: new Uint8Array(1) }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "remoteClose is ignored",
    event: (m) => ({ type: "remoteClose", conn: m.conn, code: 1000, reason: "" }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "error is ignored",
    event: (m) => ({ type: "error", conn: m.conn, error: new Error("x") }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "connectTimeout is ignored",
    event: (m) => ({ type: "connectTimeout", conn: m.conn }),
    effects: [],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "send with a reply is refused with DisconnectedError",
    event: () => ({ type: "send", frame: text("a"), reply: ra }),
    effects: ["settle ra DisconnectedError"],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "send without a reply is dropped with a warning",
    event: () => ({ type: "send", frame: text("a") }),
    effects: ["log warn"],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "disconnect answers at once, no callback",
    event: () => ({ type: "disconnect", code: 1000, reason: "", reply: ra }),
    effects: ["settle ra ok"],
    phase: "disconnected",
  },
  {
    state: "disconnected",
    what: "info calls handleInfo",
    event: () => ({ type: "info", message: "m" }),
    effects: ["call handleInfo"],
    phase: "disconnected",
    pending: "handleInfo",
  },
  {
    state: "disconnected",
    what: "stop terminates",
    event: () => ({ type: "stop", reason: { kind: "normal" } }),
    effects: ["terminate normal"],
    phase: "stopped",
  },

  // connecting (conn 1)
  {
    state: "connecting",
    what: "connect again starts nothing",
    event: () => ({ type: "connect" }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "a timer is stale",
    event: () => ({ type: "timer", token: 1 }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "opened (current conn) calls handleConnect",
    event: (m) => ({ type: "opened", conn: m.conn, info: INFO }),
    effects: ["call handleConnect"],
    phase: "connected",
    pending: "handleConnect",
  },
  {
    state: "connecting",
    what: "opened (stale conn) is ignored",
    event: (m) => ({ type: "opened", conn: m.conn - 1, info: INFO }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "opened (future conn) is ignored",
    event: (m) => ({ type: "opened", conn: m.conn + 1, info: INFO }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "frame before the handshake is ignored",
    event: (m) => ({ type: "frame", conn: m.conn, frame: { type: "text", data: "x" } }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "ping before the handshake is ignored",
    event: (m) => ({ type: "ping", conn: m.conn, payload: new Uint8Array() }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "remoteClose during the handshake releases and calls handleDisconnect",
    event: (m) => ({ type: "remoteClose", conn: m.conn, code: 1001, reason: "" }),
    effects: ["release", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connecting",
    what: "error (current) releases and calls handleDisconnect",
    event: (m) => ({ type: "error", conn: m.conn, error: new Error("refused") }),
    effects: ["release", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connecting",
    what: "error (stale) is ignored",
    event: (m) => ({ type: "error", conn: m.conn - 1, error: new Error("old") }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "connectTimeout (current) releases and calls handleDisconnect",
    event: (m) => ({ type: "connectTimeout", conn: m.conn }),
    effects: ["release", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connecting",
    what: "connectTimeout (stale) is ignored",
    event: (m) => ({ type: "connectTimeout", conn: m.conn - 1 }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "send is queued",
    event: () => ({ type: "send", frame: text("a"), reply: ra }),
    effects: [],
    phase: "connecting",
  },
  {
    state: "connecting",
    what: "disconnect releases, answers, then calls handleDisconnect",
    event: () => ({ type: "disconnect", code: 1000, reason: "", reply: ra }),
    effects: ["release", "settle ra ok", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connecting",
    what: "info calls handleInfo",
    event: () => ({ type: "info", message: "m" }),
    effects: ["call handleInfo"],
    phase: "connecting",
    pending: "handleInfo",
  },
  {
    state: "connecting",
    what: "stop releases and terminates",
    event: () => ({ type: "stop", reason: { kind: "normal" } }),
    effects: ["release", "terminate normal"],
    phase: "stopped",
  },

  // connected (conn 1)
  {
    state: "connected",
    what: "connect answers at once",
    event: () => ({ type: "connect", reply: ra }),
    effects: ["settle ra ok"],
    phase: "connected",
  },
  {
    state: "connected",
    what: "a timer is stale",
    event: () => ({ type: "timer", token: 1 }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "opened again is ignored",
    event: (m) => ({ type: "opened", conn: m.conn, info: INFO }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "frame (current) calls handleFrame",
    event: (m) => ({ type: "frame", conn: m.conn, frame: { type: "text", data: "x" } }),
    effects: ["call handleFrame"],
    phase: "connected",
    pending: "handleFrame",
  },
  {
    state: "connected",
    what: "frame (stale) is ignored",
    event: (m) => ({ type: "frame", conn: m.conn - 1, frame: { type: "text", data: "x" } }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "ping calls handlePing (the transport has sent the pong)",
    event: (m) => ({ type: "ping", conn: m.conn, payload: new Uint8Array(3) }),
    effects: ["call handlePing"],
    phase: "connected",
    pending: "handlePing",
  },
  {
    state: "connected",
    what: "ping (stale) is ignored, no pong",
    event: (m) => ({ type: "ping", conn: m.conn - 1, payload: new Uint8Array(3) }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "remoteClose releases the transport and calls handleDisconnect",
    event: (m) => ({ type: "remoteClose", conn: m.conn, code: 1001, reason: "away" }),
    effects: ["release", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connected",
    what: "remoteClose (stale) is ignored",
    event: (m) => ({ type: "remoteClose", conn: m.conn - 1, code: 1001, reason: "away" }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "error releases and calls handleDisconnect",
    event: (m) => ({ type: "error", conn: m.conn, error: new Error("reset") }),
    effects: ["release", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connected",
    what: "error (stale) is ignored",
    event: (m) => ({ type: "error", conn: m.conn - 1, error: new Error("old") }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "connectTimeout is ignored",
    event: (m) => ({ type: "connectTimeout", conn: m.conn }),
    effects: [],
    phase: "connected",
  },
  {
    state: "connected",
    what: "send goes out with its reply",
    event: () => ({ type: "send", frame: text("a"), reply: ra }),
    effects: ["send text:a sendFrame ra"],
    phase: "connected",
  },
  {
    state: "connected",
    what: "send without a reply goes out as sendFrameAsync",
    event: () => ({ type: "send", frame: text("a") }),
    effects: ["send text:a sendFrameAsync"],
    phase: "connected",
  },
  {
    state: "connected",
    what: "disconnect closes with the code, answers, then calls handleDisconnect",
    event: () => ({ type: "disconnect", code: 4000, reason: "bye", reply: ra }),
    effects: ['close 4000 "bye"', "settle ra ok", "call handleDisconnect"],
    phase: "disconnected",
    pending: "handleDisconnect",
  },
  {
    state: "connected",
    what: "info calls handleInfo",
    event: () => ({ type: "info", message: "m" }),
    effects: ["call handleInfo"],
    phase: "connected",
    pending: "handleInfo",
  },
  {
    state: "connected",
    what: "stop closes with 1000 and terminates",
    event: () => ({ type: "stop", reason: { kind: "normal" } }),
    effects: ['close 1000 ""', "terminate normal"],
    phase: "stopped",
  },
];

for (const row of TABLE) {
  Deno.test(`machine: ${row.state} × ${row.what}`, () => {
    const m = inState(row.state);
    const fx = step(m, row.event(m));
    assert.deepEqual(sum(fx), row.effects);
    assert.equal(m.phase, row.phase);
    assert.equal(m.pending, row.pending ?? null);
  });
}

// --- details behind the table ---

Deno.test("machine: callback arguments carry the event and the user state", () => {
  const m = toConnected(machine({}, { n: 1 }));
  const frame = { type: "text", data: "x" } as const;
  assert.deepEqual(lastCall(step(m, { type: "frame", conn: 1, frame })).args, [frame, { n: 1 }]);
  step(m, { type: "result", value: undefined });
  const payload = new Uint8Array([7, 8]);
  const fx = step(m, { type: "ping", conn: 1, payload });
  assert.deepEqual(lastCall(fx).args, [payload, { n: 1 }]);
  step(m, { type: "result", value: undefined });
  assert.deepEqual(lastCall(step(m, { type: "info", message: "hey" })).args, ["hey", { n: 1 }]);
  step(m, { type: "result", value: undefined });
  assert.deepEqual(
    lastCall(step(m, { type: "remoteClose", conn: 1, code: 4001, reason: "r" })).args,
    [{ kind: "remote_close", code: 4001, reason: "r" }, { n: 1 }],
  );
});

Deno.test("machine: opened calls handleConnect with the state and the connect info", () => {
  const m = toConnecting(machine({}, "st"));
  const info = {
    url: "ws://h/x",
    protocol: "chat",
    extensions: "",
    status: 101,
    headers: new Headers(),
  };
  assert.deepEqual(lastCall(step(m, { type: "opened", conn: 1, info })).args, ["st", info]);
});

Deno.test("machine: reasons given to handleDisconnect by each way out of connecting", () => {
  const err = new Error("refused");
  let m = toConnecting(machine({ connectTimeout: 1234 }));
  assert.deepEqual(lastCall(step(m, { type: "connectTimeout", conn: 1 })).args[0], {
    kind: "connect_timeout",
    timeout: 1234,
  });
  m = toConnecting(machine());
  assert.deepEqual(lastCall(step(m, { type: "error", conn: 1, error: err })).args[0], {
    kind: "error",
    error: err,
  });
  m = toConnecting(machine());
  const reason = lastCall(step(m, { type: "remoteClose", conn: 1, code: 1001, reason: "" }))
    .args[0] as { kind: string; error: Error };
  assert.equal(reason.kind, "error");
  assert.match(reason.error.message, /closed the connection with 1001 during the handshake/);
  m = toConnecting(machine());
  assert.deepEqual(
    lastCall(step(m, { type: "disconnect", code: 1000, reason: "" })).args[0],
    { kind: "closed" },
  );
});

Deno.test("machine: a connect() while disconnected waits and is answered after handleConnect", () => {
  const m = machine();
  const w = new R("w");
  assert.deepEqual(sum(step(m, { type: "connect", reply: w })), ["open 1 5000"]);
  assert.deepEqual(m.waiters, [w]);
  const w2 = new R("w2");
  assert.deepEqual(sum(step(m, { type: "connect", reply: w2 })), []);
  step(m, { type: "opened", conn: 1, info: INFO });
  assert.deepEqual(sum(step(m, { type: "result", value: undefined })), [
    "settle w ok",
    "settle w2 ok",
  ]);
  assert.deepEqual(m.waiters, []);
});

Deno.test("machine: a failed attempt fails connect() waiters with ConnectionError", () => {
  const m = machine();
  step(m, { type: "connect", reply: new R("w") });
  const err = new Error("refused");
  const fx = step(m, { type: "error", conn: 1, error: err });
  assert.deepEqual(sum(fx), ["release", "settle w ConnectionError", "call handleDisconnect"]);
  const e = settleOf(fx, "w").error as ConnectionError;
  assert.deepEqual(e.reason, { kind: "error", error: err });
  assert.equal(e.cause, err);
});

Deno.test("machine: connect while disconnected cancels the pending reconnect timer", () => {
  const m = toDisconnectedAfterClose(machine({ reconnect: POLICY }));
  // toDisconnectedAfterClose's ok armed token 1
  assert.equal(m.timer, 1);
  assert.deepEqual(sum(step(m, { type: "connect" })), ["disarm 1", "open 2 5000"]);
  assert.equal(m.timer, 0);
});

Deno.test("machine: a matching timer starts the attempt; a stale one does nothing", () => {
  const m = toDisconnectedAfterClose(machine({ reconnect: POLICY }));
  assert.equal(m.timer, 1);
  assert.deepEqual(sum(step(m, { type: "timer", token: 99 })), []);
  assert.equal(m.phase, "disconnected");
  assert.deepEqual(sum(step(m, { type: "timer", token: 1 })), ["open 2 5000"]);
  assert.equal(m.timer, 0);
  assert.equal(m.phase, "connecting");
  // The same token again (a duplicate or late timer) is stale now.
  step(m, { type: "error", conn: 2, error: new Error("x") });
  const fx = step(m, { type: "result", value: undefined });
  assert.deepEqual(sum(fx), ["arm 2 101", "log info"]);
  assert.deepEqual(sum(step(m, { type: "timer", token: 1 })), []);
  assert.equal(m.phase, "disconnected");
});

Deno.test("machine: disconnect while disconnected cancels the reconnect timer and holds", () => {
  const m = toDisconnectedAfterClose(machine({ reconnect: POLICY }));
  const r = new R("r");
  assert.deepEqual(sum(step(m, { type: "disconnect", code: 1000, reason: "", reply: r })), [
    "disarm 1",
    "settle r ok",
  ]);
  assert.equal(m.timer, 0);
  assert.equal(m.hold, true);
  assert.deepEqual(sum(step(m, { type: "timer", token: 1 })), []);
});

Deno.test("machine: sends while connecting are queued in order with their byte count", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("ab"), reply: new R("a") });
  step(m, { type: "send", frame: text("cde") });
  assert.equal(m.queue.length, 2);
  assert.equal(m.queuedBytes, 5);
});

Deno.test("machine: QueueFullError at maxQueuedFrames", () => {
  const m = toConnecting(machine({ maxQueuedFrames: 2 }));
  assert.deepEqual(
    sum(step(m, { type: "send", frame: text("1"), reply: new R("a") })),
    [],
  );
  assert.deepEqual(
    sum(step(m, { type: "send", frame: text("2"), reply: new R("b") })),
    [],
  );
  const fx = step(m, { type: "send", frame: text("3"), reply: new R("c") });
  assert.deepEqual(sum(fx), ["settle c QueueFullError"]);
  assert.match((settleOf(fx, "c").error as Error).message, /maxQueuedFrames/);
  assert.equal(m.queue.length, 2);
  // Without a reply: a warning.
  const fx2 = step(m, { type: "send", frame: text("4") });
  assert.deepEqual(sum(fx2), ["log warn"]);
  assert.match(logsOf(fx2)[0], /Dropping frame from sendFrameAsync: .*maxQueuedFrames/);
});

Deno.test("machine: maxQueuedFrames 0 refuses every send while connecting", () => {
  const m = toConnecting(machine({ maxQueuedFrames: 0 }));
  const fx = step(m, { type: "send", frame: text("1"), reply: new R("a") });
  assert.deepEqual(sum(fx), ["settle a QueueFullError"]);
});

Deno.test("machine: QueueFullError at maxQueuedBytes, and a smaller frame still fits", () => {
  const m = toConnecting(machine({ maxQueuedBytes: 10 }));
  assert.deepEqual(
    sum(step(m, { type: "send", frame: text("123456"), reply: new R("a") })),
    [],
  );
  const fx = step(m, { type: "send", frame: text("12345"), reply: new R("b") });
  assert.deepEqual(sum(fx), ["settle b QueueFullError"]);
  assert.match((settleOf(fx, "b").error as Error).message, /maxQueuedBytes/);
  // 6 + 4 = 10 is not above the limit.
  assert.deepEqual(
    sum(step(m, { type: "send", frame: text("1234"), reply: new R("c") })),
    [],
  );
  assert.equal(m.queuedBytes, 10);
  // The bound is for queued frames only: once connected nothing is limited.
  step(m, { type: "opened", conn: 1, info: INFO });
  step(m, { type: "result", value: undefined });
  assert.equal(m.queuedBytes, 0);
  assert.deepEqual(sum(step(m, { type: "send", frame: text("x".repeat(50)) })), [
    `send text:${"x".repeat(50)} sendFrameAsync`,
  ]);
});

Deno.test("machine: the end of an attempt refuses queued frames with ConnectionError", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("a"), reply: new R("a") });
  step(m, { type: "send", frame: text("b") });
  const fx = step(m, { type: "connectTimeout", conn: 1 });
  assert.deepEqual(sum(fx), [
    "release",
    "settle a ConnectionError",
    "log warn",
    "call handleDisconnect",
  ]);
  assert.deepEqual((settleOf(fx, "a").error as ConnectionError).reason, {
    kind: "connect_timeout",
    timeout: 5000,
  });
  assert.match(logsOf(fx)[0], /Dropping 1 frame\(s\) from sendFrameAsync/);
  assert.equal(m.queue.length, 0);
  assert.equal(m.queuedBytes, 0);
});

Deno.test("machine: disconnect while connecting answers the caller before queued frames fail and before handleDisconnect", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("a"), reply: new R("q") });
  const fx = step(m, { type: "disconnect", code: 1000, reason: "", reply: new R("d") });
  assert.deepEqual(sum(fx), [
    "release",
    "settle d ok",
    "settle q ConnectionError",
    "call handleDisconnect",
  ]);
  assert.deepEqual((settleOf(fx, "q").error as ConnectionError).reason, { kind: "closed" });
});

Deno.test("machine: stop while connecting refuses queued frames and waiters with ClientStoppedError", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("a"), reply: new R("q") });
  step(m, { type: "connect", reply: new R("w") });
  const fx = step(m, { type: "stop", reason: { kind: "user", reason: "bye" } });
  assert.deepEqual(sum(fx), [
    "release",
    "settle q ClientStoppedError",
    "settle w ClientStoppedError",
    "terminate user",
  ]);
  assert.deepEqual((settleOf(fx, "q").error as ClientStoppedError).reason, {
    kind: "user",
    reason: "bye",
  });
});

Deno.test("machine: stop while disconnected cancels the reconnect timer", () => {
  const m = toDisconnectedAfterClose(machine({ reconnect: POLICY }));
  assert.deepEqual(sum(step(m, { type: "stop", reason: { kind: "normal" } })), [
    "disarm 1",
    "terminate normal",
  ]);
});

Deno.test("machine: after stop, requests are refused with ClientStoppedError and the rest ignored", () => {
  const m = inState("connected");
  step(m, { type: "stop", reason: { kind: "normal" } });
  assert.equal(m.phase, "stopped");
  assert.deepEqual(
    sum(step(m, { type: "send", frame: text("a"), reply: new R("s") })),
    ["settle s ClientStoppedError"],
  );
  assert.deepEqual(sum(step(m, { type: "connect", reply: new R("c") })), [
    "settle c ClientStoppedError",
  ]);
  assert.deepEqual(
    sum(step(m, { type: "disconnect", code: 1000, reason: "", reply: new R("d") })),
    ["settle d ClientStoppedError"],
  );
  assert.deepEqual(sum(step(m, { type: "info", message: 1 })), []);
  assert.deepEqual(sum(step(m, { type: "frame", conn: 1, frame: { type: "text", data: "" } })), []);
  assert.deepEqual(sum(step(m, { type: "stop", reason: { kind: "normal" } })), []);
  assert.equal(m.phase, "stopped");
});

Deno.test("machine: an event while a callback runs is an internal error", () => {
  const m = inState("connected");
  step(m, { type: "info", message: 1 });
  assert.throws(() => step(m, { type: "info", message: 2 }), /event info while handleInfo runs/);
});

// --- callback results ---

type Active = "handleConnect" | "handleFrame" | "handlePing" | "handleInfo";

/** A connected machine with `callback` pending (handleConnect: just opened). */
function pendingIn(
  callback: Active,
  cfg: Partial<MachineConfig> = {},
  user: unknown = "s0",
): Machine {
  const m = machine(cfg, user);
  if (callback === "handleConnect") {
    toConnecting(m);
    step(m, { type: "opened", conn: 1, info: INFO });
  } else {
    toConnected(m);
    if (callback === "handleFrame") {
      step(m, { type: "frame", conn: 1, frame: { type: "text", data: "x" } });
    } else if (callback === "handlePing") {
      step(m, { type: "ping", conn: 1, payload: new Uint8Array() });
    } else step(m, { type: "info", message: "m" });
  }
  assert.equal(m.pending, callback);
  return m;
}

const ACTIVE: Active[] = ["handleConnect", "handleFrame", "handlePing", "handleInfo"];

for (const cb of ACTIVE) {
  Deno.test(`machine: ${cb} → ok(state) replaces the state, no effects`, () => {
    const m = pendingIn(cb);
    assert.deepEqual(sum(step(m, { type: "result", value: ok("s1") })), []);
    assert.equal(m.user, "s1");
    assert.equal(m.pending, null);
    assert.equal(m.phase, "connected");
  });

  Deno.test(`machine: ${cb} → undefined keeps the state`, () => {
    const m = pendingIn(cb);
    assert.deepEqual(sum(step(m, { type: "result", value: undefined })), []);
    assert.equal(m.user, "s0");
  });

  Deno.test(`machine: ${cb} → push one frame, then an array in order`, () => {
    let m = pendingIn(cb);
    assert.deepEqual(sum(step(m, { type: "result", value: push(text("a"), "s1") })), [
      `send text:a ${cb}`,
    ]);
    assert.equal(m.user, "s1");
    m = pendingIn(cb);
    assert.deepEqual(
      sum(step(m, {
        type: "result",
        value: push(
          [text("a"), { type: "binary", data: new Uint8Array(2) }, { type: "ping" }],
          "s2",
        ),
      })),
      [`send text:a ${cb}`, `send binary:2 ${cb}`, `send ping:0 ${cb}`],
    );
    assert.equal(m.user, "s2");
    m = pendingIn(cb);
    assert.deepEqual(sum(step(m, { type: "result", value: push([], "s3") })), []);
    assert.equal(m.user, "s3");
  });

  Deno.test(`machine: ${cb} → disconnect closes, then handleDisconnect gets the reason and the new state`, () => {
    const m = pendingIn(cb);
    const fx = step(m, { type: "result", value: disconnect("why", "s1") });
    assert.deepEqual(sum(fx), ['close 1000 ""', "call handleDisconnect"]);
    assert.deepEqual(lastCall(fx).args, [{ kind: "user", reason: "why" }, "s1"]);
    assert.equal(m.phase, "disconnected");
  });

  Deno.test(`machine: ${cb} → stop(reason, state) closes and terminates with a user reason`, () => {
    const m = pendingIn(cb);
    const fx = step(m, { type: "result", value: stop("boom", "s1") });
    assert.deepEqual(sum(fx), ['close 1000 ""', "terminate user"]);
    assert.deepEqual(terminateOf(fx).reason, { kind: "user", reason: "boom" });
    assert.equal(m.user, "s1");
    assert.equal(m.phase, "stopped");
  });

  Deno.test(`machine: ${cb} → stop("normal") is a normal stop; stop without state keeps it`, () => {
    const m = pendingIn(cb);
    const fx = step(m, { type: "result", value: stop("normal") });
    assert.deepEqual(terminateOf(fx).reason, { kind: "normal" });
    assert.equal(m.user, "s0");
  });

  for (
    const [label, value] of [
      ["42", 42],
      ["null", null],
      ['"ok"', "ok"],
      ["true", true],
      ["{}", {}],
      ["{ action: 'nope' }", { action: "nope", state: 1 }],
      ["reconnect(state)", reconnect(1)],
      ["a function", () => {}],
    ] as const
  ) {
    Deno.test(`machine: ${cb} → ${label} terminates with a TypeError naming ${cb}`, () => {
      const m = pendingIn(cb);
      const fx = step(m, { type: "result", value });
      assert.deepEqual(sum(fx), ['close 1000 ""', "terminate error"]);
      const reason = terminateOf(fx).reason as { kind: "error"; error: Error };
      assert.ok(reason.error instanceof TypeError);
      assert.match(reason.error.message, new RegExp(`^${cb} returned an invalid result`));
      assert.equal(m.user, "s0", "the state is not taken from an invalid result");
    });
  }

  for (
    const [label, frame] of [
      ["{ type: 'nope' }", { type: "nope" }],
      ["a text frame with a number", { type: "text", data: 123 }],
      ["a binary frame with a string", { type: "binary", data: "x" }],
      ["a ping of 126 bytes", { type: "ping", data: new Uint8Array(126) }],
      ["undefined", undefined],
    ] as const
  ) {
    Deno.test(`machine: ${cb} → push of ${label} terminates with a TypeError naming ${cb}; nothing sent`, () => {
      const m = pendingIn(cb);
      const fx = step(m, {
        type: "result",
        value: { action: "push", frame: [text("ok first"), frame], state: "s1" },
      });
      assert.deepEqual(sum(fx), ['close 1000 ""', "terminate error"]);
      const reason = terminateOf(fx).reason as { kind: "error"; error: Error };
      assert.ok(reason.error instanceof TypeError);
      assert.match(
        reason.error.message,
        new RegExp(`^${cb} returned an invalid result: push got a bad frame`),
      );
    });
  }

  Deno.test(`machine: ${cb} throwing terminates with { kind: "error", error }`, () => {
    const m = pendingIn(cb);
    const boom = new Error("boom");
    const fx = step(m, { type: "threw", error: boom });
    assert.deepEqual(sum(fx), ['close 1000 ""', "terminate error"]);
    assert.deepEqual(terminateOf(fx).reason, { kind: "error", error: boom });
    assert.equal(m.pending, null);
  });
}

Deno.test("machine: handleConnect push goes out before the queued frames, then waiters are answered", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("q1"), reply: new R("a") });
  step(m, { type: "send", frame: text("q2") });
  step(m, { type: "connect", reply: new R("w") });
  step(m, { type: "opened", conn: 1, info: INFO });
  const fx = step(m, { type: "result", value: push([text("p1"), text("p2")], "s1") });
  assert.deepEqual(sum(fx), [
    "send text:p1 handleConnect",
    "send text:p2 handleConnect",
    "send text:q1 sendFrame a",
    "send text:q2 sendFrameAsync",
    "settle w ok",
  ]);
  assert.equal(m.queue.length, 0);
  assert.equal(m.queuedBytes, 0);
});

Deno.test("machine: handleConnect disconnect refuses queued frames instead of sending them after the close (B11)", () => {
  const m = toConnecting(machine());
  step(m, { type: "send", frame: text("q1"), reply: new R("a") });
  step(m, { type: "send", frame: text("q2") });
  step(m, { type: "connect", reply: new R("w") });
  step(m, { type: "opened", conn: 1, info: INFO });
  const fx = step(m, { type: "result", value: disconnect("nope", "s1") });
  assert.deepEqual(sum(fx), [
    'close 1000 ""',
    "settle a ConnectionError",
    "log warn",
    "settle w ConnectionError",
    "call handleDisconnect",
  ]);
  assert.ok(!fx.some((e) => e.type === "send"));
  assert.deepEqual((settleOf(fx, "a").error as ConnectionError).reason, {
    kind: "user",
    reason: "nope",
  });
  assert.deepEqual(lastCall(fx).args, [{ kind: "user", reason: "nope" }, "s1"]);
});

Deno.test("machine: opened resets the retry counter before handleConnect", () => {
  const m = machine({ reconnect: POLICY });
  toConnecting(m);
  step(m, { type: "error", conn: 1, error: new Error("x") });
  step(m, { type: "result", value: undefined });
  step(m, { type: "timer", token: m.timer });
  step(m, { type: "error", conn: 2, error: new Error("x") });
  step(m, { type: "result", value: undefined });
  assert.equal(m.retries, 2);
  step(m, { type: "timer", token: m.timer });
  step(m, { type: "opened", conn: 3, info: INFO });
  assert.equal(m.retries, 0);
});

// Results of the active callbacks while not connected (handleInfo is the only one that runs).

Deno.test("machine: handleInfo → push while disconnected is dropped with a warning", () => {
  const m = machine();
  step(m, { type: "info", message: "m" });
  const fx = step(m, { type: "result", value: push(text("a"), "s1") });
  assert.deepEqual(sum(fx), ["log warn"]);
  assert.match(logsOf(fx)[0], /Ignoring push from handleInfo while disconnected: 1 frame/);
  assert.equal(m.user, "s1");
});

Deno.test("machine: handleInfo → push while connecting is dropped with a warning, not queued", () => {
  const m = toConnecting(machine());
  step(m, { type: "info", message: "m" });
  const fx = step(m, { type: "result", value: push([text("a"), text("b")], "s1") });
  assert.deepEqual(sum(fx), ["log warn"]);
  assert.match(logsOf(fx)[0], /Ignoring push from handleInfo while connecting: 2 frame/);
  assert.equal(m.queue.length, 0);
});

Deno.test("machine: handleInfo → disconnect while disconnected only keeps the new state", () => {
  const m = toDisconnectedAfterClose(machine({ reconnect: POLICY }));
  step(m, { type: "info", message: "m" });
  assert.deepEqual(sum(step(m, { type: "result", value: disconnect("r", "s1") })), []);
  assert.equal(m.user, "s1");
  assert.equal(m.phase, "disconnected");
  assert.equal(m.timer, 1, "the reconnect timer is untouched");
});

Deno.test("machine: handleInfo → disconnect while connecting releases the attempt, no close frame", () => {
  const m = toConnecting(machine());
  step(m, { type: "info", message: "m" });
  const fx = step(m, { type: "result", value: disconnect("r", "s1") });
  assert.deepEqual(sum(fx), ["release", "call handleDisconnect"]);
  assert.deepEqual(lastCall(fx).args, [{ kind: "user", reason: "r" }, "s1"]);
});

Deno.test("machine: handleInfo → stop while disconnected terminates without close or release", () => {
  const m = machine();
  step(m, { type: "info", message: "m" });
  assert.deepEqual(sum(step(m, { type: "result", value: stop("x") })), ["terminate user"]);
});

// --- handleDisconnect ---

/** handleDisconnect pending after a remote close; `held` first calls disconnect(). */
function disconnectPending(reconnectOption: ReconnectPolicy | null, held = false): Machine {
  const m = toConnected(machine({ reconnect: reconnectOption }));
  if (held) step(m, { type: "disconnect", code: 1000, reason: "" });
  else step(m, { type: "remoteClose", conn: 1, code: 1001, reason: "" });
  assert.equal(m.pending, "handleDisconnect");
  return m;
}

Deno.test("machine: handleDisconnect → ok without the reconnect option stays disconnected", () => {
  const m = disconnectPending(null);
  assert.deepEqual(sum(step(m, { type: "result", value: ok("s1") })), []);
  assert.equal(m.user, "s1");
  assert.equal(m.timer, 0);
});

Deno.test("machine: handleDisconnect → undefined is ok with the state unchanged", () => {
  const m = disconnectPending(POLICY);
  assert.deepEqual(sum(step(m, { type: "result", value: undefined })), ["arm 1 51", "log info"]);
  assert.equal(m.user, "s0");
});

Deno.test("machine: handleDisconnect → ok with the option schedules with its backoff", () => {
  const m = disconnectPending(POLICY);
  const fx = step(m, { type: "result", value: ok("s1") });
  assert.deepEqual(sum(fx), ["arm 1 51", "log info"]);
  assert.match(logsOf(fx)[0], /Reconnecting in 51 ms \(retry 1\)/);
  assert.equal(m.retries, 1);
  assert.equal(m.timer, 1);
});

Deno.test("machine: handleDisconnect → reconnect without the option uses the default backoff", () => {
  const m = disconnectPending(null);
  const fx = step(m, { type: "result", value: reconnect("s1") });
  assert.deepEqual(sum(fx).map((s) => s.replace(/ \d+$/, " N")), ["arm 1 N", "log info"]);
  const delay = (fx[0] as Extract<Effect, { type: "arm" }>).delay;
  assert.ok(delay >= 501 && delay <= 1000, `default first delay ${delay}`);
  assert.equal(m.config.reconnect, null, "the option stays off");
});

Deno.test("machine: handleDisconnect → reconnect with the option uses the option", () => {
  const m = disconnectPending(POLICY);
  assert.deepEqual(sum(step(m, { type: "result", value: reconnect("s1") })), [
    "arm 1 51",
    "log info",
  ]);
});

Deno.test("machine: handleDisconnect → stayDisconnected overrides the option", () => {
  const m = disconnectPending(POLICY);
  assert.deepEqual(sum(step(m, { type: "result", value: stayDisconnected("s1") })), []);
  assert.equal(m.user, "s1");
  assert.equal(m.timer, 0);
  assert.equal(m.retries, 0);
});

Deno.test("machine: after disconnect() the hold flag makes ok stay disconnected even with the option (B3)", () => {
  const m = disconnectPending(POLICY, true);
  assert.equal(m.hold, true);
  assert.deepEqual(sum(step(m, { type: "result", value: ok("s1") })), []);
  assert.equal(m.timer, 0);
});

Deno.test("machine: after disconnect() handleDisconnect → reconnect still reconnects; the next attempt clears hold", () => {
  const m = disconnectPending(POLICY, true);
  assert.deepEqual(sum(step(m, { type: "result", value: reconnect("s1") })), [
    "arm 1 51",
    "log info",
  ]);
  step(m, { type: "timer", token: 1 });
  assert.equal(m.hold, false);
  // A later failure with ok reconnects again: the hold was for that one disconnect.
  step(m, { type: "error", conn: 2, error: new Error("x") });
  assert.deepEqual(sum(step(m, { type: "result", value: ok("s2") })), ["arm 2 101", "log info"]);
});

Deno.test("machine: disconnect() while connecting also holds: ok does not reconnect (B3)", () => {
  const m = toConnecting(machine({ reconnect: POLICY }));
  step(m, { type: "disconnect", code: 1000, reason: "" });
  assert.equal(m.hold, true);
  assert.deepEqual(sum(step(m, { type: "result", value: undefined })), []);
  assert.equal(m.timer, 0);
});

Deno.test("machine: connect() after disconnect() clears the hold", () => {
  const m = disconnectPending(POLICY, true);
  step(m, { type: "result", value: undefined });
  step(m, { type: "connect" });
  assert.equal(m.hold, false);
  step(m, { type: "error", conn: 2, error: new Error("x") });
  assert.deepEqual(sum(step(m, { type: "result", value: undefined })), ["arm 1 51", "log info"]);
});

Deno.test("machine: maxRetries N gives N retries, N + 1 handleDisconnect calls, then max_retries_exceeded", () => {
  const m = machine({ reconnect: { ...POLICY, maxRetries: 2 } });
  toConnecting(m);
  const delays: number[] = [];
  let calls = 0;
  let last: Effect[] = [];
  for (let attempt = 1;; attempt++) {
    const err = new Error(`fail ${attempt}`);
    last = step(m, { type: "error", conn: m.conn, error: err });
    calls++;
    const fx = step(m, { type: "result", value: undefined });
    const arm = fx.find((e) => e.type === "arm");
    if (arm === undefined || arm.type !== "arm") {
      assert.deepEqual(sum(fx), ["terminate max_retries_exceeded"]);
      assert.deepEqual(terminateOf(fx).reason, {
        kind: "max_retries_exceeded",
        retries: 2,
        lastReason: { kind: "error", error: err },
      });
      break;
    }
    delays.push(arm.delay);
    step(m, { type: "timer", token: arm.token });
  }
  assert.equal(lastCall(last).callback, "handleDisconnect");
  assert.deepEqual(delays, [51, 101]);
  assert.equal(calls, 3);
  assert.equal(m.phase, "stopped");
});

Deno.test("machine: maxRetries 0 stops after the first handleDisconnect", () => {
  const m = disconnectPending({ ...POLICY, maxRetries: 0 });
  const fx = step(m, { type: "result", value: undefined });
  assert.deepEqual(sum(fx), ["terminate max_retries_exceeded"]);
  assert.deepEqual(terminateOf(fx).reason, {
    kind: "max_retries_exceeded",
    retries: 0,
    lastReason: { kind: "remote_close", code: 1001, reason: "" },
  });
});

Deno.test("machine: maxRetries exhausted but handleDisconnect → stayDisconnected keeps the client alive", () => {
  const m = disconnectPending({ ...POLICY, maxRetries: 0 });
  assert.deepEqual(sum(step(m, { type: "result", value: stayDisconnected("s") })), []);
  assert.equal(m.phase, "disconnected");
});

Deno.test("machine: the retry log names the limit when there is one", () => {
  const m = disconnectPending({ ...POLICY, maxRetries: 5 });
  assert.match(logsOf(step(m, { type: "result", value: undefined }))[0], /retry 1 of 5/);
});

for (
  const [label, value] of [
    ["42", 42],
    ["null", null],
    ["{}", {}],
    ["push(frame, state)", push({ type: "text", data: "x" }, "s")],
    ["stop(reason)", stop("x")],
    ["{ action: 'reconnect!' }", { action: "reconnect!" }],
  ] as const
) {
  Deno.test(`machine: handleDisconnect → ${label} terminates with a TypeError naming handleDisconnect`, () => {
    const m = disconnectPending(POLICY);
    const fx = step(m, { type: "result", value });
    assert.deepEqual(sum(fx), ["terminate error"]);
    const reason = terminateOf(fx).reason as { kind: "error"; error: Error };
    assert.ok(reason.error instanceof TypeError);
    assert.match(
      reason.error.message,
      /^handleDisconnect returned an invalid result: expected ok\(state\), reconnect\(state\) or stayDisconnected\(state\)/,
    );
  });
}

Deno.test("machine: handleDisconnect throwing terminates with that error", () => {
  const m = disconnectPending(POLICY);
  const boom = new RangeError("boom");
  const fx = step(m, { type: "threw", error: boom });
  assert.deepEqual(sum(fx), ["terminate error"]);
  assert.deepEqual(terminateOf(fx).reason, { kind: "error", error: boom });
});

Deno.test("machine: an invalid result message describes the value it got", () => {
  const m = pendingIn("handleFrame");
  const fx = step(m, { type: "result", value: { action: 5 } });
  const error = (terminateOf(fx).reason as { kind: "error"; error: Error }).error;
  assert.match(error.message, /got \{ action: 5 \}$/);
});

Deno.test("machine: errors given to settle are the library's named errors", () => {
  const m = machine();
  const fx = step(m, { type: "send", frame: text("a"), reply: new R("s") });
  assert.ok(settleOf(fx, "s").error instanceof DisconnectedError);
  toConnecting(m);
  const full = toConnecting(machine({ maxQueuedFrames: 0 }));
  const fx2 = step(full, { type: "send", frame: text("a"), reply: new R("q") });
  assert.ok(settleOf(fx2, "q").error instanceof QueueFullError);
  const fx3 = step(full, { type: "connectTimeout", conn: full.conn });
  assert.deepEqual(sum(fx3), ["release", "call handleDisconnect"]);
  step(full, { type: "result", value: undefined });
  const m4 = toConnecting(machine());
  step(m4, { type: "send", frame: text("a"), reply: new R("c") });
  const fx4 = step(m4, { type: "error", conn: 1, error: new Error("x") });
  assert.ok(settleOf(fx4, "c").error instanceof ConnectionError);
  const m5 = toConnecting(machine());
  step(m5, { type: "send", frame: text("a"), reply: new R("s") });
  const fx5 = step(m5, { type: "stop", reason: { kind: "normal" } });
  assert.ok(settleOf(fx5, "s").error instanceof ClientStoppedError);
});

// --- starting and stopping outside the callbacks ---

Deno.test("machine: start sets the user state init gave and opens the first connection", () => {
  const m = machine({}, undefined);
  assert.deepEqual(sum(step(m, { type: "start", user: { n: 1 } })), ["open 1 5000"]);
  assert.equal(m.phase, "connecting");
  assert.deepEqual(m.user, { n: 1 });
  assert.deepEqual(lastCall(step(m, { type: "opened", conn: 1, info: INFO })).args, [
    { n: 1 },
    INFO,
  ]);
});

Deno.test("machine: a quiet stop (a refused start) terminates with quiet set; a plain stop without it", () => {
  const quiet = step(machine(), { type: "stop", reason: { kind: "normal" }, quiet: true });
  assert.deepEqual(terminateOf(quiet), {
    type: "terminate",
    reason: { kind: "normal" },
    quiet: true,
  });
  const plain = step(machine(), { type: "stop", reason: { kind: "normal" } });
  assert.deepEqual(terminateOf(plain), { type: "terminate", reason: { kind: "normal" } });
});

Deno.test("machine: internalError stops the client with the error even while a callback runs, and not twice", () => {
  const m = inState("connected");
  step(m, { type: "info", message: 1 });
  const boom = new Error("driver bug");
  const fx = step(m, { type: "internalError", error: boom });
  assert.deepEqual(sum(fx), ['close 1000 ""', "terminate error"]);
  assert.deepEqual(terminateOf(fx).reason, { kind: "error", error: boom });
  assert.equal(m.phase, "stopped");
  assert.equal(m.pending, null);
  assert.deepEqual(step(m, { type: "internalError", error: boom }), []);
});
