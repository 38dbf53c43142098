// Runs each example as a subprocess and checks its transcript, so a broken feature fails here.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const TIME_LIMIT = 10_000;

async function runExample(file: string): Promise<string> {
  const path = `${root}examples/${file}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", path],
    cwd: root,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, TIME_LIMIT);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  const detail = `\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  assert.ok(!timedOut, `examples/${file} did not exit within ${TIME_LIMIT} ms${detail}`);
  assert.equal(code, 0, `examples/${file} exited with ${code}${detail}`);
  // The client's default logger writes warnings and errors to stderr: there should be none.
  assert.doesNotMatch(err, /warn|error|uncaught|leak/i, `examples/${file} complained${detail}`);
  return out;
}

/** Asserts that `patterns` match lines of `out` in this order. */
function assertLinesInOrder(out: string, patterns: (string | RegExp)[]): void {
  const lines = out.split("\n");
  let at = 0;
  for (const p of patterns) {
    const found = lines.findIndex((line, i) =>
      i >= at && (typeof p === "string" ? line.includes(p) : p.test(line))
    );
    assert.ok(found !== -1, `expected a line matching ${p} after line ${at} in:\n${out}`);
    at = found + 1;
  }
}

/**
 * Registers the test "examples/`file` `does`": it runs the example and expects lines matching
 * `patterns` in its output, in this order.
 */
function testTranscript(file: string, does: string, patterns: (string | RegExp)[]): void {
  Deno.test(`examples/${file} ${does}`, async () => {
    assertLinesInOrder(await runExample(file), patterns);
  });
}

testTranscript("echo.ts", "echoes text and binary, then stops", [
  /^connected to ws:\/\/127\.0\.0\.1:\d+\/$/,
  "echo (text): hello, parley",
  "echo (binary): [1, 2, 3, 255]",
  'stopped: {"kind":"normal"} (state: stopped)',
]);

testTranscript("auth_header.ts", "is refused without the header and let in with it", [
  "server: refused an upgrade to /auth with 401",
  /^\[anonymous\] handleDisconnect \{ kind: "error" \}: .*401/,
  "[anonymous] connect() rejected with ConnectionError",
  "[anonymous] state: disconnected",
  "server: accepted a connection on /auth",
  "[authorized] connected",
  "[authorized] echo: hello with a token",
  "[authorized] stopped",
]);

Deno.test("examples/reconnect.ts reconnects after each drop within the backoff", async () => {
  const out = await runExample("reconnect.ts");
  assertLinesInOrder(out, [
    "connected",
    "server drops the connection (drop 1)",
    'handleDisconnect: remote_close 1011 "dropped"',
    /^reconnected after \d+ ms$/,
    "server drops the connection (drop 2)",
    'handleDisconnect: remote_close 1011 "dropped"',
    /^reconnected after \d+ ms$/,
    "stopped (state: stopped)",
  ]);
  // The first retry waits 51-100 ms (baseDelay 100); allow for a slow machine.
  for (const m of out.matchAll(/reconnected after (\d+) ms/g)) {
    const ms = Number(m[1]);
    assert.ok(ms >= 45 && ms < 1000, `reconnect delay ${ms} ms out of range`);
  }
});

testTranscript(
  "heartbeat.ts",
  "notices a server gone silent behind a proxy within interval + timeout",
  [
    "connected through the proxy",
    /^round trip: \d+\.\d ms$/,
    "the proxy goes silent",
    "disconnected: heartbeat_timeout within interval + timeout (200 + 200 ms)",
    "stopped",
  ],
);

testTranscript("named_client.ts", "reaches the client by its name", [
  'whereis("ticker") is the handle: true',
  "ticker got: tick 101.5",
  "ticker got: tick 101.7",
  "ticker got: tick 101.2",
  'stopClient("ticker"): {"kind":"normal"}',
  'whereis("ticker") after the stop: undefined',
]);

testTranscript("supervision.ts", "restarts the crashed child", [
  "worker: connected",
  'worker: got "boom", returning stop("boom")',
  'restarting child "worker"',
  "worker: connected",
  'supervisor: child "worker" restarts = 1',
  'restarting child "worker"',
  'supervisor: child "worker" restarts = 2',
  'supervisor stopped: {"kind":"normal"}',
]);

Deno.test("examples/demo.ts shows echo, drop, backoff, reconnect, disconnect and stop", async () => {
  const start = performance.now();
  const out = await runExample("demo.ts");
  const elapsed = performance.now() - start;
  assertLinesInOrder(out, [
    "client connected",
    "client echo: hello",
    "client echo: parley",
    'client disconnected: server closed with 1011 "dropped"',
    /client reconnecting in \d+ ms \(retry 1\)/,
    "client disconnected: connection failed (HTTP 503)",
    /client reconnecting in \d+ ms \(retry 2\)/,
    "client reconnected",
    "client echo: back again",
    "client disconnected: closed",
    'server connection closed (1000 "bye")',
    'client stop() -> {"kind":"normal"}',
  ]);
  // Every line carries a timestamp relative to the start.
  for (const line of out.trim().split("\n")) assert.match(line, /^\[\+\d+\.\d{3}s\] /);
  // The scheduled delays grow (equal jitter: retry k waits within (100·2^(k-1), 200·2^(k-1)]).
  const delays = [...out.matchAll(/reconnecting in (\d+) ms \(retry (\d+)\)/g)]
    .map((m) => ({ ms: Number(m[1]), retry: Number(m[2]) }));
  assert.ok(delays.length >= 2, `expected at least two scheduled retries in:\n${out}`);
  for (const { ms, retry } of delays) {
    const ceiling = Math.min(200 * 2 ** (retry - 1), 2000);
    assert.ok(ms > ceiling / 2 && ms <= ceiling, `retry ${retry} delay ${ms} ms not in range`);
  }
  assert.ok(elapsed < 8000, `the demo took ${Math.round(elapsed)} ms`);
});

testTranscript("keepalive.ts", "sends real pings over the socket transport and gets 3 pongs", [
  "transport: socket",
  "pong 1 (ka)",
  "pong 2 (ka)",
  "pong 3 (ka)",
  "stopped after 3 pongs",
]);

testTranscript(
  "token_refresh.ts",
  "gets a fresh token for every attempt and comes back after a drop",
  [
    /client: attempt 1 with token t1$/,
    "server: accepted token t1 (now used)",
    "client: connected (connection 1)",
    "client: disconnected (remote_close)",
    /client: attempt 2 with token t2$/,
    "server: accepted token t2 (now used)",
    "client: connected (connection 2)",
    'client: stop() -> {"kind":"normal"}',
  ],
);

testTranscript(
  "json_rpc.ts",
  "matches out-of-order answers to their calls and times out a silent one",
  [
    "answers, in the order asked: slow done, medium done, quick done",
    '"never": no answer within 100 ms',
  ],
);

testTranscript(
  "watch.ts",
  "sees every state change across a drop while another loop reads the frames",
  [
    /^events: connected to ws:\/\/127\.0\.0\.1:\d+\/feed$/,
    "events: disconnected (remote_close)",
    /^events: reconnecting in \d+ ms$/,
    "events: connecting (attempt 2)",
    /^events: connected to /,
    "frames: read 6 ticks across the drop",
    /^stats: 2 connections, \d+ messages in$/,
    "events: stopped (normal)",
    "events: the iteration ended",
  ],
);
