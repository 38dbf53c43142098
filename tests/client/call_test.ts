// conn.call(request) and handleCall(request, from, state): answers now (reply) or later
// (from.reply), timeouts and aborts (the caller hears a named error, from goes stale, a late
// answer is dropped with a debug line), every state, and the client stopping.

import assert from "node:assert/strict";
import {
  CallTimeoutError,
  ClientStoppedError,
  defineClient,
  type From,
  ok,
  push,
  reply,
} from "../../mod.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, startScripted, text } from "../support/scripted_client.ts";

Deno.test("call: reply(value, state) answers at once and keeps the state", async () => {
  await using h = await startScripted(
    defineClient({
      init: () => ok({ asked: 0 }),
      handleCall: (request: string, _from, state) =>
        reply(`${request}!`, { asked: state.asked + 1 }),
    }),
    null,
  );
  assert.equal(await h.conn.call("hello"), "hello!");
  assert.equal(await h.conn.call("again"), "again!");
});

Deno.test("call: works while connecting, connected and disconnected", async () => {
  await using h = await startScripted(
    defineClient({ handleCall: (_r: null, _f, s: null) => reply("here", s) }),
    null,
  );
  assert.equal(h.conn.state, "connecting");
  assert.equal(await h.conn.call(null), "here");
  const c = await openScripted(h);
  assert.equal(await h.conn.call(null), "here");
  c.remoteClose(1000, "");
  await until(() => h.conn.state === "disconnected", "disconnected");
  assert.equal(await h.conn.call(null), "here");
});

Deno.test("call: answered later through from, out of order, for 100 concurrent calls (a JSON-RPC client)", async () => {
  type State = { next: number; waiting: Map<number, From> };
  await using h = await startScripted(
    defineClient({
      init: () => ok<State>({ next: 1, waiting: new Map() }),
      handleCall(method: string, from, state) {
        const id = state.next++;
        state.waiting.set(id, from);
        return push(text(JSON.stringify({ id, method })), state);
      },
      handleFrame(frame, state) {
        if (frame.type !== "text") return ok(state);
        const { id, result } = JSON.parse(frame.data);
        state.waiting.get(id)?.reply(result);
        state.waiting.delete(id);
        return ok(state);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  const calls = Array.from({ length: 100 }, (_, i) => h.conn.call<number>(`m${i}`));
  await until(() => c.sent.length === 100, "100 requests sent");
  const requests = c.sent.map((f) => JSON.parse((f as { data: string }).data));
  for (const r of requests.reverse()) {
    c.text(JSON.stringify({ id: r.id, result: Number(r.method.slice(1)) * 2 }));
  }
  assert.deepEqual(await Promise.all(calls), Array.from({ length: 100 }, (_, i) => i * 2));
});

Deno.test("call: a timeout rejects with CallTimeoutError; from goes stale, its signal aborts, a late reply is dropped with a debug line", async () => {
  let kept: From | undefined;
  await using h = await startScripted(
    defineClient({
      handleCall(_r: string, from, s: null) {
        kept = from;
        return ok(s);
      },
    }),
    null,
  );
  const answer = h.conn.call("slow", { timeout: 300 });
  answer.catch(() => {}); // rejected during tickAsync, checked below
  await until(() => kept !== undefined, "handleCall");
  assert.equal(kept!.pending, true);
  assert.equal(kept!.signal.aborted, false);
  await h.clock.tickAsync(300);
  await assert.rejects(answer, (e) => e instanceof CallTimeoutError && e.timeout === 300);
  assert.equal(kept!.pending, false);
  assert.equal(kept!.signal.aborted, true);
  assert.equal(kept!.reply("too late"), false);
  assert.ok(
    h.logger.messages.some((m) => m.level === "debug" && /Dropping a late reply/.test(m.message)),
  );
  // The client carries on.
  assert.equal(h.conn.state, "connecting");
});

Deno.test("call: an aborted signal rejects with its reason, before and while waiting", async () => {
  let kept: From | undefined;
  await using h = await startScripted(
    defineClient({
      handleCall(_r: string, from, s: null) {
        kept = from;
        return ok(s);
      },
    }),
    null,
  );
  const before = new AbortController();
  before.abort(new Error("not any more"));
  await assert.rejects(h.conn.call("x", { signal: before.signal }), /not any more/);
  const during = new AbortController();
  const answer = h.conn.call("y", { signal: during.signal, timeout: Infinity });
  await until(() => kept !== undefined, "handleCall");
  during.abort();
  await assert.rejects(answer, (e) => e instanceof DOMException && e.name === "AbortError");
  assert.equal(kept!.pending, false);
});

Deno.test("call: from.reject rejects the caller with that error", async () => {
  await using h = await startScripted(
    defineClient({
      handleCall(_r: string, from, s: null) {
        from.reject(new RangeError("no such method"));
        return ok(s);
      },
    }),
    null,
  );
  await assert.rejects(h.conn.call("nope"), (e) => e instanceof RangeError);
});

Deno.test("call: calls still waiting when the client stops reject with ClientStoppedError", async () => {
  await using h = await startScripted(
    defineClient({ handleCall: (_r: string, _from, s: null) => ok(s) }),
    null,
  );
  const waiting = h.conn.call("never answered", { timeout: Infinity });
  await settle();
  await h.conn.stop();
  await assert.rejects(waiting, ClientStoppedError);
  await assert.rejects(h.conn.call("after"), ClientStoppedError);
});

Deno.test("call: without handleCall, or with a bad timeout, rejects at once", async () => {
  await using h = await startScripted(defineClient({}), null);
  await assert.rejects(
    h.conn.call("x"),
    (e) => e instanceof TypeError && /no handleCall callback/.test(e.message),
  );
  await using h2 = await startScripted(
    defineClient({ handleCall: (_r: unknown, _f, s: null) => reply(1, s) }),
    null,
  );
  for (const timeout of [0, -5, NaN]) {
    await assert.rejects(h2.conn.call("x", { timeout }), RangeError);
  }
});

Deno.test("call: options are checked as start's are: an unknown key or a non-AbortSignal signal is a TypeError", async () => {
  await using h = await startScripted(
    defineClient({ handleCall: (_r: unknown, _f, s: null) => reply(1, s) }),
    null,
  );
  await assert.rejects(
    h.conn.call("x", { timout: 100 } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === 'Cannot call the client as the option "timout" is unknown',
  );
  await assert.rejects(
    h.conn.call("x", { signal: "soon" } as never),
    (e) =>
      e instanceof TypeError &&
      e.message === 'Cannot call the client as "signal" must be an AbortSignal, got "soon"',
  );
  await assert.rejects(
    h.conn.call("x", null as never),
    (e) =>
      e instanceof TypeError &&
      e.message === "Cannot call the client as its options must be an object, got null",
  );
  assert.equal(await h.conn.call("x", { timeout: 100 }), 1);
});

Deno.test("call: handleCall returning a bad result stops the client with a TypeError naming it", async () => {
  await using h = await startScripted(
    defineClient({ handleCall: () => 42 as never }),
    null,
  );
  const answer = h.conn.call("x");
  const reason = await h.conn.stopped;
  assert.equal(reason.kind, "error");
  assert.match(
    (reason as { error: Error }).error.message,
    /handleCall returned an invalid result: expected reply\(value, state\), ok\(state\)/,
  );
  await assert.rejects(answer, ClientStoppedError);
});
