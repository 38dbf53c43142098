// The socket transport through real HTTP(S) proxies on loopback (tests/support/proxies.ts):
// Debian's tinyproxy, squid (with and without basic auth, with an https_port) and a proxy that
// never answers, for ws: (npm:ws) and wss: (node:https + npm:ws with the test CA's certificate)
// servers, on Deno. tests/portable/proxy_cases.ts runs the same kinds of cases under Deno, Node
// and Bun, and the environment cases (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) in their own processes.
//
// The proxies start once for the file (squid takes about a second), so the cases are the steps of
// one test.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type Callbacks,
  type ConnectInfo,
  defineClient,
  type DisconnectReason,
  HandshakeError,
} from "../../mod.ts";
import { makeCerts } from "../support/certs.ts";
import { startTlsServer } from "../support/tls_echo_server.ts";
import { startWsServer } from "../support/servers.ts";
import { startSilentProxy, startSquid, startTinyproxy } from "../support/proxies.ts";
import {
  nextDisconnect,
  Recorder,
  recordingCallbacks,
  recordingLogger,
  waitFor,
} from "../support/recorder.ts";

/** A name only the squid started below resolves (its hosts_file). */
const SQUID_ONLY = "echo.parley-proxy.test";
const USER = "parley";
/** A password that needs percent-encoding in a URL. */
const PASSWORD = "p@ss:w0rd/%";
const ENCODED = encodeURIComponent(PASSWORD);

type Cb = Callbacks<null, null, unknown>;

/** Starts a socket client of `url` with `options`; `await using` stops it. */
async function startClient(url: string, options: object) {
  const rec = new Recorder();
  const logger = recordingLogger();
  const conn = await defineClient<null, null, unknown>(recordingCallbacks(rec) as Cb).start(null, {
    url,
    transport: "socket",
    logger,
    closeTimeout: 1000,
    connectTimeout: 5000,
    ...options,
  });
  return { conn, rec, logger, [Symbol.asyncDispose]: async () => void await conn.stop() };
}

/** Connects through the options' proxy and checks a text and a binary echo. */
async function expectEcho(url: string, options: object): Promise<void> {
  await using client = await startClient(url, options);
  const { conn, rec } = client;
  const info = (await rec.next("connected", 5000)).value as ConnectInfo;
  assert.equal(info.url, url);
  assert.equal(info.status, 101);
  await conn.sendFrame({ type: "text", data: "through the tunnel" });
  assert.deepEqual((await rec.next("frame")).value, { type: "text", data: "through the tunnel" });
  const big = new Uint8Array(256 * 1024).map((_, i) => i * 7);
  await conn.sendFrame({ type: "binary", data: big });
  assert.deepEqual((await rec.next("frame", 5000)).value, { type: "binary", data: big });
}

/** Connects, expects a HandshakeError, and returns it. */
async function expectRefusal(url: string, options: object): Promise<HandshakeError> {
  await using client = await startClient(url, options);
  const reason: DisconnectReason = await nextDisconnect(client.rec, 6000);
  assert.equal(reason.kind, "error", JSON.stringify(reason));
  const error = (reason as { error: Error }).error;
  assert.ok(error instanceof HandshakeError, `${error.name}: ${error.message}`);
  assert.ok(error.message.startsWith(`Cannot connect to ${url} as `), error.message);
  assert.equal(client.rec.all("connected").length, 0);
  return error;
}

/** Every string in `error`, its cause chain and its headers: none may hold the password. */
function allText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown; headers?: Headers } | undefined; e;) {
    parts.push(String(e.message), ...(e.headers ? [...e.headers].flat() : []));
    e = e.cause as typeof e;
  }
  return parts.join("\n");
}

Deno.test("proxies: tinyproxy, squid (plain, basic auth, https_port) and a silent proxy, ws: and wss:", async (t) => {
  const certs = await makeCerts();
  const tls = { transportOptions: { tls: { ca: certs.ca } } };
  await using ws = await startWsServer();
  await using wss = await startTlsServer(certs.server);
  const [tiny, squid, authSquid] = await Promise.all([
    startTinyproxy({ connectPorts: [ws.port, wss.port] }),
    startSquid({ https: certs.server, hosts: { [SQUID_ONLY]: "127.0.0.1" } }),
    startSquid({ users: { [USER]: PASSWORD } }),
  ]);
  await using _tiny = tiny;
  await using _squid = squid;
  await using _authSquid = authSquid;
  await using silent = startSilentProxy();
  const wsUrl = ws.url("/ws");
  const wssUrl = wss.url();

  await t.step(
    "tinyproxy: ws: and wss: echo through the tunnel, and its log shows both CONNECTs",
    async () => {
      await expectEcho(wsUrl, { proxy: tiny.url });
      await expectEcho(wssUrl, { proxy: tiny.url, ...tls });
      const log = await tiny.log();
      assert.match(log, new RegExp(`CONNECT 127\\.0\\.0\\.1:${ws.port} `), log);
      assert.match(log, new RegExp(`CONNECT 127\\.0\\.0\\.1:${wss.port} `), log);
    },
  );

  await t.step(
    "tinyproxy: a tunnel to a port it does not allow -> a HandshakeError from the proxy, status 403",
    async () => {
      await using other = await startWsServer();
      const error = await expectRefusal(other.url("/ws"), { proxy: tiny.url });
      assert.equal(error.status, 403);
      assert.match(
        error.message,
        new RegExp(
          `as the proxy ${tiny.url} refused to open a tunnel to 127\\.0\\.0\\.1:${other.port}: 403`,
        ),
      );
      assert.equal(other.connections.length, 0);
    },
  );

  await t.step(
    "squid: ws: and wss: to a name only squid resolves (the tunnel is squid's)",
    async () => {
      await expectEcho(`ws://${SQUID_ONLY}:${ws.port}/ws`, { proxy: squid.url });
      await expectEcho(`wss://${SQUID_ONLY}:${wss.port}/ws`, {
        proxy: squid.url,
        transportOptions: { tls: { ca: certs.ca, serverName: "localhost" } },
      });
      assert.match(await squid.log(), new RegExp(`CONNECT ${SQUID_ONLY.replaceAll(".", "\\.")}:`));
    },
  );

  await t.step(
    "squid: a server refusing the upgrade in the tunnel is the server's refusal, not the proxy's",
    async () => {
      const error = await expectRefusal(ws.url("/reject"), { proxy: squid.url });
      assert.equal(error.status, 403);
      assert.match(error.message, /the server answered 403 Forbidden instead of 101/);
      assert.doesNotMatch(error.message, /proxy/);
    },
  );

  await t.step(
    "squid with basic auth: percent-encoded credentials in the proxy URL -> ws: and wss: echo",
    async () => {
      const proxy = authSquid.url.replace("//", `//${USER}:${ENCODED}@`);
      await expectEcho(wsUrl, { proxy });
      await expectEcho(wssUrl, { proxy: new URL(proxy), ...tls });
    },
  );

  await t.step(
    "squid with basic auth: a wrong password -> HandshakeError 407 naming the proxy, the password nowhere",
    async () => {
      const proxy = authSquid.url.replace("//", `//${USER}:wrong-${ENCODED}@`);
      const error = await expectRefusal(wssUrl, { proxy, ...tls });
      assert.equal(error.status, 407);
      assert.equal(
        error.message,
        `Cannot connect to ${wssUrl} as the proxy ${authSquid.url} refused to open a tunnel to ` +
          `127.0.0.1:${wss.port}: 407 Proxy Authentication Required`,
      );
      assert.match(error.headers?.get("proxy-authenticate") ?? "", /^Basic realm="parley-test"/);
      const text = allText(error);
      assert.doesNotMatch(text, /p@ss|w0rd|wrong-|parley:/);
    },
  );

  await t.step("squid with basic auth: no credentials -> HandshakeError 407", async () => {
    const error = await expectRefusal(wsUrl, { proxy: authSquid.url });
    assert.equal(error.status, 407);
    assert.match(error.message, /refused to open a tunnel .*: 407/);
  });

  await t.step(
    "an https: proxy (squid's https_port): ws: over TLS to the proxy, wss: TLS inside TLS",
    async () => {
      await expectEcho(wsUrl, { proxy: squid.httpsUrl, ...tls });
      // On Deno, TLS inside TLS goes through node:tls, which adds the CA to the default roots
      // only with --allow-sys (deno task test grants it).
      await expectEcho(wssUrl, { proxy: squid.httpsUrl, ...tls });
    },
  );

  await t.step(
    "an https: proxy whose certificate is not trusted -> HandshakeError naming the TLS handshake with the proxy",
    async () => {
      const error = await expectRefusal(wsUrl, { proxy: squid.httpsUrl });
      assert.match(
        error.message,
        new RegExp(`as the TLS handshake with the proxy ${squid.httpsUrl} failed: `),
      );
      assert.equal(error.status, undefined);
    },
  );

  await t.step("a proxy that is down -> HandshakeError naming the proxy", async () => {
    // Port 1 (tcpmux): nothing listens there, and no test server can take it meanwhile.
    const url = "http://127.0.0.1:1";
    for (const target of [wsUrl, wssUrl]) {
      const error = await expectRefusal(target, {
        proxy: url.replace("//", "//user:hunter2@"),
        ...tls,
      });
      assert.match(error.message, new RegExp(`as the TCP connection to the proxy ${url} failed: `));
      assert.doesNotMatch(allText(error), /hunter2/);
    }
  });

  await t.step(
    "a proxy that never answers CONNECT: connectTimeout ends the attempt and releases its connection",
    async () => {
      for (const target of [wsUrl, wssUrl]) {
        const before = silent.accepted();
        await using client = await startClient(target, {
          proxy: silent.url,
          connectTimeout: 300,
          ...tls,
        });
        const started = performance.now();
        const reason = await nextDisconnect(client.rec, 3000);
        assert.deepEqual(reason, { kind: "connect_timeout", timeout: 300 });
        assert.ok(performance.now() - started < 2000);
        assert.equal(silent.accepted(), before + 1, "the attempt reached the proxy");
        await waitFor(() => silent.open() === 0, "the proxy sees the connection closed", 2000);
      }
    },
  );
});

Deno.test('proxies: Deno without --allow-env: the default goes direct (and says so in a debug message), proxy: "env" fails naming --allow-env', async () => {
  await using ws = await startWsServer();
  await using silent = startSilentProxy();
  const probe = fileURLToPath(new URL("../support/proxy_env_probe.ts", import.meta.url));
  const run = async (proxy: string, flags: string[] = [], env: Record<string, string> = {}) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", ...flags, "--no-prompt", probe, ws.url("/ws"), proxy],
      env: { HTTP_PROXY: silent.url, http_proxy: silent.url, NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, `${text}\n${new TextDecoder().decode(out.stderr)}`);
    return JSON.parse(text) as { outcome: string; debug: string[] };
  };
  const lenient = await run("default");
  assert.equal(lenient.outcome, "connected");
  assert.equal(lenient.debug.length, 1, JSON.stringify(lenient.debug));
  assert.match(
    lenient.debug[0],
    /is reached without a proxy: the proxy variables cannot be read \(on Deno: run with --allow-env or --allow-env=http_proxy,HTTP_PROXY,all_proxy,ALL_PROXY,no_proxy,NO_PROXY\)/,
  );
  const strict = await run("env");
  assert.match(
    strict.outcome,
    /^HandshakeError: Cannot connect to .* as proxy: "env" cannot read http_proxy, HTTP_PROXY, all_proxy, ALL_PROXY: on Deno, run with --allow-env/,
  );
  // Some variables granted, not the whole environment: those are read (HTTP_PROXY, and NO_PROXY
  // excludes the host), the others count as unset.
  const partial = await run("default", ["--allow-env=HTTP_PROXY,NO_PROXY"], {
    NO_PROXY: "127.0.0.1",
  });
  assert.equal(partial.outcome, "connected");
  assert.match(partial.debug[0], /is reached without a proxy: NO_PROXY matches 127\.0\.0\.1:/);
  assert.equal(silent.accepted(), 0, "none went to the proxy in the environment");
});

Deno.test("proxies: a socks5: proxy in the environment fails the connection (never bypassed), naming the variable but not its credentials", async () => {
  await using ws = await startWsServer();
  const probe = fileURLToPath(new URL("../support/proxy_env_probe.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--no-prompt",
      probe,
      ws.url("/ws"),
      "default",
    ],
    env: { ALL_PROXY: "socks5://user:hunter2@127.0.0.1:1080", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `${text}\n${new TextDecoder().decode(out.stderr)}`);
  const { outcome } = JSON.parse(text) as { outcome: string };
  assert.equal(
    outcome,
    `HandshakeError: Cannot connect to ${ws.url("/ws")} as ALL_PROXY names a socks5: proxy ` +
      "(socks5://127.0.0.1:1080), and only http: and https: proxies are supported",
  );
  assert.equal(ws.connections.length, 0);
});
