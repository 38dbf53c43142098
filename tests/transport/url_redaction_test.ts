// The transports' own messages name the URL without its credentials: `ws://user:secret@host/`
// and `?token=secret` become `***` in a HandshakeError and in a lost connection's error, as in
// the client's messages (src/vocabulary/redact.ts). Before, the socket transport and the
// protocol core quoted the URL whole, and the web transport kept the query. Against real peers
// on loopback, in Deno; tests/portable/applications_cases.ts checks the same, and the logs, under
// Deno, Node 24, Node 22 and Bun (where Bun's WebSocket quotes the URL in its own error).

import assert from "node:assert/strict";
import { defineClient, type DisconnectReason, HandshakeError, ok } from "../../mod.ts";
import { startRawServer, startWsServer } from "../support/servers.ts";
import { redactUrl } from "../../src/vocabulary/redact.ts";

/** Every message in `error` and its causes. */
function messages(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) out.push(e.message);
  return out;
}

/** The first disconnect reason of a client of `url` on `transport`, and its stop. */
async function firstReason(url: string, transport: "socket" | "web"): Promise<DisconnectReason> {
  const { promise, resolve } = Promise.withResolvers<DisconnectReason>();
  const Client = defineClient<null>({
    handleDisconnect: (reason, state) => {
      resolve(reason);
      return ok(state);
    },
  });
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  await using _conn = await Client.start(null, { url, transport, logger, connectTimeout: 2000 });
  return await promise;
}

for (const transport of ["socket", "web"] as const) {
  Deno.test(`url redaction [${transport}]: a refused upgrade's HandshakeError names the URL without the password or the query's values`, async () => {
    await using server = await startWsServer();
    const reason = await firstReason(
      `ws://user:secret@127.0.0.1:${server.port}/reject?token=secret&x`,
      transport,
    );
    assert.equal(reason.kind, "error");
    if (reason.kind !== "error") return;
    assert.ok(reason.error instanceof HandshakeError);
    const [message] = messages(reason.error);
    assert.match(
      message,
      /^Cannot connect to ws:\/\/(\*\*\*@)?127\.0\.0\.1:\d+\/reject\?token=\*\*\*&x as /,
    );
    for (const m of messages(reason.error)) assert.ok(!m.includes("secret"), m);
  });

  Deno.test(`url redaction [${transport}]: nothing listening: the error names the URL without the password or the query's values`, async () => {
    const server = await startRawServer(() => {});
    const port = server.port;
    await server.close();
    const reason = await firstReason(
      `ws://user:secret@127.0.0.1:${port}/ws?token=secret`,
      transport,
    );
    assert.equal(reason.kind, "error");
    if (reason.kind !== "error") return;
    assert.match(messages(reason.error)[0], /127\.0\.0\.1:\d+\/ws\?token=\*\*\* as /);
    for (const m of messages(reason.error)) assert.ok(!m.includes("secret"), m);
  });

  Deno.test(`url redaction [${transport}]: a connection lost after the upgrade: the error names the URL without the password or the query's values`, async () => {
    await using server = await startWsServer();
    const { promise, resolve } = Promise.withResolvers<DisconnectReason>();
    const Client = defineClient<null>({
      handleConnect: (state) => {
        server.dropAll();
        return ok(state);
      },
      handleDisconnect: (reason, state) => {
        resolve(reason);
        return ok(state);
      },
    });
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    await using _conn = await Client.start(null, {
      url: `ws://user:secret@127.0.0.1:${server.port}/ws?token=secret`,
      transport,
      logger,
    });
    const reason = await promise;
    assert.equal(reason.kind, "error", JSON.stringify(reason));
    if (reason.kind !== "error") return;
    // (The socket transport's message does not name the URL; the web transport's does.)
    if (transport === "web") {
      assert.match(messages(reason.error)[0], /127\.0\.0\.1:\d+\/ws\?token=\*\*\*/);
    }
    for (const m of messages(reason.error)) assert.ok(!m.includes("secret"), m);
  });
}

Deno.test("url redaction: URLs that parse and text that does not lose user info, query values and fragment", () => {
  for (
    const [given, shown] of [
      ["wss://host/feed", "wss://host/feed"],
      [
        "wss://bob:hunter2@host/feed?token=s3cr3t&v=2&flag",
        "wss://***@host/feed?token=***&v=***&flag",
      ],
      ["ws://host/#s3cr3t", "ws://host/#***"],
      // Text the URL parser refuses, by string rules.
      ["ws://bob:hunter2@[bad/?token=s3cr3t", "ws://***@[bad/?token=***"],
      ["ws://bob:hunter2@127.0.0.1:99999/", "ws://***@127.0.0.1:99999/"],
      // The last @ of the authority: a password may hold an @ (or a /) the parser refused.
      ["ws://bob:p@ss@[bad/", "ws://***@[bad/"],
      ["ws://bob:pa/ss@[bad/x", "ws://***@[bad/x"],
      ["bob:hunter2@host:99999", "***@host:99999"],
      ["ws://[bad/#s3cr3t?x=1", "ws://[bad/#***"],
      ["/login?next=%2F&session=s3cr3t", "/login?next=***&session=***"],
    ]
  ) {
    assert.equal(redactUrl(given), shown, given);
  }
});
