// Connection options as a server sees them on the upgrade (headers, subprotocols), through start
// and through a child spec, and options refused with a hint. Against real servers on loopback, on
// both transports. Ported from the Elixir library's test/parley_test.exs (the comment above each
// test names the test it comes from).

import assert from "node:assert/strict";
import { defineClient, HandshakeError } from "../../mod.ts";
import { recordingClient, testEachTransport, text } from "../support/each_transport.ts";
import { nextDisconnect, Recorder } from "../support/recorder.ts";
import { startDenoServer, startWsServer } from "../support/servers.ts";

// ---------------------------------------------------------------------------------------------
// Options sent on the upgrade

// parley_test.exs:839
testEachTransport(
  "the headers option is sent on the upgrade (the auth route accepts)",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, {
      url: server.url("/ws/auth"),
      headers: { authorization: "Bearer t0ken", "x-client": "parley" },
    });
    await rec.next("connected");
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].path, "/ws/auth");
    assert.equal(server.requests[0].headers["authorization"], "Bearer t0ken");
    assert.equal(server.requests[0].headers["x-client"], "parley");
    await conn.sendFrame(text("authed"));
    assert.deepEqual((await rec.next("frame")).value, text("authed"));
  },
);

// parley_test.exs:854
testEachTransport(
  "the auth route without headers gives handleDisconnect(error) (401); alive",
  async () => {
    await using server = await startWsServer();
    const rec = new Recorder();
    await using conn = await recordingClient(rec).start(null, { url: server.url("/ws/auth") });
    const reason = await nextDisconnect(rec);
    assert.equal(reason.kind, "error");
    assert.ok(reason.kind === "error" && reason.error instanceof HandshakeError);
    assert.match(reason.error.message, /401/);
    assert.equal(conn.state, "disconnected");
    assert.equal(rec.all("connected").length, 0);
    assert.equal(server.requests[0].headers["authorization"], undefined);
  },
);

// parley_test.exs:880. Differs from the Elixir library on purpose: the option is subprotocols.
testEachTransport(
  "protocols is rejected with a hint to subprotocols; subprotocols are offered and negotiated",
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
    await using server = await startWsServer();
    const rec = new Recorder();
    await using _conn = await recordingClient(rec).start(null, {
      url: server.url(),
      subprotocols: ["chat", "superchat"],
    });
    const info = (await rec.next("connected")).value as { protocol: string };
    assert.equal(info.protocol, "chat"); // npm:ws picks the first one offered
    assert.match(server.requests[0].headers["sec-websocket-protocol"], /chat, ?superchat/);
  },
);

// parley_test.exs:892. Differs from the Elixir library on purpose: one start.
testEachTransport(
  "start and a child spec forward connection options (headers)",
  async () => {
    await using server = await startDenoServer();
    const rec = new Recorder();
    const Client = recordingClient(rec);
    const options = {
      url: server.url("/ws/auth"),
      headers: [["authorization", "Bearer deno"]] as Array<[string, string]>,
    };
    await using _conn = await Client.start(null, options);
    await rec.next("connected");
    await using viaSpec = await Client.childSpec(null, options).start();
    await rec.next("connected");
    assert.equal(server.requests.length, 2);
    for (const r of server.requests) {
      assert.equal(r.path, "/ws/auth");
      assert.equal(r.headers["authorization"], "Bearer deno");
    }
    await viaSpec.sendFrame(text("via spec"));
    assert.deepEqual((await rec.next("frame")).value, text("via spec"));
  },
);

// ---------------------------------------------------------------------------------------------
// Options refused

// parley_test.exs:866. Differs from the Elixir library on purpose: camelCase options, and
// transportOptions holds TLS settings only.
testEachTransport(
  "transport_opts is rejected as an unknown option with a hint to transportOptions; unknown " +
    "transportOptions keys are refused too",
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
