// The seed's test/parley_test.exs (spec §3.2, v0.3.0 and [main]), one Deno.test per seed test,
// against real servers on loopback. Where our design differs from the seed on purpose, the test
// checks OUR behaviour and its name says "changed".

import assert from "node:assert/strict";
import {
  type Callbacks,
  type ClientDefinition,
  type ClientOptions,
  ClientStoppedError,
  ConnectionError,
  defineClient,
  disconnectClient,
  DisconnectedError,
  HandshakeError,
  NameTakenError,
  ok,
  push,
  sendFrame,
  sendInfo,
  silentLogger,
  stop,
  type StopReason,
  supervise,
  UnsupportedError,
  whereis,
} from "../../mod.ts";
import {
  nextDisconnect,
  Recorder,
  recordingCallbacks,
  recordingLogger,
  sleep,
  waitFor,
} from "../support/recorder.ts";
import {
  freePort,
  startDenoServer,
  startGarbageServer,
  startSilentServer,
  startWsServer,
  type TestServer,
} from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

type AnyCallbacks = Callbacks<unknown, unknown, unknown>;

/** The transport the running test uses unless its options choose one. */
let TRANSPORT: "socket" | "web" | undefined;

/**
 * Registers `fn` twice, once per transport; the name says which. Tests that choose their
 * transport in their options use `Deno.test` instead.
 */
function test(name: string, fn: () => Promise<void>): void {
  for (const transport of ["socket", "web"] as const) {
    Deno.test(`${name} [${transport}]`, async () => {
      TRANSPORT = transport;
      try {
        await fn();
      } finally {
        TRANSPORT = undefined;
      }
    });
  }
}

/**
 * The seed's Parley.Test.Client: recordingCallbacks as a client definition, started on the
 * test's transport unless the options choose one. On the web transport, which cannot see pings,
 * there is no handlePing (it would be refused at start).
 */
const recordingClient = (rec: Recorder, overrides: AnyCallbacks = {}) => {
  const forTransport = (options: ClientOptions) => {
    const transport = options.transport ?? TRANSPORT;
    const callbacks = recordingCallbacks(rec, overrides);
    if (transport === "web") delete callbacks.handlePing;
    return [
      defineClient<unknown, unknown, unknown>(callbacks),
      transport === undefined ? options : { transport, ...options },
    ] as const;
  };
  const definition: ClientDefinition<unknown, unknown, unknown> = {
    callbacks: recordingCallbacks(rec, overrides),
    start: (initArg, options) => {
      const [d, o] = forTransport(options);
      return d.start(initArg, o);
    },
    childSpec: (initArg, options, spec) => {
      const [d, o] = forTransport(options);
      return d.childSpec(initArg, o, spec);
    },
  };
  return definition;
};

const text = (data: string) => ({ type: "text", data }) as const;

/** Waits for the next text frame `data` in the recorder. */
function nextText(rec: Recorder, data: string, timeout = 2000) {
  return rec.next(
    "frame",
    timeout,
    (v) =>
      (v as { type: string; data: unknown }).type === "text" &&
      (v as { data: unknown }).data === data,
  );
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

const SERVERS = [["npm:ws", startWsServer], ["Deno.serve", startDenoServer]] as const;

// ---------------------------------------------------------------------------------------------
// Connecting and echo

test("handleConnect runs after a successful connect [T:17]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start("s", { url: server.url() });
  try {
    const { value, state } = await rec.next("connected");
    const info = value as { url: string; protocol: string };
    assert.equal(state, "s");
    assert.equal(info.url, server.url());
    assert.equal(info.protocol, "");
    assert.equal(conn.state, "connected");
    assert.equal(server.openCount(), 1);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("a text frame is echoed and reaches handleFrame as text [T:27]", async () => {
  for (const [label, start] of SERVERS) {
    const server: TestServer = await start();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, { url: server.url() });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("hello"));
      assert.deepEqual((await rec.next("frame")).value, text("hello"), label);
      assert.deepEqual(server.received, ["hello"], label);
    } finally {
      await conn.stop();
      await server.close();
    }
  }
});

test("a binary frame is echoed as a Uint8Array [T:37]", async () => {
  for (const [label, start] of SERVERS) {
    const server: TestServer = await start();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, { url: server.url() });
    try {
      await rec.next("connected");
      await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3]) });
      const frame = (await rec.next("frame")).value as { type: string; data: Uint8Array };
      assert.equal(frame.type, "binary", label);
      assert.ok(frame.data instanceof Uint8Array, label);
      assert.deepEqual([...frame.data], [1, 2, 3], label);
    } finally {
      await conn.stop();
      await server.close();
    }
  }
});

test("three frames sent in sequence are echoed in the same order [T:47]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    for (const m of ["one", "two", "three"]) await conn.sendFrame(text(m));
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await rec.next("frame")).value);
    assert.deepEqual(got, [text("one"), text("two"), text("three")]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// sendFrameAsync [main]

test("sendFrameAsync returns at once and the frame is sent [T:64]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    const returned: unknown = conn.sendFrameAsync(text("async hello"));
    assert.equal(returned, undefined);
    assert.deepEqual((await rec.next("frame")).value, text("async hello"));
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("sendFrameAsync while disconnected returns, drops the frame and warns [T:74]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const logger = recordingLogger();
  const conn = await recordingClient(rec).start(null, { url: server.url(), logger });
  try {
    await rec.next("connected");
    await conn.disconnect();
    await rec.next("disconnected");
    const returned: unknown = conn.sendFrameAsync(text("dropped"));
    assert.equal(returned, undefined);
    await waitFor(
      () => logger.messages.some((m) => m.level === "warn" && /Dropping frame/.test(m.message)),
      "a warning about the dropped frame",
    );
    const warning = logger.messages.find((m) => m.level === "warn")!;
    assert.match(warning.message, /sendFrameAsync/);
    assert.match(warning.message, /disconnected/);
    await rec.none("frame", 50);
    assert.deepEqual(server.received, []);
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("three sendFrameAsync calls arrive in order [T:85]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    conn.sendFrameAsync(text("a1"));
    conn.sendFrameAsync(text("a2"));
    conn.sendFrameAsync(text("a3"));
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await rec.next("frame")).value);
    assert.deepEqual(got, [text("a1"), text("a2"), text("a3")]);
    assert.deepEqual(server.received, ["a1", "a2", "a3"]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "a sendFrameAsync queued while connecting is dropped with a warning on connect timeout [T:100]",
  async () => {
    const server = await startSilentServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    const conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 200,
      closeTimeout: 200,
      logger,
    });
    try {
      conn.sendFrameAsync(text("queued"));
      assert.deepEqual(await nextDisconnect(rec), { kind: "connect_timeout", timeout: 200 });
      assert.ok(
        logger.messages.some((m) =>
          m.level === "warn" && /Dropping 1 frame\(s\) from sendFrameAsync/.test(m.message)
        ),
        JSON.stringify(logger.messages),
      );
      assert.equal(rec.all("connected").length, 0);
      assert.equal(conn.state, "disconnected");
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

// ---------------------------------------------------------------------------------------------
// disconnect

test("disconnect() while connected leads to handleDisconnect(closed) [T:123]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.disconnect();
    assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
    assert.equal(conn.state, "disconnected");
    await waitFor(() => server.closes.length === 1, "the server to see the close");
    assert.deepEqual(server.closes, [{ code: 1000, reason: "" }]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("after disconnect, sendFrame rejects with DisconnectedError [T:131]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.disconnect();
    await rec.next("disconnected");
    await assert.rejects(conn.sendFrame(text("late")), DisconnectedError);
    assert.deepEqual(server.received, []);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("disconnect() while already disconnected resolves, no new callback [T:141]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.disconnect();
    await rec.next("disconnected");
    assert.equal(await conn.disconnect(), undefined);
    await rec.none("disconnected", 100);
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "unreachable host: handleDisconnect(error), the client stays alive and connect() rejects " +
    "[T:153, changed: stays alive]",
  async () => {
    const port = await freePort();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, {
      url: `ws://127.0.0.1:${port}/ws`,
      connectTimeout: 2000,
    });
    try {
      const reason = await nextDisconnect(rec);
      assert.equal(reason.kind, "error");
      assert.ok(reason.kind === "error" && reason.error instanceof Error);
      assert.equal(conn.state, "disconnected");
      // No automatic retry without the reconnect option.
      await rec.none("disconnected", 100);
      assert.equal(conn.state, "disconnected");
      const err = await conn.connect().then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.reason.kind, "error");
      assert.equal((await nextDisconnect(rec)).kind, "error");
      assert.equal(conn.state, "disconnected");
    } finally {
      await conn.stop();
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Server-side endings and failed connects

test("stopping the server gives handleDisconnect(remote_close); the client stays alive [T:160]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  let serverClosed = false;
  try {
    await rec.next("connected");
    await server.close();
    serverClosed = true;
    assert.deepEqual(await nextDisconnect(rec), {
      kind: "remote_close",
      code: 1001,
      reason: "going away",
    });
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    if (!serverClosed) await server.close();
  }
});

test("a server-initiated close gives remote_close 1000 'normal closure' [T:175]", async () => {
  for (const [label, start] of SERVERS) {
    const server: TestServer = await start();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, { url: server.url() });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("close"));
      assert.deepEqual(
        await nextDisconnect(rec),
        { kind: "remote_close", code: 1000, reason: "normal closure" },
        label,
      );
      assert.equal(conn.state, "disconnected", label);
    } finally {
      await conn.stop();
      await server.close();
    }
  }
});

test("a 403 on the upgrade gives handleDisconnect(error); the client stays alive [T:185]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url("/reject") });
  try {
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    // The web transport leaves `status` unset; the runtime's message carries the code.
    assert.match(reason.error.message, /403/);
    assert.equal(conn.state, "disconnected");
    assert.equal(rec.all("connected").length, 0);
    assert.equal(server.requests.length, 1);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("garbage HTTP while connecting gives handleDisconnect(error); alive [T:196]", async () => {
  const server = await startGarbageServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url(), connectTimeout: 2000 });
  try {
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("the server dropping TCP without a close frame gives handleDisconnect(error); alive [T:223]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.sendFrame(text("crash"));
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && /1006|lost/.test(reason.error.message));
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("a server that never answers the upgrade gives connect_timeout after about 100 ms; alive [T:236]", async () => {
  const server = await startSilentServer();
  const rec = new Recorder();
  const t0 = performance.now();
  const conn = await recordingClient(rec).start(null, {
    url: server.url(),
    connectTimeout: 100,
    closeTimeout: 200,
  });
  try {
    const { value, at } = await rec.next("disconnected");
    assert.deepEqual(value, { kind: "connect_timeout", timeout: 100 });
    const elapsed = at - t0;
    assert.ok(elapsed >= 90 && elapsed < 1000, `connect_timeout after ${elapsed} ms`);
    assert.equal(conn.state, "disconnected");
    await rec.none("disconnected", 50);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "a sendFrame queued while connecting rejects when the connect times out " +
    "[T:255, changed: ConnectionError, not a generic disconnected]",
  async () => {
    const server = await startSilentServer();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, {
      url: server.url(),
      connectTimeout: 150,
      closeTimeout: 200,
    });
    try {
      const err = await conn.sendFrame(text("queued")).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ConnectionError, String(err));
      assert.deepEqual(err.reason, { kind: "connect_timeout", timeout: 150 });
      assert.deepEqual(await nextDisconnect(rec), { kind: "connect_timeout", timeout: 150 });
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

test("a custom initial state reaches the callbacks [T:276]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const initial = { user: "ada", count: 7 };
  const seen: unknown[] = [];
  const conn = await recordingClient(rec, {
    handleFrame: (_frame, state) => {
      seen.push(state);
      return ok(state);
    },
  }).start(initial, { url: server.url() });
  try {
    const { state } = await rec.next("connected");
    assert.equal(state, initial);
    await conn.sendFrame(text("x"));
    await rec.next("frame");
    assert.equal(seen[0], initial);
  } finally {
    await conn.stop();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Names and supervision

test("a string name registers the client; sendFrame and disconnect work by name [T:285]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const name = "seed-T285";
  const conn = await recordingClient(rec).start(null, { url: server.url(), name });
  try {
    await rec.next("connected");
    assert.equal(whereis(name), conn);
    assert.equal(conn.name, name);
    await sendFrame(name, text("by name"));
    assert.deepEqual((await rec.next("frame")).value, text("by name"));
    await disconnectClient(name);
    assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
    // Still registered while alive; released once stopped.
    assert.equal(whereis(name), conn);
    await conn.stop();
    assert.equal(whereis(name), undefined);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("a duplicate name rejects with NameTakenError holding the first client [T:295]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const Client = recordingClient(rec);
  const name = "seed-T295";
  const first = await Client.start(null, { url: server.url(), name });
  try {
    await rec.next("connected");
    const err = await Client.start(null, { url: server.url(), name }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NameTakenError, String(err));
    assert.equal(err.existing, first);
    assert.equal(whereis(name), first);
    // The refused client never connected.
    await rec.none("connected", 50);
    assert.equal(server.requests.length, 1);
  } finally {
    await first.stop();
    await server.close();
  }
});

test("name: 123 rejects with a TypeError matching /expected name/ [T:305]", async () => {
  const Client = defineClient({});
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    Client.start(null, { url: "ws://127.0.0.1:1/ws", name: 123 as any }),
    (e: unknown) => e instanceof TypeError && /expected name/.test(e.message),
  );
});

test("a { global } name registers the client and works by name [T:311]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const name = { global: "seed-T311" };
  const conn = await recordingClient(rec).start(null, { url: server.url(), name });
  try {
    await rec.next("connected");
    assert.equal(whereis({ global: "seed-T311" }), conn);
    // The local and the global registry are separate.
    assert.equal(whereis("seed-T311"), undefined);
    await sendFrame({ global: "seed-T311" }, text("global"));
    assert.deepEqual((await rec.next("frame")).value, text("global"));
    assert.equal(sendInfo({ global: "seed-T311" }, "note"), true);
    assert.equal((await rec.next("info")).value, "note");
  } finally {
    await conn.stop();
    await server.close();
  }
  assert.equal(whereis({ global: "seed-T311" }), undefined);
});

test(
  "childSpec(arg, options) gives { id, restart, start } [T:325, changed: id from the name, restart transient]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const named = Client.childSpec("arg", { url: server.url(), name: "seed-T325" });
    assert.deepEqual(Object.keys(named).sort(), ["id", "restart", "start"]);
    assert.equal(named.id, "seed-T325");
    assert.equal(named.restart, "transient");
    assert.equal(typeof named.start, "function");
    const anonymous = Client.childSpec("arg", { url: server.url() });
    assert.equal(anonymous.id, "client");
    assert.equal(anonymous.restart, "transient");
    // start() starts the client with exactly the argument and options given.
    const conn = await named.start();
    try {
      const { state } = await rec.next("connected");
      assert.equal(state, "arg");
      assert.equal(whereis("seed-T325"), conn);
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

test("a named client starts under supervise and exchanges frames [T:334]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const name = "seed-T334";
  const sup = await supervise(
    [recordingClient(rec).childSpec(null, { url: server.url(), name })],
    { maxRestarts: 3, period: 5000, logger: silentLogger },
  );
  try {
    await rec.next("connected");
    const conn = sup.child(name);
    assert.ok(conn !== undefined);
    assert.equal(whereis(name), conn);
    assert.deepEqual(sup.children().map((c) => [c.id, c.restarts]), [[name, 0]]);
    await sendFrame(name, text("supervised"));
    assert.deepEqual((await rec.next("frame")).value, text("supervised"));
  } finally {
    assert.deepEqual(await sup.stop(), { kind: "normal" });
    await server.close();
  }
  assert.equal(whereis(name), undefined);
});

test(
  "the child spec can be overridden: id and restart, or a hand-written spec [T:348, changed: third argument]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const a = Client.childSpec("a", { url: server.url() }, { id: "first", restart: "permanent" });
    assert.equal(a.id, "first");
    assert.equal(a.restart, "permanent");
    // The seed could hold one child per module; ids make two of the same definition possible.
    const b = Client.childSpec("b", { url: server.url() }, { id: "second", restart: "temporary" });
    const custom = {
      id: "custom",
      restart: "transient" as const,
      start: () => Client.start("c", { url: server.url() }),
    };
    const sup = await supervise([a, b, custom], { logger: silentLogger });
    try {
      const states = [];
      for (let i = 0; i < 3; i++) {
        states.push((await rec.next("connected")).state);
      }
      assert.deepEqual(states.sort(), ["a", "b", "c"]);
      assert.deepEqual(sup.children().map((c) => c.id), ["first", "second", "custom"]);
      // "permanent" restarts even after a normal stop.
      const firstClient = sup.child("first")!;
      await firstClient.stop();
      await waitFor(
        () => sup.child("first") !== undefined && sup.child("first") !== firstClient,
        "the permanent child to restart",
      );
      assert.equal(sup.children()[0].restarts, 1);
      // "temporary" never restarts.
      await sup.child("second")!.stop();
      await sleep(50);
      assert.equal(sup.child("second"), undefined);
    } finally {
      await sup.stop();
      await server.close();
    }
  },
);

test(
  "start gives an independent client: its crash does not reach the caller " +
    "[T:363, changed: start and start_link are one start]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    const Client = recordingClient(rec, {
      handleFrame: (frame, state) => {
        if (frame.type === "text" && frame.data === "boom") throw new Error("boom");
        return ok(state);
      },
    });
    const conn = await Client.start(null, { url: server.url(), logger });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("works"));
      assert.deepEqual((await rec.next("frame")).value, text("works"));
      await conn.sendFrame(text("boom"));
      const reason = await conn.stopped;
      assert.equal(reason.kind, "error");
      assert.ok(reason.kind === "error" && (reason.error as Error).message === "boom");
      assert.equal(conn.state, "stopped");
      assert.ok(logger.messages.some((m) => m.level === "error" && /boom/.test(m.message)));
      await assert.rejects(conn.sendFrame(text("after")), ClientStoppedError);
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Callback results

test("handleConnect push sends the frame right after connecting [T:375]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleConnect: (state) => {
      return push(text("hello from connect"), state);
    },
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    assert.deepEqual((await rec.next("frame")).value, text("hello from connect"));
    assert.deepEqual(server.received, ["hello from connect"]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleConnect stop('rejected') stops the client with that reason [T:408]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleConnect: (state) => {
      return stop("rejected", state);
    },
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    assert.deepEqual(await conn.stopped, { kind: "user", reason: "rejected" });
    assert.equal(conn.state, "stopped");
    assert.equal(rec.all("disconnected").length, 0);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleFrame push sends a reply frame [T:426]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleFrame: (frame, state) => {
      if (frame.type === "text" && frame.data === "hello") return push(text("reply"), state);
      return ok(state);
    },
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.sendFrame(text("hello"));
    await nextText(rec, "hello");
    await nextText(rec, "reply");
    assert.deepEqual(server.received, ["hello", "reply"]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleFrame stop('done') stops the client with that reason [T:465]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleFrame: (frame, state) => {
      return frame.type === "text" && frame.data === "stop" ? stop("done", state) : ok(state);
    },
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.sendFrame(text("stop"));
    assert.deepEqual(await conn.stopped, { kind: "user", reason: "done" });
    assert.equal(conn.state, "stopped");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "a handleFrame push on a dead connection gives handleDisconnect(error); alive [T:496]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    const conn = await recordingClient(rec, {
      handleFrame: async (frame, state) => {
        if (frame.type === "text" && frame.data === "push_this") {
          await sleep(150); // the server drops the connection 10 ms after "push_this"
          return push(text("too late"), state);
        }
        return ok(state);
      },
    }).start(null, { url: server.url(), logger });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("send_and_crash"));
      await nextText(rec, "push_this");
      const reason = await nextDisconnect(rec);
      assert.equal(reason.kind, "error");
      assert.equal(conn.state, "disconnected");
      assert.ok(
        logger.messages.some((m) =>
          m.level === "warn" && /handleFrame could not be sent/.test(m.message)
        ),
        JSON.stringify(logger.messages),
      );
      assert.ok(!server.received.includes("too late"));
      await rec.none("disconnected", 50);
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

test("init transforms the argument (21 -> 42) before handleConnect sees it [T:545]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    init: (n) => ok((n as number) * 2),
  }).start(21, { url: server.url() });
  try {
    const { state } = await rec.next("connected");
    assert.equal(state, 42);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "init stop('bad_arg') makes start reject with ClientStoppedError, nothing connects [T:569]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    try {
      const err = await recordingClient(rec, { init: () => stop("bad_arg") })
        .start(null, { url: server.url(), name: "seed-T569" })
        .then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ClientStoppedError, String(err));
      assert.equal(err.cause, "bad_arg");
      assert.deepEqual(err.reason, { kind: "user", reason: "bad_arg" });
      assert.equal(whereis("seed-T569"), undefined);
      await rec.none("connected", 50);
      assert.equal(server.requests.length, 0);
    } finally {
      await server.close();
    }
  },
);

// ---------------------------------------------------------------------------------------------
// handleInfo

test("handleInfo receives messages while connected [T:585]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const seen: string[] = [];
  const conn = await recordingClient(rec, {
    handleInfo: (_message, state) => {
      seen.push(conn.state);
      return ok(state);
    },
  }).start(null, { url: server.url(), name: "seed-T585" });
  try {
    await rec.next("connected");
    conn.info({ hello: "world" });
    assert.deepEqual((await rec.next("info")).value, { hello: "world" });
    assert.equal(sendInfo("seed-T585", "by name"), true);
    assert.equal((await rec.next("info")).value, "by name");
    assert.deepEqual(seen, ["connected", "connected"]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleInfo push sends while connected (a heartbeat) [T:617]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleInfo: (message, state) =>
      message === "heartbeat" ? push(text("heartbeat"), state) : ok(state),
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    conn.info("heartbeat");
    await nextText(rec, "heartbeat");
    conn.info("heartbeat");
    await nextText(rec, "heartbeat");
    assert.deepEqual(server.received, ["heartbeat", "heartbeat"]);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleInfo stop('info_stop') stops the client with that reason [T:655]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handleInfo: (_message, state) => stop("info_stop", state),
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    conn.info("please stop");
    const reason: StopReason = await conn.stopped;
    assert.deepEqual(reason, { kind: "user", reason: "info_stop" });
    assert.equal(conn.state, "stopped");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("handleInfo receives messages while disconnected [T:680]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  let phase = "";
  const conn = await recordingClient(rec, {
    handleInfo: (_message, state) => {
      phase = conn.state;
      return ok(state);
    },
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.disconnect();
    await rec.next("disconnected");
    conn.info("while down");
    assert.equal((await rec.next("info")).value, "while down");
    assert.equal(phase, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Pings. The web transport (the runtime's WebSocket) answers pings itself and cannot show them to
// the client, nor send them; handlePing with real pings is tested with a scripted transport.

/** handleFrame answers the text "ping me" by pushing a ping "p", then the text "pushed". */
const pushesPingWhenAsked: AnyCallbacks = {
  handleFrame: (frame, state) => {
    if (frame.type === "text" && frame.data === "ping me") {
      return push([{ type: "ping", data: new TextEncoder().encode("p") }, text("pushed")], state);
    }
    return ok(state);
  },
};

test("a server ping leaves the connection working [T:719]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    server.pingAll(new TextEncoder().encode("hb"));
    await conn.sendFrame(text("send_ping:x"));
    await conn.sendFrame(text("still here"));
    assert.deepEqual((await rec.next("frame")).value, text("still here"));
    assert.equal(conn.state, "connected");
    assert.equal(rec.all("disconnected").length, 0);
  } finally {
    await conn.stop();
    await server.close();
  }
});

Deno.test(
  "a server ping with payload 'hello' is answered by the runtime; handlePing is not called " +
    "[T:733, changed: the web transport cannot observe pings]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, { url: server.url(), transport: "web" });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("send_ping:hello"));
      await conn.sendFrame(text("after ping"));
      await nextText(rec, "after ping");
      await rec.none("ping", 100);
      assert.equal(conn.state, "connected");
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

Deno.test(
  "ping frames cannot be sent: sendFrame rejects with UnsupportedError and a pushed ping is " +
    "dropped with a warning, the connection stays [T:771, changed: the web transport has no ping API]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const logger = recordingLogger();
    const conn = await recordingClient(rec, pushesPingWhenAsked).start(null, {
      url: server.url(),
      logger,
      transport: "web",
    });
    try {
      await rec.next("connected");
      await assert.rejects(conn.sendFrame({ type: "ping" }), UnsupportedError);
      await assert.rejects(conn.sendFrame({ type: "pong" }), UnsupportedError);
      await conn.sendFrame(text("ping me"));
      await nextText(rec, "ping me");
      // The ping is dropped, the text after it still goes out.
      await nextText(rec, "pushed");
      assert.ok(
        logger.messages.some((m) =>
          m.level === "warn" && /Dropping frame from handleFrame/.test(m.message) &&
          /ping/.test(m.message)
        ),
        JSON.stringify(logger.messages),
      );
      assert.equal(conn.state, "connected");
      assert.equal(rec.all("disconnected").length, 0);
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

Deno.test(
  "a server ping with payload 'hello' reaches handlePing after the pong went out " +
    "(socket transport, chosen by auto for handlePing) [T:733]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, { url: server.url() });
    try {
      await rec.next("connected");
      await conn.sendFrame(text("send_ping:hello"));
      const ping = await rec.next("ping");
      assert.deepEqual(ping.value, new TextEncoder().encode("hello"));
      await waitFor(() => server.pongs.length === 1, "the pong");
      assert.deepEqual(server.pongs[0], new TextEncoder().encode("hello"));
      assert.equal(conn.state, "connected");
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

Deno.test(
  "ping and pong frames are sent with sendFrame and push on the socket transport [T:771]",
  async () => {
    const server = await startWsServer();
    const rec = new Recorder();
    const conn = await recordingClient(rec, pushesPingWhenAsked).start(null, {
      url: server.url(),
      transport: "socket",
    });
    try {
      await rec.next("connected");
      await conn.sendFrame({ type: "ping" });
      await conn.sendFrame({ type: "pong", data: new TextEncoder().encode("unsolicited") });
      // The server's pong to our ping reaches handleFrame.
      assert.deepEqual((await rec.next("frame")).value, { type: "pong", data: new Uint8Array(0) });
      await conn.sendFrame(text("ping me"));
      await nextText(rec, "ping me");
      assert.deepEqual((await rec.next("frame")).value, {
        type: "pong",
        data: new TextEncoder().encode("p"),
      });
      await nextText(rec, "pushed");
      assert.deepEqual(server.pings, [new Uint8Array(0), new TextEncoder().encode("p")]);
      assert.deepEqual(server.pongs, [new TextEncoder().encode("unsolicited")]);
      await assert.rejects(
        conn.sendFrame({ type: "ping", data: new Uint8Array(126) }),
        RangeError,
      );
      assert.equal(conn.state, "connected");
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

Deno.test(
  "ping frames on the web transport: sendFrame rejects with UnsupportedError naming the socket transport",
  async () => {
    const server = await startWsServer();
    const conn = await defineClient({}).start(null, { url: server.url(), transport: "web" });
    try {
      await assert.rejects(
        conn.sendFrame({ type: "ping" }),
        (e: unknown) => e instanceof UnsupportedError && /transport: "socket"/.test(e.message),
      );
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

Deno.test("handlePing returning stop stops the client with that reason [T:809]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec, {
    handlePing: (_payload, state) => stop("ping_stop", state),
  }).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    await conn.sendFrame(text("send_ping:stop"));
    assert.deepEqual(await conn.stopped, { kind: "user", reason: "ping_stop" });
    assert.equal(conn.state, "stopped");
  } finally {
    await conn.stop();
    await server.close();
  }
});

Deno.test(
  'handlePing with transport: "web" is refused at start with UnsupportedError (the web transport cannot see pings)',
  async () => {
    await assert.rejects(
      defineClient({ handlePing: (_p: Uint8Array, s: unknown) => ok(s) }).start(null, {
        url: "ws://127.0.0.1:1/ws",
        transport: "web",
      }),
      (e: unknown) => e instanceof UnsupportedError && /handlePing/.test(e.message),
    );
  },
);

// ---------------------------------------------------------------------------------------------
// Options

test("the headers option is sent on the upgrade (the auth route accepts) [T:839]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, {
    url: server.url("/ws/auth"),
    headers: { authorization: "Bearer t0ken", "x-client": "parley" },
  });
  try {
    await rec.next("connected");
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].path, "/ws/auth");
    assert.equal(server.requests[0].headers["authorization"], "Bearer t0ken");
    assert.equal(server.requests[0].headers["x-client"], "parley");
    await conn.sendFrame(text("authed"));
    assert.deepEqual((await rec.next("frame")).value, text("authed"));
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("the auth route without headers gives handleDisconnect(error) (401); alive [T:854]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url("/ws/auth") });
  try {
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    assert.match(reason.error.message, /401/);
    assert.equal(conn.state, "disconnected");
    assert.equal(rec.all("connected").length, 0);
    assert.equal(server.requests[0].headers["authorization"], undefined);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test(
  "transport_opts is rejected as an unknown option with a hint to transportOptions; unknown " +
    "transportOptions keys are refused too [T:866, changed: camelCase, TLS settings only]",
  async () => {
    const Client = defineClient({});
    await assert.rejects(
      Client.start(null, {
        url: "ws://127.0.0.1:1/ws",
        transport_opts: { send_timeout: 30_000 },
      } as unknown as { url: string }),
      (e: unknown) =>
        e instanceof TypeError && e.message.includes(`"transport_opts" is unknown`) &&
        /transportOptions/.test(e.message),
    );
    await assert.rejects(
      Client.start(null, {
        url: "ws://127.0.0.1:1/ws",
        transportOptions: { send_timeout: 30_000 },
      } as unknown as { url: string }),
      (e: unknown) => e instanceof TypeError && /"send_timeout" is unknown/.test(e.message),
    );
  },
);

test(
  "protocols is rejected with a hint to subprotocols; subprotocols are offered and negotiated " +
    "[T:880, changed: subprotocols]",
  async () => {
    const Client = defineClient({});
    await assert.rejects(
      Client.start(null, {
        url: "ws://127.0.0.1:1/ws",
        protocols: ["http1"],
      } as unknown as { url: string }),
      (e: unknown) =>
        e instanceof TypeError && /"protocols" is unknown/.test(e.message) &&
        /"subprotocols"/.test(e.message),
    );
    const server = await startWsServer();
    const rec = new Recorder();
    const conn = await recordingClient(rec).start(null, {
      url: server.url(),
      subprotocols: ["chat", "superchat"],
    });
    try {
      const info = (await rec.next("connected")).value as { protocol: string };
      assert.equal(info.protocol, "chat"); // npm:ws picks the first one offered
      assert.match(server.requests[0].headers["sec-websocket-protocol"], /chat, ?superchat/);
    } finally {
      await conn.stop();
      await server.close();
    }
  },
);

test(
  "start and a child spec forward connection options (headers) [T:892, changed: one start]",
  async () => {
    const server = await startDenoServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const options = {
      url: server.url("/ws/auth"),
      headers: [["authorization", "Bearer deno"]] as Array<[string, string]>,
    };
    const conn = await Client.start(null, options);
    let viaSpec: Awaited<ReturnType<typeof Client.start>> | undefined;
    try {
      await rec.next("connected");
      viaSpec = await Client.childSpec(null, options).start();
      await rec.next("connected");
      assert.equal(server.requests.length, 2);
      for (const r of server.requests) {
        assert.equal(r.path, "/ws/auth");
        assert.equal(r.headers["authorization"], "Bearer deno");
      }
      await viaSpec.sendFrame(text("via spec"));
      assert.deepEqual((await rec.next("frame")).value, text("via spec"));
    } finally {
      await viaSpec?.stop();
      await conn.stop();
      await server.close();
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Large frames and concurrency [main]

test("a 100 000-byte text frame round-trips [T:906]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    const big = "x".repeat(50_000) + "é".repeat(25_000); // 100 000 bytes of UTF-8
    assert.equal(new TextEncoder().encode(big).length, 100_000);
    await conn.sendFrame(text(big));
    const frame = (await rec.next("frame")).value as { type: string; data: string };
    assert.equal(frame.type, "text");
    assert.equal(frame.data.length, big.length);
    assert.ok(frame.data === big);
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("100 000 random bytes round-trip as binary [T:917]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    const bytes = randomBytes(100_000);
    await conn.sendFrame({ type: "binary", data: bytes });
    const frame = (await rec.next("frame")).value as { type: string; data: Uint8Array };
    assert.equal(frame.type, "binary");
    assert.equal(frame.data.length, 100_000);
    assert.ok(frame.data.every((b, i) => b === bytes[i]), "payload differs");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("10 concurrent sendFrame callers all resolve and all 10 are echoed [T:930]", async () => {
  const server = await startWsServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, { url: server.url() });
  try {
    await rec.next("connected");
    const messages = Array.from({ length: 10 }, (_, i) => `msg-${i}`);
    const results = await Promise.all(messages.map((m) => conn.sendFrame(text(m))));
    assert.deepEqual(results, Array(10).fill(undefined));
    const echoed: string[] = [];
    for (let i = 0; i < 10; i++) {
      echoed.push(((await rec.next("frame")).value as { data: string }).data);
    }
    assert.deepEqual([...echoed].sort(), [...messages].sort());
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("disconnect() while connecting resolves, then handleDisconnect(closed); alive [T:959]", async () => {
  const server = await startSilentServer();
  const rec = new Recorder();
  const conn = await recordingClient(rec).start(null, {
    url: server.url(),
    connectTimeout: 2000,
    closeTimeout: 200,
  });
  try {
    await waitFor(() => conn.state === "connecting", "the client to be connecting");
    assert.equal(await conn.disconnect(), undefined);
    assert.deepEqual(await nextDisconnect(rec), { kind: "closed" });
    assert.equal(conn.state, "disconnected");
    // No reconnect, no connect_timeout later from the dropped attempt.
    await rec.none("disconnected", 100);
    assert.equal(conn.state, "disconnected");
  } finally {
    await conn.stop();
    await server.close();
  }
});

test("a missing url rejects with a TypeError naming url [T:981, changed: TypeError]", async () => {
  const Client = defineClient({});
  await assert.rejects(
    Client.start(null, {} as unknown as { url: string }),
    (e: unknown) => e instanceof TypeError && /"url"/.test(e.message) && /required/.test(e.message),
  );
});
