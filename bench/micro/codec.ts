// Micro-benchmark of the protocol core's hot path against an older src/ (see docs/performance.md,
// "Micro-benchmarks"): encoding frames (ClientConnection.sendBinary / sendText, then takeOutput
// and the streams' coalescing of small chunks into one write, as the socket transport flushes)
// and decoding messages (ClientConnection.receive of the chunks a socket delivers), per size.
//
//   mkdir -p /tmp/base && git archive <rev> src | tar -x -C /tmp/base
//   deno run -R --allow-sys bench/micro/codec.ts --baseline=/tmp/base [--cases=encode,decode] [--sizes=...]
//   node bench/micro/codec.ts --baseline=/tmp/base ...     bun bench/micro/codec.ts ...
//
// Without --baseline, the current src/ runs alone. Every case checks that both give the same
// bytes (encoding, with a fixed random source) or the same messages (decoding) before timing.

import {
  baselineSrc,
  compare,
  keep,
  type Measured,
  option,
  print,
  runtimeName,
} from "./_harness.ts";
import type { ClientConnection, ConnectionHandler } from "../../src/protocol/client_connection.ts";
import { coalesce } from "../../src/transport/_stream.ts";

type Module = typeof import("../../src/protocol/client_connection.ts");
type Limits = typeof import("../../src/protocol/limits.ts");

interface Impl {
  readonly name: string;
  readonly connection: Module;
  readonly limits: Limits;
}

const current: Impl = {
  name: "new",
  connection: await import("../../src/protocol/client_connection.ts"),
  limits: await import("../../src/protocol/limits.ts"),
};
const base = baselineSrc();
const impls: Impl[] = base === undefined ? [current] : [
  {
    name: "old",
    connection: await import(`${base}protocol/client_connection.ts`),
    limits: await import(`${base}protocol/limits.ts`),
  },
  current,
];

const KiB = 1024;
const sizes = option("sizes", `32,${KiB},${16 * KiB},${64 * KiB},${KiB * KiB}`).split(",").map(
  Number,
);
const cases = option("cases", "encode,decode").split(",");
/** Bytes a socket read delivers at most (Deno's largest read buffer; Node's reads are 64 KiB). */
const READ = Number(option("read", `${256 * KiB}`));

/** Messages of `size` per batch: about 1 MiB of them, at least one. */
const batch = (size: number) => Math.max(1, Math.min(512, Math.floor(KiB * KiB / size)));

const random = (b: Uint8Array) => {
  for (let i = 0; i < b.length; i++) b[i] = 0x5a ^ i;
};

/** Collects what a connection reports. */
class Collect implements ConnectionHandler {
  messages = 0;
  bytes = 0;
  last: Uint8Array | string = "";
  opened(): void {}
  text(data: string): void {
    this.messages++;
    this.bytes += data.length;
    this.last = data;
  }
  binary(data: Uint8Array): void {
    this.messages++;
    this.bytes += data.length;
    this.last = data;
  }
  ping(): void {}
  pong(): void {}
  remoteClose(): void {}
  error(error: Error): void {
    throw error;
  }
}

/** An open connection of `impl` (the 101 answered), reporting to `handler`. */
function open(impl: Impl, handler: ConnectionHandler): ClientConnection {
  const conn = new impl.connection.ClientConnection({
    url: new URL("ws://127.0.0.1/"),
    headers: [],
    subprotocols: [],
    limits: impl.limits.DEFAULT_LIMITS,
    random,
  }, handler);
  const request = new TextDecoder().decode(conn.takeOutput()[0]);
  const key = /sec-websocket-key: (\S+)/i.exec(request)![1];
  conn.receive(
    new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
    ),
  );
  if (conn.state !== "open") throw new Error("not open");
  return conn;
}

/** The Sec-WebSocket-Accept for `key`. */
const accept = (await import("../../src/protocol/handshake.ts")).acceptFor;

/** Unmasked server frames of one message each, `count` of them, as one byte string. */
function serverFrames(payload: Uint8Array, opcode: number, count: number): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const one = new Uint8Array(head + n);
  one[0] = 0x80 | opcode;
  if (n < 126) one[1] = n;
  else if (n < 65536) {
    one[1] = 126;
    one[2] = n >>> 8;
    one[3] = n & 0xff;
  } else {
    one[1] = 127;
    new DataView(one.buffer).setUint32(6, n);
  }
  one.set(payload, head);
  const all = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  return all;
}

/** `bytes` cut into reads of at most READ bytes, each a fresh buffer as a socket gives. */
function reads(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += READ) out.push(bytes.slice(at, at + READ));
  return out;
}

const payloadOf = (size: number) => {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 7 + 3) & 0xff;
  return p;
};
const asciiOf = (size: number) => {
  let s = "";
  while (s.length < size) s += '{"seq":12345,"price":101.25,"sym":"ABCD"},';
  return s.slice(0, size);
};

const results: { title: string; results: Measured[]; bytes: number }[] = [];
function run(title: string, variants: { name: string; run: (n: number) => void }[], bytes: number) {
  const r = compare(variants);
  print(title, r, bytes);
  results.push({ title, results: r, bytes });
}

console.log(`codec, ${runtimeName()}${base === undefined ? "" : `, against ${base}`}`);

for (const size of sizes) {
  const count = batch(size);
  if (cases.includes("encode")) {
    for (const kind of ["binary", "text"] as const) {
      if (kind === "text" && size > 64 * KiB) continue;
      const data = kind === "binary" ? payloadOf(size) : asciiOf(size);
      // Binary messages from a rotating set of distinct ones, 32 MiB together (up to 64 of
      // them), so that large ones come from memory rather than the cache, as an application's.
      const messages = kind === "text" ? [data] : Array.from(
        { length: Math.max(1, Math.min(64, Math.floor(32 * KiB * KiB / size))) },
        (_, i) => i === 0 ? data : (data as Uint8Array).slice(),
      );
      let next = 0;
      const message = () => messages[next++ % messages.length];
      const conns = impls.map((impl) => open(impl, new Collect()));
      // The same bytes out of each (fixed random source).
      const outs = conns.map((c) => {
        for (let i = 0; i < 3; i++) send(c, data);
        return concat(c.takeOutput());
      });
      for (const o of outs) {
        if (!equal(o, outs[0])) throw new Error(`encode ${kind} ${size}: the bytes differ`);
      }
      run(
        `encode ${kind} ${size} B × ${count} (one batch per flush)`,
        impls.map((impl, i) => ({
          name: impl.name,
          run: (n) => {
            const c = conns[i];
            for (let r = 0; r < n; r++) {
              for (let j = 0; j < count; j++) send(c, message());
              write(c.takeOutput());
            }
          },
        })),
        size * count,
      );
    }
  }
  if (cases.includes("decode")) {
    for (const kind of ["binary", "text"] as const) {
      if (kind === "text" && size > 64 * KiB) continue;
      const payload = kind === "binary" ? payloadOf(size) : new TextEncoder().encode(asciiOf(size));
      const chunks = reads(serverFrames(payload, kind === "binary" ? 2 : 1, count));
      const sinks = impls.map(() => new Collect());
      const conns = impls.map((impl, i) => open(impl, sinks[i]));
      for (let i = 0; i < impls.length; i++) {
        for (const c of chunks) conns[i].receive(c);
        if (sinks[i].messages !== count || sinks[i].bytes !== count * size) {
          throw new Error(`decode ${kind} ${size}: ${impls[i].name} got ${sinks[i].messages}`);
        }
      }
      // Fresh read buffers per round, as a socket gives (the decoder may keep views of them).
      run(
        `decode ${kind} ${size} B × ${count} in reads of ≤ ${READ / KiB} KiB`,
        impls.map((_, i) => ({
          name: impls[i].name,
          run: (n) => {
            const c = conns[i];
            for (let r = 0; r < n; r++) {
              for (const chunk of chunks) c.receive(chunk.slice());
            }
          },
        })),
        size * count,
      );
    }
  }
}

/** What a stream does with the chunks of a flush: one write per coalesced run. */
function write(chunks: Uint8Array[]): void {
  for (let i = 0; i < chunks.length;) {
    const { bytes, end } = coalesce(chunks, i);
    keep(bytes);
    i = end;
  }
}

function send(c: ClientConnection, data: Uint8Array | string): void {
  if (typeof data === "string") c.sendText(data);
  else c.sendBinary(data);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
