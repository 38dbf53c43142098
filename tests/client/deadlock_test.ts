// A callback that awaits its own client's request would wait for ever (the client runs one
// callback at a time). Where it can be told, the request is refused with a DeadlockError saying
// what to do instead; otherwise a warning is logged once it has waited a few seconds.

import assert from "node:assert/strict";
import { DeadlockError, defineClient, ok, type ReceivedFrame, stop } from "../../mod.ts";
import { WAIT_WARNING_MS } from "../../src/client/_reentrancy.ts";
import { settle, until } from "../support/scripted.ts";
import { openScripted, startScripted, text } from "../support/scripted_client.ts";

Deno.test("an async callback awaiting its own sendFrame gets a DeadlockError that says to return push(...) instead", async () => {
  const errors: unknown[] = [];
  await using h = await startScripted(
    defineClient({
      async handleFrame(_f: ReceivedFrame, s: null) {
        try {
          await h.conn.sendFrame(text("reply"));
        } catch (e) {
          errors.push(e);
        }
        return ok(s);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  c.text("hello");
  await until(() => errors.length === 1, "the refusal");
  const e = errors[0];
  assert.ok(e instanceof DeadlockError);
  assert.match(
    e.message,
    /Cannot await sendFrame from inside handleFrame: .* return push\(frame, state\) instead, or call sendFrameAsync/,
  );
  assert.deepEqual(c.sent, []);
  assert.equal(h.conn.state, "connected");
});

Deno.test("the same request after an await inside the async callback is refused too (where AsyncLocalStorage exists)", async () => {
  const errors: unknown[] = [];
  await using h = await startScripted(
    defineClient({
      async handleFrame(_f: ReceivedFrame, s: null) {
        await new Promise((r) => setTimeout(r, 1));
        for (const request of [() => h.conn.disconnect(), () => h.conn.call("x")]) {
          try {
            await request();
          } catch (e) {
            errors.push(e);
          }
        }
        return ok(s);
      },
      handleCall: (_r: string, _f, s) => ok(s),
    }),
    null,
  );
  const c = await openScripted(h);
  c.text("hello");
  await until(() => errors.length === 2, "both refusals");
  assert.ok(errors.every((e) => e instanceof DeadlockError));
  assert.match((errors[0] as Error).message, /Cannot await disconnect from inside handleFrame/);
  assert.match((errors[1] as Error).message, /Cannot await call from inside handleFrame/);
});

/**
 * Starts a client whose handleFrame awaits its own stop() `times` times (after an await of its own
 * when `later`), and returns the refusals, once it checked that the client is still connected and
 * that the handle's stop() afterwards stops it.
 */
async function refusedStops(times: number, later: boolean): Promise<unknown[]> {
  const errors: unknown[] = [];
  await using h = await startScripted(
    defineClient({
      async handleFrame(_f: ReceivedFrame, s: null) {
        if (later) await new Promise((r) => setTimeout(r, 1));
        for (let i = 0; i < times; i++) {
          try {
            await h.conn.stop();
          } catch (e) {
            errors.push(e);
          }
        }
        return ok(s);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  c.text("hello");
  await until(() => errors.length === times, "the refusals");
  assert.equal(h.conn.state, "connected");
  // The handle's stop() still works afterwards.
  assert.deepEqual(await h.conn.stop(), { kind: "normal" });
  return errors;
}

Deno.test("an async callback awaiting its own stop() gets a DeadlockError; the client is not stopped by it", async () => {
  const errors = await refusedStops(1, false);
  assert.match((errors[0] as Error).message, /return stop\(reason, state\) instead/);
});

Deno.test("a stop() refused after an await inside the async callback is not remembered: a second one is refused afresh, and the handle's stop() afterwards stops the client", async () => {
  const errors = await refusedStops(2, true);
  assert.ok(errors.every((e) => e instanceof DeadlockError));
  assert.notEqual(errors[0], errors[1]);
});

Deno.test("a sync callback may call its own sendFrame and stop without awaiting: they go after it returns", async () => {
  await using h = await startScripted(
    defineClient({
      handleFrame(frame: ReceivedFrame, s: null) {
        if (frame.type === "text" && frame.data === "echo") {
          h.conn.sendFrame(text("echoed")).catch(() => {});
        }
        return frame.type === "text" && frame.data === "quit" ? stop("normal", s) : ok(s);
      },
    }),
    null,
  );
  const c = await openScripted(h);
  c.text("echo");
  await until(() => c.sent.length === 1, "the echo");
  assert.deepEqual(c.sent, [text("echoed")]);
});

Deno.test("a promise-returning callback that is not an async function: a request waiting behind it is logged after a few seconds", async () => {
  let release!: () => void;
  await using h = await startScripted(
    defineClient({
      handleFrame: (_f: ReceivedFrame, s: null) =>
        new Promise<ReturnType<typeof ok<null>>>((resolve) => (release = () => resolve(ok(s)))),
    }),
    null,
  );
  const c = await openScripted(h);
  c.text("hello");
  await until(() => release !== undefined, "handleFrame");
  const sent = h.conn.sendFrame(text("from outside"));
  await h.clock.tickAsync(WAIT_WARNING_MS);
  assert.ok(
    h.logger.messages.some((m) =>
      m.level === "warn" && /sendFrame has waited 5 s behind handleFrame, which has not returned/
        .test(m.message)
    ),
    JSON.stringify(h.logger.messages),
  );
  release();
  await sent;
  await settle();
});
