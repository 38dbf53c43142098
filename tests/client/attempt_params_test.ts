// url, headers and subprotocols given as functions: called before every attempt (the first
// included) with { attempt, lastReason, signal }, sync or async; a function that throws fails
// the attempt (the reconnect policy goes on); what it returns is checked like the option; its
// signal aborts when the attempt is abandoned; its time counts in connectTimeout.

import assert from "node:assert/strict";
import { type AttemptContext, defineClient, HandshakeError } from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, recordingDisconnects, startScripted } from "../support/scripted_client.ts";

const recording = recordingDisconnects;

const reconnect = { baseDelay: 100, random: () => 0, minUptime: 0 };

Deno.test("attempt functions run before every attempt, with its number and the last reason; each attempt uses what they gave", async () => {
  const r = recording();
  const seen: Array<{ attempt: number; last: string | undefined }> = [];
  await using h = await startScripted(r.def, null, {
    url: (ctx: AttemptContext) => {
      seen.push({ attempt: ctx.attempt, last: ctx.lastReason?.kind });
      return `ws://host-${ctx.attempt}.test/feed`;
    },
    headers: async ({ attempt }) => {
      await Promise.resolve();
      return { authorization: `Bearer token-${attempt}` };
    },
    subprotocols: ({ attempt }) => [`v${attempt}`],
    reconnect,
  });
  const c1 = await h.connector.connection(1);
  assert.equal(c1.params.url.href, "ws://host-1.test/feed");
  assert.deepEqual(c1.params.headers, [["authorization", "Bearer token-1"]]);
  assert.deepEqual(c1.params.subprotocols, ["v1"]);
  c1.error(new Error("refused"));
  await until(() => r.reasons.length === 1, "handleDisconnect");
  await h.clock.tickAsync(51);
  const c2 = await h.connector.connection(2);
  assert.equal(c2.params.url.href, "ws://host-2.test/feed");
  assert.deepEqual(c2.params.headers, [["authorization", "Bearer token-2"]]);
  assert.deepEqual(seen, [{ attempt: 1, last: undefined }, { attempt: 2, last: "error" }]);
});

Deno.test("an attempt function that throws or rejects fails the attempt with a HandshakeError whose cause is its error; the reconnect policy goes on", async () => {
  const r = recording();
  let calls = 0;
  const broken = new Error("token service down");
  await using h = await startScripted(r.def, null, {
    url: "ws://scripted.test/",
    headers: () => {
      calls++;
      if (calls === 1) throw broken;
      if (calls === 2) return Promise.reject(broken);
      return { authorization: "Bearer fine" };
    },
    reconnect,
  });
  await until(() => r.reasons.length === 1, "handleDisconnect");
  const reason = r.reasons[0];
  assert.equal(reason.kind, "error");
  const error = (reason as { error: Error }).error;
  assert.ok(error instanceof HandshakeError);
  assert.equal(error.cause, broken);
  assert.match(error.message, /Cannot connect as the headers function failed: token service down/);
  assert.equal(h.connector.connections.length, 0);
  await h.clock.tickAsync(51);
  await until(() => r.reasons.length === 2, "the second failure");
  await h.clock.tickAsync(101);
  const c = await h.connector.connection(1);
  assert.deepEqual(c.params.headers, [["authorization", "Bearer fine"]]);
});

for (
  const [what, options, Class, pattern] of [
    [
      "a url function returning ftp:",
      { url: () => "ftp://x.test/" },
      SyntaxError,
      /^Cannot connect as the url function's result must use ws: or wss:, got ftp: in "ftp:\/\/x\.test\/"$/,
    ],
    [
      "a headers function returning a value with CR/LF",
      { url: "ws://x.test/", headers: () => ({ "x-token": "a\r\nEvil: 1" }) },
      TypeError,
      /^Cannot connect as the header "x-token" from the headers function contains CR, LF or NUL$/,
    ],
    [
      "a subprotocols function returning a non-array",
      { url: "ws://x.test/", subprotocols: () => "chat" as never },
      TypeError,
      /^Cannot connect as the subprotocols function's result must be an array of strings, got "chat"$/,
    ],
    [
      "a url function returning an unparsable URL with a password and a token",
      { url: () => "ws://bob:hunter2@[bad/?token=s3cr3t" },
      SyntaxError,
      /^Cannot connect as the url function's result is not a valid URL: "ws:\/\/\*\*\*@\[bad\/\?token=\*\*\*"$/,
    ],
    [
      "a url function returning an ftp: URL with a password and a token",
      { url: () => "ftp://bob:hunter2@x.test/?token=s3cr3t" },
      SyntaxError,
      /^Cannot connect as the url function's result must use ws: or wss:, got ftp: in "ftp:\/\/\*\*\*@x\.test\/\?token=\*\*\*"$/,
    ],
    [
      "a url function returning undefined",
      { url: () => undefined as never },
      TypeError,
      /^Cannot connect as the url function's result must be a string or URL, got undefined$/,
    ],
  ] as const
) {
  Deno.test(`${what} fails the attempt with the same error as the static option`, async () => {
    const r = recording();
    await using _h = await startScripted(r.def, null, options);
    await until(() => r.reasons.length === 1, "handleDisconnect");
    const error = (r.reasons[0] as { error: Error }).error;
    assert.equal(error.constructor, Class);
    assert.match(error.message, pattern);
    for (let e: unknown = error; e instanceof Error; e = e.cause) {
      assert.doesNotMatch(`${e.message}${e.stack}`, /hunter2|bob|s3cr3t/);
    }
  });
}

Deno.test("an attempt function's time counts in connectTimeout, and its signal aborts when the attempt is abandoned", async () => {
  const r = recording();
  let signal: AbortSignal | undefined;
  await using h = await startScripted(r.def, null, {
    url: (ctx) => {
      signal = ctx.signal;
      return new Promise<string>(() => {}); // never
    },
    connectTimeout: 500,
  });
  await settle();
  assert.equal(signal?.aborted, false);
  await h.clock.tickAsync(500);
  await until(() => r.reasons.length === 1, "handleDisconnect");
  assert.deepEqual(r.reasons, [{ kind: "connect_timeout", timeout: 500 }]);
  assert.equal(signal?.aborted, true);
  assert.equal(h.connector.connections.length, 0);
});

Deno.test("an attempt function still running when the client stops sees its signal abort, and nothing connects after", async () => {
  let signal: AbortSignal | undefined;
  let finish!: (url: string) => void;
  const h = await startScripted(defineClient({}), null, {
    url: (ctx) => {
      signal = ctx.signal;
      return new Promise<string>((resolve) => (finish = resolve));
    },
  });
  await settle();
  await h.conn.stop();
  assert.equal(signal?.aborted, true);
  finish("ws://late.test/");
  await settle();
  assert.equal(h.connector.connections.length, 0);
  await h[Symbol.asyncDispose]();
});

Deno.test("a refused start still checks static options; function options are accepted as they are", async () => {
  await using h = await startScripted(defineClient({}), null, {
    url: () => "ws://x.test/",
    headers: () => ({}),
    subprotocols: () => [],
  });
  await openScripted(h);
});
