// The portable proxy cases: the socket transport through tinyproxy, squid (plain with a
// hosts_file name only it resolves, with basic auth, with an https_port) and a proxy that never
// answers, to a ws:// (npm:ws) and a wss:// (test CA) echo server, run unchanged under Deno, Node
// 24 and Bun, whose dialers differ (Deno.connect + Deno.startTls on Deno, node:tls there for TLS
// inside TLS; node:net / node:tls on Node and Bun). tests/portable_test.ts starts the peers
// (tests/support/proxies.ts) and gives the runner their URLs, and an environment whose proxy
// variables the environment cases read:
//
//   http_proxy   the plain squid         HTTP_PROXY   the silent proxy (the lowercase name wins)
//   HTTPS_PROXY  the plain squid         NO_PROXY     localhost, 127.0.0.1:<direct port>, ...
//
// The plain squid refuses tunnels to the direct port (and to the closed port), so an echo from
// the direct port's server proves the connection did not go through it.

import assert from "node:assert/strict";
import process from "node:process";
import type { ConnectInfo, DisconnectReason, HandshakeError, ReceivedFrame } from "../../mod.ts";
import { disposing, test, use } from "./suite.ts";
import {
  assertHandshakeError,
  assertSameBytes,
  bytes,
  currentRuntime,
  type RecordingClientOptions,
  type Runtime,
  startRecordingClient,
} from "./support.ts";

/** What the runner is given (PARLEY_PORTABLE_PROXIES, JSON; the CA in PARLEY_PORTABLE_CA). */
export interface ProxyPeers {
  /** `ws://127.0.0.1:<port>` and `wss://127.0.0.1:<port>`: the echo servers (no path). */
  readonly ws: string;
  readonly wss: string;
  /** An echo server the plain squid refuses to tunnel to; NO_PROXY names it. */
  readonly direct: string;
  /** A port on 127.0.0.1 with nothing listening (1), which both proxies refuse to tunnel to. */
  readonly closedPort: number;
  /** A name only the plain squid resolves (to 127.0.0.1). */
  readonly squidOnly: string;
  readonly tinyproxy: string;
  readonly squid: string;
  readonly squidHttps: string;
  /** The squid that wants basic auth, without credentials, and the user and password it takes. */
  readonly authSquid: string;
  readonly user: string;
  readonly password: string;
  /** The proxy that never answers, and its control URL (`{ open, accepted }`). */
  readonly silent: string;
  readonly silentControl: string;
  /** A proxy URL where nothing listens. */
  readonly down: string;
  /** The scripted proxy (tests/support/proxies.ts: its answer depends on the host asked for). */
  readonly scripted: string;
}

/** The runner's settings. */
export interface ProxyConfig {
  readonly peers: ProxyPeers;
  readonly ca: string;
  readonly runtime: Runtime;
  readonly filter: string;
}

/** Reads the runner's settings; throws naming what is missing. */
export function readProxyConfig(): ProxyConfig {
  const peers = process.env.PARLEY_PORTABLE_PROXIES;
  const ca = process.env.PARLEY_PORTABLE_CA;
  if (peers === undefined || ca === undefined) {
    throw new Error(
      "Usage: PARLEY_PORTABLE_PROXIES=<JSON> PARLEY_PORTABLE_CA=<PEM> <runtime> " +
        "tests/portable/proxy_main.ts [--filter=<text>] (tests/portable_test.ts sets them)",
    );
  }
  const flag = process.argv.find((a) => a.startsWith("--filter="));
  return {
    peers: JSON.parse(peers) as ProxyPeers,
    ca,
    runtime: currentRuntime(),
    filter: flag?.slice("--filter=".length) ?? process.env.PARLEY_PORTABLE_FILTER ?? "",
  };
}

/** Registers every proxy case. */
export function registerProxyCases(config: ProxyConfig): void {
  const p = config.peers;
  const ca = { transportOptions: { tls: { ca: config.ca } } };
  const withPassword = (password: string) =>
    p.authSquid.replace("//", `//${encodeURIComponent(p.user)}:${encodeURIComponent(password)}@`);

  /** A socket client of `base` + "/ws" (the caller stops it). */
  const open = (base: string, slug: string, options: RecordingClientOptions) =>
    startRecordingClient({ ws: base, runtime: config.runtime }, "socket", slug, {
      path: () => "/ws",
      closeTimeout: 1000,
      connectTimeout: 5000,
      ...options,
    });

  /** Connects, checks a text and a 256 KiB binary echo. */
  const expectEcho = async (base: string, slug: string, options: RecordingClientOptions) =>
    await disposing(await open(base, slug, options), async ({ conn, events }) => {
      const info = await events.next<ConnectInfo>("connected", 5000);
      assert.equal(info.url, `${base}/ws`);
      await conn.sendFrame({ type: "text", data: "through the tunnel" });
      assert.deepEqual(await events.next<ReceivedFrame>("frame"), {
        type: "text",
        data: "through the tunnel",
      });
      const big = bytes(256 * 1024, 3);
      await conn.sendFrame({ type: "binary", data: big });
      const frame = await events.next<ReceivedFrame>("frame", 5000);
      assert.equal(frame.type, "binary");
      assertSameBytes(frame.data as Uint8Array, big, "the 256 KiB echo");
    });

  /** Connects, expects a HandshakeError; returns it. */
  const expectRefusal = async (
    base: string,
    slug: string,
    options: RecordingClientOptions,
  ): Promise<HandshakeError> =>
    await disposing(await open(base, slug, options), async (client) => {
      const error = assertHandshakeError(
        await client.events.next<DisconnectReason>("disconnected", 6000),
      );
      assert.ok(error.message.startsWith(`Cannot connect to ${base}/ws as `), error.message);
      assert.equal(client.events.all("connected").length, 0);
      return error;
    });

  const silentCount = async () =>
    await (await fetch(p.silentControl)).json() as { open: number; accepted: number };

  const closed = `ws://127.0.0.1:${p.closedPort}`;
  const name = (scheme: string, base: string) => `${scheme}://${p.squidOnly}:${new URL(base).port}`;

  test("tinyproxy: ws: echo through the tunnel", () =>
    expectEcho(p.ws, "tiny-ws", { proxy: p.tinyproxy }));

  test("tinyproxy: wss: echo, TLS to the server inside the tunnel", () =>
    expectEcho(p.wss, "tiny-wss", { proxy: p.tinyproxy, ...ca }));

  test("tinyproxy: a tunnel to a port it does not allow -> HandshakeError from the proxy, status 403", async () => {
    const error = await expectRefusal(closed, "tiny-403", { proxy: p.tinyproxy });
    assert.equal(error.status, 403);
    assert.match(
      error.message,
      new RegExp(
        `as the proxy ${p.tinyproxy} refused to open a tunnel to 127\\.0\\.0\\.1:${p.closedPort}: 403`,
      ),
    );
  });

  test("squid: ws: echo from a name only squid resolves", () =>
    expectEcho(name("ws", p.ws), "squid-ws", { proxy: p.squid }));

  test("squid: wss: echo from a name only squid resolves (serverName localhost)", () =>
    expectEcho(name("wss", p.wss), "squid-wss", {
      proxy: p.squid,
      transportOptions: { tls: { ca: config.ca, serverName: "localhost" } },
    }));

  test("squid with basic auth: percent-encoded credentials in the proxy URL -> ws: and wss: echo", async () => {
    await expectEcho(p.ws, "auth-ws", { proxy: withPassword(p.password) });
    await expectEcho(p.wss, "auth-wss", { proxy: withPassword(p.password), ...ca });
  });

  test("squid with basic auth: a wrong password -> HandshakeError 407 naming the proxy, no password in it", async () => {
    const error = await expectRefusal(p.wss, "auth-407", {
      proxy: withPassword(`wrong-${p.password}`),
      ...ca,
    });
    assert.equal(error.status, 407);
    assert.equal(
      error.message,
      `Cannot connect to ${p.wss}/ws as the proxy ${p.authSquid} refused to open a tunnel to ` +
        `127.0.0.1:${new URL(p.wss).port}: 407 Proxy Authentication Required`,
    );
    assert.match(error.headers?.get("proxy-authenticate") ?? "", /^Basic /);
    assert.ok(!String(error.cause?.toString()).includes(p.password));
  });

  test("squid with basic auth: no credentials -> HandshakeError 407", async () => {
    const error = await expectRefusal(p.ws, "auth-none", { proxy: p.authSquid });
    assert.equal(error.status, 407);
  });

  test("an https: proxy (squid's https_port): ws: echo over TLS to the proxy", () =>
    expectEcho(p.ws, "https-ws", { proxy: p.squidHttps, ...ca }));

  test(
    "an https: proxy: wss: TLS inside TLS -> echo on Node and Bun; on Deno, run with network and " +
      "environment access only, a HandshakeError naming --allow-sys (node:tls there adds the CA to " +
      "the default roots only with it)",
    async () => {
      if (config.runtime !== "deno") {
        await expectEcho(p.wss, "https-wss", { proxy: p.squidHttps, ...ca });
        return;
      }
      const error = await expectRefusal(p.wss, "https-wss", { proxy: p.squidHttps, ...ca });
      assert.match(error.message, /--allow-sys/);
    },
  );

  test("an https: proxy whose certificate is not trusted -> HandshakeError naming the TLS handshake with it", async () => {
    const error = await expectRefusal(p.ws, "https-untrusted", { proxy: p.squidHttps });
    assert.match(
      error.message,
      new RegExp(`as the TLS handshake with the proxy ${p.squidHttps} failed: `),
    );
  });

  test("a proxy that is down -> HandshakeError naming the proxy (not its credentials)", async () => {
    const error = await expectRefusal(p.wss, "down", {
      proxy: p.down.replace("//", "//user:hunter2@"),
      ...ca,
    });
    assert.match(
      error.message,
      new RegExp(`as the TCP connection to the proxy ${p.down} failed: `),
    );
    assert.ok(!error.message.includes("hunter2"));
  });

  test("a proxy that never answers CONNECT: connectTimeout ends the attempt and releases its connection", async () => {
    for (const [base, options] of [[p.ws, {}], [p.wss, ca]] as const) {
      const before = await silentCount();
      const client = use(
        await open(base, "silent", {
          proxy: p.silent,
          connectTimeout: 300,
          ...options,
        }),
      );
      const reason = await client.events.next<DisconnectReason>("disconnected", 3000);
      assert.deepEqual(reason, { kind: "connect_timeout", timeout: 300 });
      const deadline = performance.now() + 2000;
      let now = await silentCount();
      while (now.open > 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        now = await silentCount();
      }
      assert.equal(now.accepted, before.accepted + 1, "the attempt reached the proxy");
      assert.equal(now.open, 0, "the proxy sees the connection closed");
    }
  });

  test("a proxy's 200 with more bytes in the same write: they are the tunnel's (ws: the server's answer, here a 403)", async () => {
    const error = await expectRefusal("ws://early.test:1", "early-ws", { proxy: p.scripted });
    assert.equal(error.status, 403);
    assert.match(error.message, /as the server answered 403 Forbidden instead of 101$/);
  });

  test("a proxy's 200 with more bytes in the same write, for wss: -> HandshakeError (no TLS server speaks first)", async () => {
    const error = await expectRefusal("wss://early.test:1", "early-wss", {
      proxy: p.scripted,
      ...ca,
    });
    assert.match(
      error.message,
      new RegExp(
        `as the tunnel through the proxy ${p.scripted} carried 45 bytes before the TLS handshake began$`,
      ),
    );
  });

  test("a proxy that does not answer in HTTP, or closes without an answer -> HandshakeError naming it", async () => {
    let error = await expectRefusal("ws://garbage.test:1", "garbage", { proxy: p.scripted });
    assert.match(
      error.message,
      new RegExp(
        `as the proxy ${p.scripted} failed to open a tunnel: its answer to CONNECT starts with "SSH-2\.0-OpenSSH_9\.2", not HTTP/1\.x$`,
      ),
    );
    error = await expectRefusal("wss://hangup.test:1", "hangup", { proxy: p.scripted, ...ca });
    assert.match(
      error.message,
      new RegExp(
        `as the proxy ${p.scripted} failed to open a tunnel: it closed the connection without answering CONNECT$`,
      ),
    );
  });

  // The environment cases: the runner's environment is described at the top of this file.

  test("env (default): ws: goes through http_proxy (squid), which wins over HTTP_PROXY", async () => {
    const before = await silentCount();
    await expectEcho(name("ws", p.ws), "env-ws", {});
    assert.equal((await silentCount()).accepted, before.accepted, "HTTP_PROXY was not used");
  });

  test('env ("env"): wss: goes through HTTPS_PROXY (squid)', () =>
    expectEcho(name("wss", p.wss), "env-wss", {
      proxy: "env",
      transportOptions: { tls: { ca: config.ca, serverName: "localhost" } },
    }));

  test("env: NO_PROXY's 127.0.0.1:<port> -> that server is reached directly", () =>
    expectEcho(p.direct, "env-no-proxy", {}));

  test("env: a host NO_PROXY does not name goes through the proxy (squid refuses the closed port: 403)", async () => {
    const error = await expectRefusal(closed, "env-403", {});
    assert.equal(error.status, 403);
    assert.match(error.message, new RegExp(`as the proxy ${p.squid} refused to open a tunnel`));
  });

  test("env: proxy: false ignores the environment (a direct connection to the closed port fails)", async () => {
    const error = await expectRefusal(closed, "env-off", { proxy: false });
    assert.doesNotMatch(error.message, /proxy/);
    assert.equal(error.status, undefined);
  });

  test("env: a proxy URL in the option wins over the environment (tinyproxy refuses: 403)", async () => {
    const error = await expectRefusal(closed, "env-explicit", { proxy: p.tinyproxy });
    assert.match(error.message, new RegExp(`as the proxy ${p.tinyproxy} refused`));
  });
}
