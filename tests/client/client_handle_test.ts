// The handle's own surface: only start() makes one, it has no public field, its type parameters
// keep handles of different clients apart, and conn.transport names one of the two transports.

import assert from "node:assert/strict";
import { ClientHandle, defineClient, silentLogger } from "../../mod.ts";
import { ScriptedConnector } from "../support/scripted.ts";
import { startClient } from "../../src/client/_start.ts";

Deno.test("ClientHandle: constructing one from outside throws a TypeError that points to start()", () => {
  const Ctor = ClientHandle as unknown as new (...args: unknown[]) => unknown;
  for (const args of [[], [Symbol("parley.ClientHandle"), {}, undefined], [{}, undefined]]) {
    assert.throws(
      () => new Ctor(...args),
      (e: unknown) => e instanceof TypeError && /start\(\)/.test(e.message),
    );
  }
});

Deno.test("ClientHandle: a started client's handle is an instance, with no own public field", async () => {
  const connector = new ScriptedConnector();
  const conn = await startClient({}, null, { url: "ws://scripted.test/", logger: silentLogger }, {
    connector,
  });
  try {
    assert.ok(conn instanceof ClientHandle);
    assert.deepEqual(Object.keys(conn), []);
    assert.equal(conn.transport, "web");
  } finally {
    await conn.stop();
  }
});

Deno.test("ClientHandle: conn.transport is typed as the two transports, and the type parameters stay apart", () => {
  // Type-level only: `deno test` type-checks this body; it is never run against a client.
  const _typed = (conn: ClientHandle<{ n: number }, "tick">) => {
    const transport: "web" | "socket" = conn.transport;
    // @ts-expect-error: a handle of one state type is not a handle of another
    const _otherState: ClientHandle<string, "tick"> = conn;
    // @ts-expect-error: nor of another message type
    const _otherMessage: ClientHandle<{ n: number }, number> = conn;
    // @ts-expect-error: the field that carries the types is private
    conn.types;
    return transport;
  };
  assert.equal(typeof _typed, "function");
  assert.equal(typeof defineClient({}).start, "function");
});
