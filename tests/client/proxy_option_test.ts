// The `proxy` option: what start accepts and refuses, what reaches the transport, and the debug
// message that says how the socket transport reaches the server.

import assert from "node:assert/strict";
import { defineClient } from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import { ScriptedConnector } from "../support/scripted.ts";
import { recordingLogger } from "../support/recorder.ts";

const URL_OK = "ws://127.0.0.1:9/ws";

/** Starts a client on a scripted socket connector with `proxy`; returns what it connected with. */
async function start(proxy: unknown) {
  const connector = new ScriptedConnector({ name: "socket", controlFrames: true });
  const logger = recordingLogger();
  const conn = await startClient({}, null, { url: URL_OK, proxy, logger }, { connector });
  const connection = await connector.connection(1);
  await conn.stop();
  const debug = logger.messages.filter((m) => m.level === "debug" && /proxy/.test(m.message))
    .map((m) => m.message);
  return { setting: connection.params.proxy, debug };
}

Deno.test('proxy: the default is the environment (leniently), "env" is the environment (strictly)', async () => {
  assert.deepEqual((await start(undefined)).setting, { kind: "env", explicit: false });
  assert.deepEqual((await start("env")).setting, { kind: "env", explicit: true });
  assert.deepEqual((await start(false)).setting, { kind: "off" });
});

Deno.test("proxy: a URL (string or URL) is parsed at start, credentials into Proxy-Authorization", async () => {
  const { setting } = await start("http://alice:s%40cret@proxy.corp:3128");
  assert.ok(setting?.kind === "url");
  assert.equal(setting.proxy.label, "http://proxy.corp:3128");
  assert.equal(setting.proxy.authorization, `Basic ${btoa("alice:s@cret")}`);
  assert.equal(setting.proxy.source, '"proxy"');
  const fromUrl = (await start(new URL("https://proxy.corp"))).setting;
  assert.ok(fromUrl?.kind === "url");
  assert.equal(fromUrl.proxy.label, "https://proxy.corp:443");
  assert.equal(fromUrl.proxy.secure, true);
});

for (
  const [what, proxy, error, pattern] of [
    [
      "true",
      true,
      TypeError,
      /"proxy" must be "env", a proxy URL \(string or URL\) or false, got true/,
    ],
    ["a number", 3128, TypeError, /got 3128/],
    ["an empty string", "", TypeError, /got an empty string/],
    ["null", null, TypeError, /got null/],
    [
      "a socks5: URL",
      "socks5://user:hunter2@proxy:1080",
      SyntaxError,
      /^Cannot start the client as "proxy" names a socks5: proxy \(socks5:\/\/proxy:1080\), and only http: and https: proxies are supported$/,
    ],
    [
      "a malformed URL (its password never in the message)",
      "http://user:hunter2@[::1",
      SyntaxError,
      /^Cannot start the client as "proxy" is not a valid http: or https: proxy URL: "http:\/\/\*\*\*@\[::1"$/,
    ],
    // The option is strict, unlike a variable's value: without its scheme it is refused rather
    // than taken as http://bogus:80 (or http://http:80 for "http//x").
    [
      'a bare word ("bogus")',
      "bogus",
      SyntaxError,
      /^Cannot start the client as "proxy" is not a valid http: or https: proxy URL: "bogus"$/,
    ],
    [
      'a URL missing its colon ("http//x")',
      "http//x",
      SyntaxError,
      /^Cannot start the client as "proxy" is not a valid http: or https: proxy URL: "http\/\/x"$/,
    ],
    [
      "a host and port without a scheme, with a password",
      "user:hunter2@proxy.corp:8080",
      SyntaxError,
      /^Cannot start the client as "proxy" is not a valid http: or https: proxy URL: "\*\*\*@proxy\.corp:8080"$/,
    ],
  ] as const
) {
  Deno.test(`proxy: ${what} is refused at start with a ${error.name}`, async () => {
    const connector = new ScriptedConnector({ name: "socket" });
    await assert.rejects(
      startClient({}, null, { url: URL_OK, proxy }, { connector }),
      (e: Error) => {
        assert.ok(e instanceof error, `${e.name}: ${e.message}`);
        assert.match(e.message, pattern);
        assert.doesNotMatch(e.message, /hunter2/);
        assert.equal(e.cause, undefined, "no cause that could quote the URL");
        return true;
      },
    );
    assert.equal(connector.connections.length, 0);
  });
}

Deno.test('proxy: an unknown "agent" option hints at "proxy"', async () => {
  await assert.rejects(
    defineClient({}).start(null, { url: URL_OK, agent: {} } as never),
    /the option "agent" is unknown \(an HTTP\(S\) proxy is "proxy": "http:\/\/host:port"\)/,
  );
});

Deno.test("proxy: a debug message says how the socket transport reaches the server, without credentials", async () => {
  assert.deepEqual((await start("http://alice:hunter2@proxy.corp:3128")).debug, [
    `[parley] ${URL_OK} is reached through the proxy http://proxy.corp:3128 ("proxy")`,
  ]);
  assert.deepEqual((await start(false)).debug, [
    `[parley] ${URL_OK} is reached without a proxy: proxy: false`,
  ]);
  // The test process has no proxy variables set (deno task test runs with --allow-env).
  const fromEnv = (await start(undefined)).debug;
  assert.equal(fromEnv.length, 1);
  assert.match(fromEnv[0], /is reached without a proxy: none of http_proxy, HTTP_PROXY, .* is set/);
});

Deno.test("proxy: no debug message for the web transport, which does not use the setting", async () => {
  const connector = new ScriptedConnector({ name: "web" });
  const logger = recordingLogger();
  const conn = await startClient({}, null, { url: URL_OK, proxy: false, logger }, { connector });
  await conn.stop();
  assert.deepEqual(logger.messages.filter((m) => /proxy/.test(m.message)), []);
});

Deno.test("proxy: transportOptions.tls on a ws: URL warns it has no effect, unless the proxy is an https: one (its TLS takes the ca)", async () => {
  const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const warnings = async (proxy: unknown) => {
    const connector = new ScriptedConnector({ name: "socket" });
    const logger = recordingLogger();
    const conn = await startClient({}, null, {
      url: URL_OK,
      proxy,
      logger,
      transportOptions: { tls: { ca: PEM } },
    }, { connector });
    await conn.stop();
    return logger.messages.filter((m) => m.level === "warn").map((m) => m.message);
  };
  assert.match((await warnings(false)).join(), /transportOptions\.tls has no effect on ws:/);
  assert.match((await warnings("http://proxy:3128")).join(), /has no effect/);
  assert.deepEqual(await warnings("https://proxy:3129"), []);
});
