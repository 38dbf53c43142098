// The portable end-to-end suites (tests/portable/) under Deno, Node 24, Node 22 and Bun, each
// against an npm:ws server, a Deno.serve server, a Bun.serve server, a Python websockets server
// (tests/support/python_server.py, Debian's python3-websockets) and npm:ws behind nginx
// terminating TLS (tests/support/nginx_wss_server.ts, Debian's nginx-light), on both transports,
// and against npm:ws with perMessageDeflate (every message compressed), the hostile server
// (tests/support/hostile_routes.ts), a wss:// echo server with throwaway certificates
// (tests/support/tls_echo_server.ts, tests/support/certs.ts) and through HTTP(S) proxies
// (tests/support/proxies.ts: Debian's tinyproxy and squid) on the socket transport; and the
// applications cases (tests/portable/applications_cases.ts: tokens per attempt, events, JSON-RPC
// over call, frames() under a flood, credentials in logs) against the applications servers
// (tests/support/app_servers.ts: npm:ws, Deno.serve, Bun.serve, Python websockets) on both
// transports, and on Deno's WebSocketStream (--unstable-net). Node 24, Node 22 and Bun are the
// pinned ones tools/install.sh puts in .tools/; Node 22, the oldest Node we support, runs the
// same .ts files as Node 24, unflagged (its type stripping is on by default since 22.18; the
// cases avoid `using` declarations, which its V8 cannot parse). Each runner is a subprocess with
// a server of its own; PARALLEL run at a time. Every portable test shows as a step named
// "<runtime> × <server> × <transport>: <case>".
//
// Through nginx, the socket transport trusts the test CA through `transportOptions.tls.ca` only,
// and the web transport through the runtime's own trust store only (Deno: DENO_CERT; Node and
// Bun: NODE_EXTRA_CA_CERTS): each in a runner of its own, so that neither passes on the other's
// trust.
//
// Without Debian's python3-websockets or nginx-light, the Python or nginx runners fail (each
// saying what to install) and the others still run.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type ControlledServer,
  startControlledServer,
  startServerProcess,
} from "./support/servers.ts";
import { startHostileServer } from "./support/hostile_routes.ts";
import { makeCerts, type TestCerts } from "./support/certs.ts";
import { startTlsServer as startWssEchoServer } from "./support/tls_echo_server.ts";
import { startPythonServer } from "./support/python_server.ts";
import { startNginxWssServer } from "./support/nginx_wss_server.ts";
import {
  startScriptedProxy,
  startSilentProxy,
  startSquid,
  startTinyproxy,
} from "./support/proxies.ts";
import { startWsServer } from "./support/servers.ts";
import type { ProxyPeers } from "./portable/proxy_cases.ts";
import { RESULT_PREFIX, type Summary, type TestResult } from "./portable/results.ts";
import { startAppBunServer, startAppPythonServer, startAppServer } from "./support/app_servers.ts";

type Runtime = "deno" | "node" | "node22" | "bun";
type Transport = "socket" | "web";
type ServerKind =
  | "ws"
  | "deno"
  | "bun"
  | "python"
  | "nginx"
  | "ws-deflate"
  | "hostile"
  | "tls"
  | "proxy"
  | AppServerKind;
/** The applications servers (tests/support/app_servers.ts), for tests/portable/applications_cases.ts. */
type AppServerKind = "app-ws" | "app-deno" | "app-bun" | "app-python";

const RUNTIMES: readonly Runtime[] = ["deno", "node", "node22", "bun"];
const SERVERS: Readonly<Record<ServerKind, string>> = {
  ws: "npm:ws",
  deno: "Deno.serve",
  bun: "Bun.serve",
  python: "Python websockets",
  nginx: "nginx wss → npm:ws",
  "ws-deflate": "npm:ws with perMessageDeflate",
  hostile: "hostile server",
  tls: "tls server",
  proxy: "proxies",
  "app-ws": "applications on npm:ws",
  "app-deno": "applications on Deno.serve",
  "app-bun": "applications on Bun.serve",
  "app-python": "applications on Python websockets",
};
/** Runners at a time (this suite is meant to finish within a minute on two cores). */
const PARALLEL = 3;
/** Runs only the portable cases whose name contains it (all without it). */
const FILTER = Deno.env.get("PARLEY_PORTABLE_FILTER") ?? "";
/** The most one runner may take (it normally takes 2-3 s). */
const RUNNER_TIMEOUT = 45_000;

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const root = path("../");
const runner = path("./portable/main.ts");
/** The runner of the hostile cases (tests/portable/hostile_cases.ts). */
const hostileRunner = path("./portable/hostile_main.ts");
/** The runner of the TLS cases (tests/portable/tls_cases.ts). */
const tlsRunner = path("./portable/tls_main.ts");
/** The runner of the proxy cases (tests/portable/proxy_cases.ts). */
const proxyRunner = path("./portable/proxy_main.ts");
/** The runner of the applications cases (tests/portable/applications_cases.ts). */
const applicationsRunner = path("./portable/applications_main.ts");
const bunServer = path("./support/bun_server.ts");
const tool = (name: string) => `${root}.tools/node_modules/.bin/${name}`;

/**
 * The command line that runs `file` under `runtime` (`unstableNet`: Deno with --unstable-net,
 * which gives its WebSocketStream).
 */
function commandFor(runtime: Runtime, file: string, unstableNet = false): [string, string[]] {
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), [
        "run",
        ...(unstableNet ? ["--unstable-net"] : []),
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--no-prompt",
        file,
      ]];
    case "node":
      return [tool("node"), [file]];
    case "node22":
      return [tool("node22"), [file]];
    case "bun":
      return [tool("bun"), [file]];
  }
}

async function assertInstalled(name: string): Promise<void> {
  try {
    await Deno.stat(tool(name));
  } catch {
    throw new Error(
      `${
        tool(name)
      } is missing: run tools/install.sh test (it installs the pinned Node 24, Node 22 and Bun into .tools/)`,
    );
  }
}

const decoder = new TextDecoder();

/** A running test server, however it runs. */
interface RunningServer {
  readonly ws: string;
  readonly control: string;
  /** What the runner needs in its environment besides (the TLS server's CA). */
  readonly env?: Record<string, string>;
  /** The runner's environment for `runtime` on `transport` only (the nginx server's trust). */
  envFor?(runtime: Runtime, transport: Transport | undefined): Record<string, string>;
  close(): Promise<void>;
}

/**
 * The variable that makes `runtime`'s own TLS (its WebSocket's) trust the certificates of a PEM
 * file besides its roots.
 */
const TRUST_VARIABLE: Readonly<Record<Runtime, string>> = {
  deno: "DENO_CERT",
  node: "NODE_EXTRA_CA_CERTS",
  node22: "NODE_EXTRA_CA_CERTS",
  bun: "NODE_EXTRA_CA_CERTS",
};

/**
 * Starts npm:ws behind nginx with the test CA's server certificate. The socket runner gets the
 * CA as PEM (for `transportOptions.tls.ca`); the web runner gets it as a file in the runtime's
 * trust variable.
 */
async function startNginxServer(): Promise<RunningServer> {
  const c = await certs();
  const server = await startNginxWssServer(c.server);
  let caFile: string | undefined;
  try {
    caFile = await Deno.makeTempFile({ prefix: "parley-ca-", suffix: ".pem" });
    await Deno.writeTextFile(caFile, c.ca);
  } catch (error) {
    if (caFile !== undefined) await Deno.remove(caFile).catch(() => {});
    await server.close();
    throw error;
  }
  const file = caFile;
  return {
    ws: server.url,
    control: server.control,
    envFor: (runtime, transport) =>
      transport === "web" ? { [TRUST_VARIABLE[runtime]]: file } : { PARLEY_PORTABLE_CA: c.ca },
    close: async () => {
      await server.close();
      await Deno.remove(file);
    },
  };
}

let certsPromise: Promise<TestCerts> | undefined;
/** One set of certificates for every TLS runner (openssl takes a moment). */
function certs(): Promise<TestCerts> {
  return certsPromise ??= makeCerts();
}

/** Starts a wss:// echo server with a certificate the test CA signed; the runner gets the CA. */
async function startTlsServer(): Promise<RunningServer> {
  const c = await certs();
  const server = await startWssEchoServer(c.server);
  return {
    ws: `wss://127.0.0.1:${server.port}`,
    control: "",
    env: { PARLEY_PORTABLE_CA: c.ca },
    close: () => server.close(),
  };
}

/**
 * A port on 127.0.0.1 with nothing listening: port 1 (tcpmux), which no test server takes and
 * only root could bind. A port taken and released would do only until another runner's
 * proxy picks the same free port.
 */
const CLOSED_PORT = 1;

/**
 * Starts the proxy runner's peers (see tests/portable/proxy_cases.ts): a ws:// and a wss:// echo
 * server, a "direct" echo server, tinyproxy, squid (plain with an https_port, and with basic
 * auth), a silent proxy and a scripted one. The runner's environment names them in PARLEY_PORTABLE_PROXIES and
 * sets every proxy variable the client reads (an empty one counts as unset), so that the test
 * process's own proxy settings, if it has any, do not leak in.
 */
async function startProxyPeers(): Promise<RunningServer> {
  const c = await certs();
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const f of closers.reverse()) await f().catch(() => {});
  };
  try {
    const ws = await startWsServer();
    closers.push(() => ws.close());
    const wss = await startWssEchoServer(c.server);
    closers.push(() => wss.close());
    const direct = await startWsServer();
    closers.push(() => direct.close());
    const silent = startSilentProxy();
    closers.push(() => silent.close());
    const scripted = startScriptedProxy();
    closers.push(() => scripted.close());
    const closed = CLOSED_PORT;
    const squidOnly = "echo.parley-proxy.test";
    const user = "parley";
    const password = "p@ss:w0rd/%";
    const started = await Promise.allSettled([
      startTinyproxy({ connectPorts: [ws.port, wss.port] }),
      startSquid({
        https: c.server,
        hosts: { [squidOnly]: "127.0.0.1" },
        deniedPorts: [direct.port, closed],
      }),
      startSquid({ users: { [user]: password } }),
    ]);
    for (const r of started) if (r.status === "fulfilled") closers.push(() => r.value.close());
    for (const r of started) if (r.status === "rejected") throw r.reason;
    const [tiny, squid, authSquid] = started.map((r) =>
      (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startSquid>>>).value
    );
    const peers: ProxyPeers = {
      ws: `ws://127.0.0.1:${ws.port}`,
      wss: `wss://127.0.0.1:${wss.port}`,
      direct: `ws://127.0.0.1:${direct.port}`,
      closedPort: closed,
      squidOnly,
      tinyproxy: tiny.url,
      squid: squid.url,
      squidHttps: squid.httpsUrl!,
      authSquid: authSquid.url,
      user,
      password,
      silent: silent.url,
      silentControl: silent.control,
      down: `http://127.0.0.1:${CLOSED_PORT}`,
      scripted: scripted.url,
    };
    return {
      ws: peers.ws,
      control: "",
      env: {
        PARLEY_PORTABLE_CA: c.ca,
        PARLEY_PORTABLE_PROXIES: JSON.stringify(peers),
        http_proxy: squid.url,
        HTTP_PROXY: silent.url,
        https_proxy: "",
        HTTPS_PROXY: squid.url,
        all_proxy: "",
        ALL_PROXY: "",
        no_proxy: "",
        NO_PROXY: `localhost,127.0.0.1:${direct.port},.parley-direct.test`,
        REQUEST_METHOD: "",
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Starts tests/support/bun_server.ts under Bun; it exits when its stdin closes. */
async function startBunServer(): Promise<RunningServer> {
  const [bin, args] = commandFor("bun", bunServer);
  const server = await startServerProcess(bin, args, "tests/support/bun_server.ts");
  return { ws: server.url, control: server.control, close: async () => void await server.close() };
}

/** Starts tests/support/python_server.py under Debian's /usr/bin/python3. */
async function startPython(): Promise<RunningServer> {
  const server = await startPythonServer();
  return { ws: server.url, control: server.control, close: async () => void await server.close() };
}

/** Starts an applications server (see tests/support/app_routes.ts). */
async function startApplicationsServer(kind: AppServerKind): Promise<RunningServer> {
  const server = kind === "app-bun"
    ? await startAppBunServer(commandFor("bun", "")[0])
    : kind === "app-python"
    ? await startAppPythonServer()
    : await startAppServer(kind === "app-ws" ? "ws" : "deno");
  return { ws: server.url, control: server.control, close: () => server.close() };
}

/** Whether `kind` is an applications server. */
function isApplications(kind: ServerKind): kind is AppServerKind {
  return kind.startsWith("app-");
}

async function startServer(kind: ServerKind): Promise<RunningServer> {
  if (isApplications(kind)) return await startApplicationsServer(kind);
  if (kind === "bun") return await startBunServer();
  if (kind === "hostile") return await startHostileServer();
  if (kind === "tls") return await startTlsServer();
  if (kind === "proxy") return await startProxyPeers();
  if (kind === "python") return await startPython();
  if (kind === "nginx") return await startNginxServer();
  const server: ControlledServer = await startControlledServer(
    kind as "ws" | "deno" | "ws-deflate",
  );
  return { ws: server.url, control: server.control, close: () => server.close() };
}

/** What one runner reported. */
interface Outcome {
  readonly runtime: Runtime;
  readonly server: ServerKind;
  readonly results: TestResult[];
  readonly summary: Summary["summary"] | undefined;
  readonly code: number;
  readonly timedOut: boolean;
  readonly stderr: string;
  readonly ms: number;
  /** Why the runner could not be run at all (a server did not start, say). */
  readonly failure?: unknown;
}

/** One runner: the suite under `runtime` against `server`, on `transport` only if given. */
interface Combo {
  readonly runtime: Runtime;
  readonly server: ServerKind;
  readonly transport?: Transport;
  /** Deno with --unstable-net (its WebSocketStream, which the web transport then runs on). */
  readonly unstableNet?: boolean;
}

/** Runs the portable suite under `runtime` against a fresh server of `kind`. */
async function runSuite(
  { runtime, server: kind, transport, unstableNet }: Combo,
): Promise<Outcome> {
  const started = performance.now();
  let server: RunningServer;
  try {
    server = await startServer(kind);
  } catch (failure) {
    return {
      runtime,
      server: kind,
      results: [],
      summary: undefined,
      code: -1,
      timedOut: false,
      stderr: "",
      ms: Math.round(performance.now() - started),
      failure,
    };
  }
  try {
    const file = kind === "hostile"
      ? hostileRunner
      : kind === "tls"
      ? tlsRunner
      : kind === "proxy"
      ? proxyRunner
      : isApplications(kind)
      ? applicationsRunner
      : runner;
    // The TLS and proxy runners need no control channel and no server kind.
    const own = kind === "tls" || kind === "proxy";
    // The runners get network and environment access only: a TLS path needing more (say
    // --allow-sys) fails here, as it would for a user.
    const [bin, args] = commandFor(runtime, file, unstableNet);
    const signal = AbortSignal.timeout(RUNNER_TIMEOUT);
    const out = await new Deno.Command(bin, {
      args: [
        ...args,
        `--ws=${server.ws}`,
        ...(own ? [] : [`--control=${server.control}`]),
        ...(kind === "hostile" || own ? [] : [`--server=${kind.replace(/^app-/, "")}`]),
        ...(transport === undefined ? [] : [`--transports=${transport}`]),
        `--filter=${FILTER}`,
      ],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...server.env, ...server.envFor?.(runtime, transport) },
      signal,
    }).output();
    const results: TestResult[] = [];
    let summary: Summary["summary"] | undefined;
    for (const line of decoder.decode(out.stdout).split("\n")) {
      if (!line.startsWith(RESULT_PREFIX)) continue;
      const parsed = JSON.parse(line.slice(RESULT_PREFIX.length)) as TestResult | Summary;
      if ("summary" in parsed) summary = parsed.summary;
      else results.push(parsed);
    }
    return {
      runtime,
      server: kind,
      results,
      summary,
      code: out.code,
      timedOut: signal.aborted,
      stderr: decoder.decode(out.stderr),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await server.close();
  }
}

/** Runs `jobs` with at most `limit` at a time; the promises settle in any order. */
function pool<T>(jobs: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T>[] {
  const promises: Promise<T>[] = [];
  let running = 0;
  const waiting: Array<() => void> = [];
  for (const job of jobs) {
    promises.push((async () => {
      if (running >= limit) await new Promise<void>((r) => waiting.push(r));
      running++;
      try {
        return await job();
      } finally {
        running--;
        waiting.shift()?.();
      }
    })());
  }
  return promises;
}

/** The servers both transports run against; the hostile server is for the socket transport. */
const SUITE_SERVERS: readonly ServerKind[] = ["ws", "deno", "bun", "python", "nginx"];
/** The applications servers, which both transports run against too. */
const APPLICATIONS_SERVERS: readonly AppServerKind[] = [
  "app-ws",
  "app-deno",
  "app-bun",
  "app-python",
];
/**
 * Which runtimes run the applications cases against which server: every runtime against npm:ws,
 * and each other server under two or three runtimes, so that every runtime meets a server of
 * another runtime or language and the suite stays short (each runner takes about 6 s).
 */
const APPLICATIONS_RUNS: Readonly<Record<AppServerKind, readonly Runtime[]>> = {
  "app-ws": ["deno", "node", "node22", "bun"],
  "app-deno": ["node", "bun"],
  "app-bun": ["deno", "node22"],
  "app-python": ["deno", "node", "bun"],
};

Deno.test(
  `the portable end-to-end suites: ${RUNTIMES.join(", ")} × ${
    SUITE_SERVERS.map((k) => SERVERS[k]).join(", ")
  } × socket, web; ${
    APPLICATIONS_SERVERS.map((k) => `${APPLICATIONS_RUNS[k].join(", ")} × ${SERVERS[k]}`)
      .join("; ")
  } × socket, web, and deno --unstable-net × ${SERVERS["app-ws"]} × web; ${RUNTIMES.join(", ")} × ${
    SERVERS["ws-deflate"]
  }, the hostile server, a TLS server, proxies × socket`,
  async (t) => {
    await assertInstalled("node");
    await assertInstalled("node22");
    await assertInstalled("bun");
    // The certificates are made meanwhile (a failure shows in the TLS runners' steps).
    certs().catch(() => {});
    // nginx runs each transport in a runner of its own (see the top of this file). The
    // applications runners (about 6 s each) first; the hostile and TLS runners (about 1 s each)
    // last: they fill the gaps the others leave. Deno with --unstable-net runs the applications
    // cases on the web transport over its WebSocketStream, which can pause reading.
    const combos: Combo[] = [
      ...RUNTIMES.flatMap((runtime) =>
        APPLICATIONS_SERVERS.filter((server) => APPLICATIONS_RUNS[server].includes(runtime))
          .map((server): Combo => ({ runtime, server }))
      ),
      { runtime: "deno", server: "app-ws", transport: "web", unstableNet: true },
      ...RUNTIMES.flatMap((runtime) =>
        SUITE_SERVERS.flatMap((server): Combo[] =>
          server === "nginx"
            ? [{ runtime, server, transport: "socket" }, { runtime, server, transport: "web" }]
            : [{ runtime, server }]
        )
      ),
      // Compression both ways through every case, on the socket transport (the web transport's
      // is the runtime's own).
      ...RUNTIMES.map((runtime) => ({
        runtime,
        server: "ws-deflate" as const,
        transport: "socket" as const,
      })),
      ...RUNTIMES.map((runtime) => ({ runtime, server: "hostile" as const })),
      ...RUNTIMES.map((runtime) => ({ runtime, server: "tls" as const })),
      ...RUNTIMES.map((runtime) => ({ runtime, server: "proxy" as const })),
    ];
    const outcomes = pool(combos.map((c) => () => runSuite(c)), PARALLEL);
    // Each promise is awaited below in order; none may go unhandled meanwhile, and none may
    // outlive the test.
    for (const p of outcomes) p.catch(() => {});
    try {
      await report(t, combos, outcomes);
    } finally {
      await Promise.allSettled(outcomes);
    }
  },
);

async function report(
  t: Deno.TestContext,
  combos: readonly Combo[],
  outcomes: ReadonlyArray<Promise<Outcome>>,
): Promise<void> {
  for (const [i, { runtime, server, transport, unstableNet }] of combos.entries()) {
    const label = `${runtime}${unstableNet ? " --unstable-net" : ""} × ${SERVERS[server]}`;
    const runnerLabel = transport === undefined ? label : `${label} (${transport} only)`;
    const outcome = await outcomes[i];
    await t.step(`${runnerLabel} (${outcome.ms} ms)`, async (t) => {
      for (const r of outcome.results) {
        await t.step({
          name: `${label} × ${r.name}${r.skipped ? ` [skipped: ${r.skipped}]` : ""}`,
          ignore: r.skipped !== undefined,
          fn: () => {
            if (!r.ok) throw new Error(`${label} × ${r.name}:\n${r.error}`);
          },
        });
      }
      const tail = outcome.stderr.trim().split("\n").slice(-30).join("\n");
      await t.step(`${runnerLabel}: the runner finished`, () => {
        if (outcome.failure !== undefined) throw outcome.failure;
        assert.ok(
          !outcome.timedOut,
          `the ${runtime} runner was killed after ${RUNNER_TIMEOUT} ms; stderr:\n${tail}`,
        );
        assert.ok(
          outcome.summary !== undefined,
          `the ${runtime} runner exited with ${outcome.code} before its summary; stderr:\n${tail}`,
        );
        // With PARLEY_PORTABLE_FILTER set, a runner may have no case that matches.
        assert.ok(outcome.results.length > 0 || FILTER !== "", "the runner ran no tests");
        assert.equal(
          outcome.code,
          outcome.summary.failed > 0 ? 1 : 0,
          `the ${runtime} runner's exit code; stderr:\n${tail}`,
        );
      });
    });
  }
}
