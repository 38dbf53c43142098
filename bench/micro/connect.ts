// Micro-benchmark of opening and closing a connection on the socket transport, against an older
// src/ (see bench/micro/_harness.ts), in the runtime that runs it:
//
//   mkdir -p /tmp/base && git archive <rev> src mod.ts | tar -x -C /tmp/base
//   deno run -A bench/micro/connect.ts --baseline=/tmp/base [--cases=...] [--url=ws://...]
//   node bench/micro/connect.ts --baseline=/tmp/base ...     bun bench/micro/connect.ts ...
//
// Cases (--cases, comma-separated; all by default):
//
// - `handshake`: a ClientConnection made (key, upgrade request) and fed a typical 101 response
//   (the Bun server's, with a Date header) until it is open: the protocol core's share of a
//   connection, without sockets.
// - `proxy`: the proxy decision for a ws: URL with the default setting (the environment), as
//   every connection attempt makes it (twice: once when the client starts, once per dial).
// - `transport`: the socket transport's connection opened (the 101 read) and closed (the close
//   handshake and both FINs, until `done`), one after another, against a WebSocket echo server;
//   alternated with `minimal`, the same exchange by a minimal client on the runtime's own sockets
//   (bench/micro/_minimal_client.ts): the floor for a client written in JavaScript; and with
//   `websocket`, the runtime's own global `WebSocket` opened and closed (code 1000).
// - `client`: the same through the public API: `defineClient({}).start` and `stop`.
//
// The server is bench/server.ts under Bun in a process of its own (started here), or `--url`.
// Sync cases use the harness's alternation; the connection cases run rounds of `--batch`
// connections per variant (default 100), alternated, and report CPU and wall time per
// connection: the CPU clock counts the process's own work (syscalls included), not the time it
// waited for the server or for a core on a busy machine.

import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  baselineSrc,
  compare,
  keep,
  type Measured,
  option,
  print,
  runtimeName,
  summarize,
} from "./_harness.ts";
import { minimalCycle } from "./_minimal_client.ts";

type Connection = typeof import("../../src/protocol/client_connection.ts");
type Limits = typeof import("../../src/protocol/limits.ts");
type Socket = typeof import("../../src/transport/socket.ts");
type Proxy = typeof import("../../src/transport/proxy.ts");
type Mod = typeof import("../../mod.ts");

interface Impl {
  readonly name: string;
  readonly connection: Connection;
  readonly limits: Limits;
  readonly socket: Socket;
  readonly proxy: Proxy;
  readonly mod: Mod;
}

async function load(name: string, src: string): Promise<Impl> {
  return {
    name,
    connection: await import(`${src}protocol/client_connection.ts`),
    limits: await import(`${src}protocol/limits.ts`),
    socket: await import(`${src}transport/socket.ts`),
    proxy: await import(`${src}transport/proxy.ts`),
    mod: await import(`${src}../mod.ts`),
  };
}

const here = new URL("../../src/", import.meta.url).href;
const base = baselineSrc();
const impls: Impl[] = base === undefined
  ? [await load("new", here)]
  : [await load("old", base), await load("new", here)];
const cases = option("cases", "handshake,proxy,transport,client").split(",");
const batch = Number(option("batch", "100"));
const rounds = Number(option("rounds", "21"));

/** The Bun server's answer to an upgrade (as bench/server.ts sends it), for `key`. */
function response(accept: string): Uint8Array {
  return new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\nDate: Mon, 07 Dec 2026 04:41:54 GMT\r\n\r\n`,
  );
}

console.log(`${runtimeName()}: ${impls.map((i) => i.name).join(" vs ")}`);

if (cases.includes("handshake")) {
  // A fixed key, so every connection gets the same response.
  const random = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i++) b[i] = 0x5a ^ i;
  };
  const url = new URL("ws://127.0.0.1:8080/");
  const handler = {
    opened() {},
    text() {},
    binary() {},
    ping() {},
    pong() {},
    remoteClose() {},
    error(error: Error) {
      throw error;
    },
  };
  const results = compare(
    impls.map((impl) => {
      const open = () =>
        new impl.connection.ClientConnection({
          url,
          headers: [],
          subprotocols: [],
          limits: impl.limits.DEFAULT_LIMITS,
          random,
        }, handler);
      const first = open();
      const key = /Sec-WebSocket-Key: (\S+)/.exec(new TextDecoder().decode(first.takeOutput()[0]))!;
      const answer = response(expectedAccept(key[1]));
      first.receive(answer);
      if (first.state !== "open") throw new Error(`${impl.name}: the handshake failed`);
      return {
        name: impl.name,
        run(n: number) {
          for (let i = 0; i < n; i++) {
            const conn = open();
            keep(conn.takeOutput());
            conn.receive(answer);
          }
        },
      };
    }),
    { rounds },
  );
  print("handshake: ClientConnection made, request taken, 101 parsed", results);
}

if (cases.includes("proxy")) {
  const url = new URL("ws://127.0.0.1:8080/");
  const results = compare(
    impls.map((impl) => ({
      name: impl.name,
      run(n: number) {
        for (let i = 0; i < n; i++) keep(impl.proxy.proxyFor(url, impl.proxy.DEFAULT_PROXY));
      },
    })),
    { rounds },
  );
  print("proxy: proxyFor(ws://127.0.0.1:8080/, the environment)", results);
}

const needServer = cases.includes("transport") || cases.includes("client");
let stopServer = () => {};
let wsUrl = option("url");
if (needServer && wsUrl === undefined) {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const child = spawn(`${root}.tools/node_modules/.bin/bun`, [`${root}bench/server.ts`], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      if (text.includes("\n")) resolve(text.split("\n")[0]);
    });
    child.on("error", reject);
  });
  wsUrl = `ws://127.0.0.1:${JSON.parse(line).ws}/`;
  stopServer = () => child.stdin!.end();
}

/** CPU milliseconds of this process so far. */
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Alternates async variants: rounds of `batch` operations each, rotating the order. */
async function compareAsync(
  variants: ReadonlyArray<{ name: string; run: () => Promise<void> }>,
): Promise<{ cpu: Measured[]; wall: Measured[] }> {
  for (const v of variants) for (let i = 0; i < batch; i++) await v.run();
  const cpuTimes: number[][] = variants.map(() => []);
  const wallTimes: number[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const c0 = cpu();
      const w0 = performance.now();
      for (let j = 0; j < batch; j++) await variants[i].run();
      cpuTimes[i].push((cpu() - c0) * 1e6 / batch);
      wallTimes[i].push((performance.now() - w0) * 1e6 / batch);
    }
  }
  return { cpu: summarize(variants, cpuTimes), wall: summarize(variants, wallTimes) };
}

try {
  if (cases.includes("transport")) {
    const url = new URL(wsUrl!);
    const results = await compareAsync([
      ...impls.map((impl) => {
        const connector = impl.socket.socketConnector;
        return {
          name: impl.name,
          run: () =>
            new Promise<void>((resolve, reject) => {
              const transport = connector.connect({
                url,
                headers: [],
                subprotocols: [],
                closeTimeout: 5000,
                limits: impl.limits.DEFAULT_LIMITS,
                proxy: impl.proxy.DEFAULT_PROXY,
              }, {
                opened() {
                  transport.close(1000, "");
                  transport.done.then(resolve);
                },
                frame() {},
                ping() {},
                remoteClose() {},
                error: reject,
                heartbeatTimeout() {},
                rtt() {},
              });
            }),
        };
      }),
      { name: "minimal", run: () => minimalCycle(url) },
      { name: "websocket", run: () => webSocketCycle(url) },
    ]);
    print("transport: open (101) and close (until done), CPU per connection", results.cpu);
    print("transport: the same, wall time per connection", results.wall);
  }
  if (cases.includes("client")) {
    const results = await compareAsync(impls.map((impl) => {
      const Client = impl.mod.defineClient({});
      return {
        name: impl.name,
        async run() {
          const conn = await Client.start(undefined, { url: wsUrl!, transport: "socket" });
          await conn.ready();
          await conn.stop();
        },
      };
    }));
    print("client: start, ready, stop, CPU per connection", results.cpu);
    print("client: the same, wall time per connection", results.wall);
  }
} finally {
  stopServer();
}
process.exit(0);

/** The runtime's own `WebSocket`: opened, closed with 1000, until its close event. */
function webSocketCycle(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => ws.close(1000);
    ws.onerror = () => reject(new Error("the WebSocket failed"));
    ws.onclose = (event) => {
      if (event.code === 1000) resolve();
      else reject(new Error(`the WebSocket closed with ${event.code}`));
    };
  });
}

/** Sec-WebSocket-Accept computed here, independently of either src/ (RFC 6455 §4.2.2). */
function expectedAccept(key: string): string {
  return independentSha1Base64(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
}

function independentSha1Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i++) words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
  words[bytes.length >> 2] |= 0x80 << (24 - (bytes.length % 4) * 8);
  const blocks = ((bytes.length + 8) >> 6) + 1;
  for (let i = words.length; i < blocks * 16; i++) words[i] = 0;
  words[blocks * 16 - 1] = bytes.length * 8;
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Array<number>(80);
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 80; i++) {
      w[i] = i < 16 ? words[b * 16 + i] | 0 : rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    }
    let [a, bb, c, d, e] = h;
    for (let i = 0; i < 80; i++) {
      const f = i < 20
        ? (bb & c) | (~bb & d)
        : i < 40
        ? bb ^ c ^ d
        : i < 60
        ? (bb & c) | (bb & d) | (c & d)
        : bb ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (rotl(a, 5) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = rotl(bb, 30);
      bb = a;
      a = t;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + bb) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
  }
  let binary = "";
  for (const x of h) {
    for (let s = 24; s >= 0; s -= 8) binary += String.fromCharCode((x >>> s) & 0xff);
  }
  return btoa(binary);
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}
