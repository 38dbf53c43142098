// Which transport a client gets: "auto" picks the socket transport wherever there are sockets
// (here, Deno); "web" refuses what it cannot do at start; "socket" is the socket. (The browser
// test checks that "auto" picks the web transport in a browser.)
import assert from "node:assert/strict";
import { type ClientOptions, defineClient, ok, UnsupportedError } from "../../mod.ts";
import { recordingLogger } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const quiet = recordingLogger();

async function transportOf(
  options: Omit<ClientOptions, "url">,
  callbacks: object = {},
): Promise<string> {
  await using server = await startWsServer();
  await using conn = await defineClient(callbacks).start(null, {
    url: server.url(),
    logger: quiet,
    ...options,
  });
  return conn.transport;
}

const pinger = { handlePing: (_p: Uint8Array, s: unknown) => ok(s) };

Deno.test("auto: plain options and callbacks use the socket transport where there are sockets", async () => {
  assert.equal(await transportOf({}), "socket");
  assert.equal(await transportOf({ transport: "auto", subprotocols: ["chat"] }), "socket");
  assert.equal(await transportOf({ headers: { authorization: "Bearer x" } }), "socket");
  assert.equal(await transportOf({ compression: true }), "socket");
  assert.equal(await transportOf({ compression: false }), "socket");
});

Deno.test('transport: "web" in a runtime without a global WebSocket is refused at start; "auto" takes the socket transport', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "WebSocket")!;
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).WebSocket;
  try {
    await assert.rejects(
      defineClient({}).start(null, { url: "ws://127.0.0.1:9/ws", transport: "web" }),
      (e) => e instanceof UnsupportedError && /no global WebSocket/.test(e.message),
    );
    assert.equal(await transportOf({}), "socket");
  } finally {
    Object.defineProperty(globalThis, "WebSocket", saved);
  }
});

Deno.test("auto: a handlePing callback, limits, compression settings or TLS settings choose the socket transport", async () => {
  assert.equal(await transportOf({}, pinger), "socket");
  assert.equal(await transportOf({ limits: { maxMessageSize: 1024 } }), "socket");
  assert.equal(await transportOf({ compression: { threshold: 0 } }), "socket");
  assert.equal(
    await transportOf({ transportOptions: { tls: { minVersion: "TLSv1.3" } } }),
    "socket",
  );
});

Deno.test('transport: "socket" and "web" are used as asked', async () => {
  assert.equal(await transportOf({ transport: "socket" }), "socket");
  assert.equal(await transportOf({ transport: "web" }), "web");
});

for (
  const [what, options, callbacks, pattern] of [
    ["limits", { limits: { maxFrameSize: 10 } }, {}, /cannot honour limits/],
    [
      "compression settings",
      { compression: { level: 9 } },
      {},
      /cannot honour compression settings/,
    ],
    ["TLS settings", { transportOptions: { tls: { ca: PEM } } }, {}, /transportOptions\.tls/],
    ["a handlePing callback", {}, pinger, /a handlePing callback/],
  ] as const
) {
  Deno.test(`transport: "web" with ${what} is refused at start with UnsupportedError`, async () => {
    await assert.rejects(
      defineClient(callbacks).start(null, {
        url: "ws://127.0.0.1:9/ws",
        transport: "web",
        logger: quiet,
        ...options,
      }),
      (e: unknown) =>
        e instanceof UnsupportedError && pattern.test(e.message) &&
        /use transport: "socket"/.test(e.message),
    );
  });
}

Deno.test("dangerouslyAcceptInvalidCertificates logs a warning at start", async () => {
  const logger = recordingLogger();
  await using server = await startWsServer(); // plain ws: the connect fails, the warning is the point
  await using conn = await defineClient({}).start(null, {
    url: server.url().replace("ws:", "wss:"),
    logger,
    transportOptions: { tls: { dangerouslyAcceptInvalidCertificates: true } },
  });
  assert.equal(conn.transport, "socket");
  assert.ok(
    logger.messages.some((m) => m.level === "warn" && /verification is OFF/.test(m.message)),
    JSON.stringify(logger.messages),
  );
});

Deno.test("TLS settings with a ws: URL log a warning that they have no effect", async () => {
  const logger = recordingLogger();
  await using server = await startWsServer();
  await using _conn = await defineClient({}).start(null, {
    url: server.url(),
    logger,
    transportOptions: { tls: { minVersion: "TLSv1.3" } },
  });
  assert.ok(
    logger.messages.some((m) => m.level === "warn" && /has no effect/.test(m.message)),
    JSON.stringify(logger.messages),
  );
});

Deno.test('transport: "web" with a proxy URL is refused at start with UnsupportedError', async () => {
  await assert.rejects(
    defineClient({}).start(null, {
      url: "ws://127.0.0.1:9/ws",
      transport: "web",
      proxy: "http://127.0.0.1:3128",
    }),
    (e) => e instanceof UnsupportedError && /cannot honour a proxy/.test(e.message),
  );
});
