// nginx (Debian's nginx-light, /usr/sbin/nginx) as a TLS-terminating WebSocket reverse proxy for
// the tests: a child process in the foreground (`daemon off; master_process off;`) with its
// configuration, certificate, pid file and temporary paths in a directory of its own, listening
// on 127.0.0.1 and forwarding every request, upgrades included, to a plain ws:// backend on
// 127.0.0.1. It can be stopped and started again on the same port (a restart as a deployment
// would do one).

import type { KeyPair } from "./certs.ts";

/** Where Debian's nginx packages put the binary (PARLEY_NGINX: another one). */
export const NGINX = Deno.env.get("PARLEY_NGINX") || "/usr/sbin/nginx";

/** A running nginx. */
export interface NginxProxy {
  /** The port it listens on (the same after a restart). */
  readonly port: number;
  /** Stops it (gracefully: it lets open connections finish, for at most a second). */
  stop(): Promise<void>;
  /** Starts it again on the same port after a stop(). */
  start(): Promise<void>;
  /** Stops it if it runs and removes its directory. */
  close(): Promise<void>;
}

/** Throws saying which Debian package to install when nginx is missing. */
export async function assertNginxInstalled(): Promise<void> {
  try {
    await Deno.stat(NGINX);
  } catch {
    throw new Error(
      `${NGINX} is missing: install Debian's nginx-light (apt-get install nginx-light)`,
    );
  }
}

/** A port on 127.0.0.1 with nothing listening (taken, then released: nginx needs a number). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function config(dir: string, port: number, backendPort: number): string {
  return `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
# Shutting down lets open (upgraded) connections finish, but not for long.
worker_shutdown_timeout 1s;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  # The usual WebSocket proxy set-up: Upgrade and Connection are hop-by-hop headers, so they
  # have to be passed on explicitly.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/server.crt;
    ssl_certificate_key ${dir}/server.key;
    location / {
      proxy_pass http://127.0.0.1:${backendPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 60s;
    }
  }
}
`;
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
 * Starts nginx on a free port of 127.0.0.1 with TLS (`server`: the certificate chain and key)
 * in front of the plain backend on 127.0.0.1:`backendPort`; resolves once it accepts
 * connections.
 */
export async function startNginxProxy(
  server: KeyPair,
  backendPort: number,
): Promise<NginxProxy> {
  await assertNginxInstalled();
  const dir = await Deno.makeTempDir({ prefix: "parley-nginx-" });
  let child: Deno.ChildProcess | undefined;
  let stderr: Promise<string> = Promise.resolve("");
  let port = 0;
  await Deno.writeTextFile(`${dir}/server.crt`, server.cert);
  await Deno.writeTextFile(`${dir}/server.key`, server.key);

  const stop = async () => {
    const running = child;
    if (running === undefined) return;
    child = undefined;
    try {
      running.kill("SIGQUIT");
    } catch { /* it already exited */ }
    const timer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch { /* it exited meanwhile */ }
    }, 2000);
    try {
      await running.status;
    } finally {
      clearTimeout(timer);
    }
    await stderr;
  };

  const start = async () => {
    if (child !== undefined) throw new Error("nginx is already running");
    const spawned = new Deno.Command(NGINX, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", "stderr"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child = spawned;
    stderr = new Response(spawned.stderr).text();
    let exited = false;
    spawned.status.then(() => (exited = true));
    const deadline = performance.now() + 5000;
    while (!(await listening(port))) {
      if (exited || performance.now() > deadline) {
        await stop();
        throw new Error(
          `nginx did not ${exited ? "start" : "listen within 5 s"} on 127.0.0.1:${port}: ` +
            (await stderr).trim(),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // The free port may be taken again before nginx binds it: then try another, twice at most.
  for (let attempt = 1;; attempt++) {
    port = freePort();
    await Deno.writeTextFile(`${dir}/nginx.conf`, config(dir, port, backendPort));
    try {
      await start();
      break;
    } catch (error) {
      if (attempt < 3 && String(error).includes("Address already in use")) continue;
      await Deno.remove(dir, { recursive: true });
      throw error;
    }
  }
  return {
    port,
    stop,
    start,
    close: async () => {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
