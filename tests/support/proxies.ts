// HTTP(S) proxies for the proxy tests, on 127.0.0.1: Debian's tinyproxy and squid as child
// processes in the foreground, each with its configuration, logs and pid file in a temporary
// directory of its own (no system service), and a silent proxy that accepts connections and never
// answers (the connect timeout's case).
//
// squid runs as the user it is started by; started as root it switches to its
// cache_effective_user ("proxy" on Debian), which must read the configuration, certificate and
// password file and write the logs: so the directory is world-writable and its files world-
// readable (throwaway test secrets only). Its basic auth runs squid's basic_ncsa_auth helper on an
// htpasswd file made with `openssl passwd -apr1`; its https_port (TLS to the proxy) uses a
// certificate from tests/support/certs.ts. A `hosts` map is squid's hosts_file: names only squid
// resolves, so a connection that reaches such a name went through squid. A scripted proxy
// answers CONNECT with what a real one does not: bytes after its 200, garbage, or nothing.

import type { KeyPair } from "./certs.ts";
import { closedAtEnd } from "./disposable.ts";

export const TINYPROXY = Deno.env.get("PARLEY_TINYPROXY") || "/usr/bin/tinyproxy";
export const SQUID = Deno.env.get("PARLEY_SQUID") || "/usr/sbin/squid";
const NCSA_AUTH = "/usr/lib/squid/basic_ncsa_auth";

/** A running proxy; `await using` stops it and removes its directory. */
export interface RunningProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** What the proxy logged so far (tinyproxy's log, squid's access log). */
  log(): Promise<string>;
  close(): Promise<void>;
}

/** A running squid: `url` is its http_port, `httpsUrl` its https_port if it has one. */
export interface RunningSquid extends RunningProxy {
  /** `https://127.0.0.1:<port>`, when started with `https`. */
  readonly httpsUrl: string | undefined;
}

/** Throws saying which Debian package to install when `binary` is missing. */
async function assertInstalled(binary: string, pkg: string): Promise<void> {
  try {
    await Deno.stat(binary);
  } catch {
    throw new Error(`${binary} is missing: install Debian's ${pkg} (apt-get install ${pkg})`);
  }
}

/** A port on 127.0.0.1 with nothing listening (taken, then released: the proxies need numbers). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
async function listening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `binary args` in the foreground until `ports` all accept connections (5 s at most), and
 * returns a stop function. Its output is kept for the error when it does not start.
 */
async function spawn(
  name: string,
  binary: string,
  args: string[],
  ports: readonly number[],
): Promise<() => Promise<void>> {
  const child = new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
    .then(([out, err]) => `${out}${err}`.trim());
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* it exited meanwhile */ }
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* it exited meanwhile */ }
    }, 3000);
    try {
      await status;
    } finally {
      clearTimeout(timer);
    }
    await output;
  };
  const deadline = performance.now() + 5000;
  for (const port of ports) {
    while (!(await listening(port))) {
      if (exited || performance.now() > deadline) {
        await stop();
        throw new Error(
          `${name} did not ${
            exited ? "start" : "listen within 5 s"
          } on 127.0.0.1:${port}: ${await output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return stop;
}

/** Retries `start` on fresh ports when a port was taken before the proxy bound it. */
async function withFreePorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt < 3 && /address already in use|Address in use/i.test(String(error))) continue;
      throw error;
    }
  }
}

/**
 * Starts tinyproxy on a free port of 127.0.0.1. With `connectPorts`, it opens tunnels to those
 * ports only (CONNECT to any other is refused with 403); otherwise to any.
 */
export async function startTinyproxy(
  options: { connectPorts?: readonly number[] } = {},
): Promise<RunningProxy> {
  await assertInstalled(TINYPROXY, "tinyproxy");
  const dir = await Deno.makeTempDir({ prefix: "parley-tinyproxy-" });
  try {
    return await withFreePorts(async () => {
      const port = freePort();
      await Deno.writeTextFile(
        `${dir}/tinyproxy.conf`,
        [
          `Port ${port}`,
          "Listen 127.0.0.1",
          "Allow 127.0.0.1",
          "Timeout 60",
          "MaxClients 100",
          "DisableViaHeader Yes",
          "LogLevel Connect",
          `LogFile "${dir}/tinyproxy.log"`,
          `PidFile "${dir}/tinyproxy.pid"`,
          ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
          "",
        ].join("\n"),
      );
      const stop = await spawn("tinyproxy", TINYPROXY, ["-d", "-c", `${dir}/tinyproxy.conf`], [
        port,
      ]);
      return closedAtEnd({
        url: `http://127.0.0.1:${port}`,
        port,
        log: () => Deno.readTextFile(`${dir}/tinyproxy.log`).catch(() => ""),
        close: async () => {
          await stop();
          await Deno.remove(dir, { recursive: true });
        },
      });
    });
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** How a squid is configured. */
export interface SquidOptions {
  /** Basic auth: every request needs one of these users (name → password). */
  readonly users?: Readonly<Record<string, string>>;
  /** An https_port with this certificate besides the http_port. */
  readonly https?: KeyPair;
  /** Names only this squid resolves (name → address), its hosts_file. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Ports it refuses to open tunnels to (403). */
  readonly deniedPorts?: readonly number[];
}

/** An htpasswd line for basic_ncsa_auth, made with `openssl passwd -apr1`. */
async function htpasswd(user: string, password: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: ["passwd", "-apr1", "-stdin"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(password + "\n"));
  await writer.close();
  const result = await out.output();
  if (!result.success) {
    throw new Error(`openssl passwd failed: ${new TextDecoder().decode(result.stderr)}`);
  }
  return `${user}:${new TextDecoder().decode(result.stdout).trim()}`;
}

/** Starts squid on free ports of 127.0.0.1 (see {@linkcode SquidOptions}). */
export async function startSquid(options: SquidOptions = {}): Promise<RunningSquid> {
  await assertInstalled(SQUID, "squid");
  const dir = await Deno.makeTempDir({ prefix: "parley-squid-" });
  try {
    // Readable and writable by squid's cache_effective_user when started as root.
    await Deno.chmod(dir, 0o777);
    const file = async (name: string, text: string) => {
      await Deno.writeTextFile(`${dir}/${name}`, text);
      await Deno.chmod(`${dir}/${name}`, 0o644);
    };
    const auth: string[] = [];
    if (options.users !== undefined) {
      const lines = await Promise.all(
        Object.entries(options.users).map(([user, password]) => htpasswd(user, password)),
      );
      await file("passwd", lines.join("\n") + "\n");
      auth.push(
        `auth_param basic program ${NCSA_AUTH} ${dir}/passwd`,
        "auth_param basic children 2 startup=1 idle=1",
        "auth_param basic realm parley-test",
        "acl authenticated proxy_auth REQUIRED",
        "http_access deny !authenticated",
      );
    }
    if (options.https !== undefined) {
      await file("proxy.crt", options.https.cert);
      await file("proxy.key", options.https.key);
    }
    if (options.hosts !== undefined) {
      await file(
        "hosts",
        Object.entries(options.hosts).map(([name, address]) => `${address} ${name}`).join("\n") +
          "\n",
      );
    }
    return await withFreePorts(async () => {
      const port = freePort();
      const httpsPort = options.https === undefined ? undefined : freePort();
      const denied = options.deniedPorts ?? [];
      await file(
        "squid.conf",
        [
          `http_port 127.0.0.1:${port}`,
          ...(httpsPort === undefined ? [] : [
            `https_port 127.0.0.1:${httpsPort} tls-cert=${dir}/proxy.crt tls-key=${dir}/proxy.key`,
          ]),
          `pid_filename ${dir}/squid.pid`,
          `cache_log ${dir}/cache.log`,
          `access_log stdio:${dir}/access.log`,
          `coredump_dir ${dir}`,
          ...(options.hosts === undefined ? [] : [`hosts_file ${dir}/hosts`]),
          "cache deny all",
          "netdb_filename none",
          "pinger_enable off",
          "shutdown_lifetime 0 seconds",
          "via off",
          "forwarded_for delete",
          ...(denied.length === 0 ? [] : [
            `acl denied_ports port ${denied.join(" ")}`,
            "http_access deny CONNECT denied_ports",
          ]),
          ...auth,
          "http_access allow localhost",
          "http_access deny all",
          "",
        ].join("\n"),
      );
      const stop = await spawn("squid", SQUID, ["-N", "-f", `${dir}/squid.conf`], [
        port,
        ...(httpsPort === undefined ? [] : [httpsPort]),
      ]).catch(async (error) => {
        const log = await Deno.readTextFile(`${dir}/cache.log`).catch(() => "");
        throw new Error(`${(error as Error).message}\n${log.slice(-2000)}`);
      });
      return closedAtEnd({
        url: `http://127.0.0.1:${port}`,
        port,
        httpsUrl: httpsPort === undefined ? undefined : `https://127.0.0.1:${httpsPort}`,
        log: () => Deno.readTextFile(`${dir}/access.log`).catch(() => ""),
        close: async () => {
          await stop();
          await Deno.remove(dir, { recursive: true });
        },
      });
    });
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** A proxy that accepts connections, reads what comes, and never answers. */
export interface SilentProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** How many connections are open now. */
  open(): number;
  /** How many connections it accepted in all. */
  accepted(): number;
  /** `http://127.0.0.1:<port>/open`: answers `{ open, accepted }` (for the portable runners). */
  readonly control: string;
  close(): Promise<void>;
}

/** Starts a {@linkcode SilentProxy} on 127.0.0.1, port 0. */
export function startSilentProxy(): SilentProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const drain = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(4096);
    try {
      while ((await conn.read(buffer)) !== null) { /* never answered */ }
    } catch { /* closed by close() */ }
    conns.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const reads: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        accepted++;
        conns.add(conn);
        reads.push(drain(conn));
      }
    } catch { /* closed */ }
  })();
  const control = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ open: conns.size, accepted }),
  );
  const port = (listener.addr as Deno.NetAddr).port;
  return closedAtEnd({
    url: `http://127.0.0.1:${port}`,
    control: `http://127.0.0.1:${control.addr.port}/open`,
    open: () => conns.size,
    accepted: () => accepted,
    close: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await accepting;
      await Promise.all(reads);
      await control.shutdown();
    },
  });
}

/** The scripted proxy's answers, by the host in the CONNECT request. */
export const SCRIPTED_ANSWERS: Readonly<Record<string, string | null>> = {
  // A 200 and, in the same write, what a server might send first: the tunnel's first bytes.
  "early.test": "HTTP/1.1 200 Connection established\r\n\r\n" +
    "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
  // Not HTTP at all.
  "garbage.test": "SSH-2.0-OpenSSH_9.2\r\n\r\n",
  // Closes the connection without an answer.
  "hangup.test": null,
};

/** A fake proxy whose answer to CONNECT is scripted by the host asked for. */
export interface ScriptedProxy extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a {@linkcode ScriptedProxy} on 127.0.0.1, port 0: it reads the CONNECT request, writes
 * the answer {@linkcode SCRIPTED_ANSWERS} has for its host (or closes the connection), and then
 * reads and ignores whatever comes until the client closes.
 */
export function startScriptedProxy(): ScriptedProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    const buffer = new Uint8Array(4096);
    let head = "";
    try {
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buffer);
        if (n === null) return;
        head += new TextDecoder().decode(buffer.subarray(0, n));
      }
      const host = /^CONNECT ([^: ]+):/.exec(head)?.[1] ?? "";
      const answer = SCRIPTED_ANSWERS[host];
      if (answer === null || answer === undefined) return;
      await conn.write(new TextEncoder().encode(answer));
      while ((await conn.read(buffer)) !== null) { /* ignored */ }
    } catch {
      /* closed */
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        served.push(serve(conn));
      }
    } catch { /* closed */ }
  })();
  return closedAtEnd({
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await accepting;
      await Promise.all(served);
    },
  });
}
