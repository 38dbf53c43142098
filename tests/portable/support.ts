// Helpers for the portable suites (runtime-neutral: Deno, Node 24, Bun): the configuration, an
// event recorder, a recording client, the servers' control channel and payloads.

import assert from "node:assert/strict";
import process from "node:process";
import {
  type ClientHandle,
  type ClientOptions,
  type ConnectInfo,
  defineClient,
  type DisconnectReason,
  type DisconnectResult,
  type Frame,
  HandshakeError,
  type Logger,
  ok,
  push,
  type ReceivedFrame,
} from "../../mod.ts";

export type Transport = "socket" | "web";

/** Asserts that `reason` is an error with a HandshakeError, and returns it. */
export function assertHandshakeError(reason: DisconnectReason): HandshakeError {
  assert.equal(reason.kind, "error", JSON.stringify(reason));
  if (reason.kind !== "error") throw new Error("unreachable");
  assert.ok(
    reason.error instanceof HandshakeError,
    `expected a HandshakeError, got ${reason.error?.name}: ${reason.error?.message}`,
  );
  return reason.error;
}

export type ServerKind = "ws" | "deno" | "bun" | "python" | "nginx" | "ws-deflate";
export type Runtime = "deno" | "node" | "bun";

/** What each test server can do. */
export const SERVERS: Record<
  ServerKind,
  {
    label: string;
    sendsPings: boolean;
    seesPings: boolean;
    /** What it answers the client's default permessage-deflate offer with ("": declines it). */
    deflate: string;
  }
> = {
  ws: { label: "npm:ws", sendsPings: true, seesPings: true, deflate: "" },
  deno: { label: "Deno.serve", sendsPings: false, seesPings: false, deflate: "" },
  bun: { label: "Bun.serve", sendsPings: true, seesPings: true, deflate: "" },
  // Its defaults: windows of 4 KiB both ways.
  python: {
    label: "Python websockets",
    sendsPings: true,
    seesPings: true,
    deflate: "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
  },
  // npm:ws behind nginx terminating TLS: nginx relays control frames as they come.
  nginx: { label: "nginx wss → npm:ws", sendsPings: true, seesPings: true, deflate: "" },
  "ws-deflate": {
    label: "npm:ws with perMessageDeflate",
    sendsPings: true,
    seesPings: true,
    deflate: "permessage-deflate",
  },
};

/**
 * The runner's settings: `--ws=`, `--control=`, `--server=`, `--transports=`, `--filter=` or
 * PARLEY_PORTABLE_*; for a wss:// server the CA that signed its certificate in
 * PARLEY_PORTABLE_CA.
 */
export interface Config {
  /** `ws://127.0.0.1:<port>` or `wss://127.0.0.1:<port>` (no path) */
  readonly ws: string;
  /** `http://127.0.0.1:<port>`: the server's control channel */
  readonly control: string;
  readonly server: ServerKind;
  readonly runtime: Runtime;
  /** The transports to run the cases on (both by default). */
  readonly transports: readonly Transport[];
  /**
   * The CA certificate (PEM) the socket transport trusts for a wss:// server, as
   * `transportOptions.tls.ca` (the web transport has no such option: the runtime must trust it).
   */
  readonly ca?: string;
  /** Runs only tests whose name contains it. */
  readonly filter: string;
}

/** The runtime this code runs in. */
export function currentRuntime(): Runtime {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "node";
}

function setting(name: string): string | undefined {
  const flag = `--${name}=`;
  const arg = process.argv.find((a) => a.startsWith(flag));
  if (arg !== undefined) return arg.slice(flag.length);
  return process.env[`PARLEY_PORTABLE_${name.toUpperCase()}`];
}

/** The hostile runner's settings (tests/portable/hostile_main.ts): those of {@linkcode Config}
 * but the server kind, which is always the hostile server. */
export type HostileConfig = Omit<Config, "server" | "transports" | "ca">;

/** Reads the hostile runner's configuration; throws naming what is missing. */
export function readHostileConfig(): HostileConfig {
  const ws = setting("ws");
  const control = setting("control");
  if (ws === undefined || control === undefined) {
    throw new Error(
      "Usage: <runtime> tests/portable/hostile_main.ts --ws=ws://127.0.0.1:<port> " +
        "--control=http://127.0.0.1:<port> [--filter=<text>] " +
        "(or PARLEY_PORTABLE_WS, _CONTROL, _FILTER)",
    );
  }
  return {
    ws: ws.replace(/\/$/, ""),
    control: control.replace(/\/$/, ""),
    runtime: currentRuntime(),
    filter: setting("filter") ?? "",
  };
}

/** The TLS runner's settings (tests/portable/tls_main.ts): the wss:// echo server's URL and the
 * test CA that signed its certificate. */
export interface TlsConfig {
  /** `wss://127.0.0.1:<port>` (no path) */
  readonly ws: string;
  /** The test CA's certificate (PEM). */
  readonly ca: string;
  readonly runtime: Runtime;
  /** Runs only tests whose name contains it. */
  readonly filter: string;
}

/** Reads the TLS runner's configuration (`--ws=`, `--filter=`; the CA PEM only from
 * PARLEY_PORTABLE_CA); throws naming what is missing. */
export function readTlsConfig(): TlsConfig {
  const ws = setting("ws");
  const ca = process.env.PARLEY_PORTABLE_CA;
  if (ws === undefined || ca === undefined || !ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(
      "Usage: PARLEY_PORTABLE_CA=<CA certificate PEM> <runtime> tests/portable/tls_main.ts " +
        "--ws=wss://127.0.0.1:<port> [--filter=<text>] (or PARLEY_PORTABLE_WS, _FILTER)",
    );
  }
  return {
    ws: ws.replace(/\/$/, ""),
    ca,
    runtime: currentRuntime(),
    filter: setting("filter") ?? "",
  };
}

/** Reads the configuration; throws naming what is missing. */
export function readConfig(): Config {
  const ws = setting("ws");
  const control = setting("control");
  const server = setting("server");
  if (ws === undefined || control === undefined || server === undefined) {
    throw new Error(
      "Usage: <runtime> tests/portable/main.ts --ws=ws://127.0.0.1:<port> " +
        `--control=http://127.0.0.1:<port> --server=${Object.keys(SERVERS).join("|")} ` +
        "[--transports=socket,web] [--filter=<text>] " +
        "(or PARLEY_PORTABLE_WS, _CONTROL, _SERVER, _TRANSPORTS, _FILTER; PARLEY_PORTABLE_CA: " +
        "the PEM of the CA a wss:// server's certificate is signed by)",
    );
  }
  if (!(server in SERVERS)) throw new Error(`Unknown server kind: ${server}`);
  const transports = (setting("transports") || "socket,web").split(",");
  for (const t of transports) {
    if (t !== "socket" && t !== "web") throw new Error(`Unknown transport: ${t}`);
  }
  const ca = process.env.PARLEY_PORTABLE_CA;
  return {
    ws: ws.replace(/\/$/, ""),
    control: control.replace(/\/$/, ""),
    server: server as ServerKind,
    runtime: currentRuntime(),
    transports: transports as Transport[],
    ...(ca ? { ca } : {}),
    filter: setting("filter") ?? "",
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One recorded event. */
export interface Event {
  readonly type: string;
  readonly value: unknown;
}

/** Collects events; `next` waits for the next one of a type. */
export class Events {
  readonly list: Event[] = [];
  #cursor = 0;
  #wake: Array<() => void> = [];

  push(type: string, value?: unknown): void {
    this.list.push({ type, value });
    for (const w of this.#wake.splice(0)) w();
  }

  all(type: string): unknown[] {
    return this.list.filter((e) => e.type === type).map((e) => e.value);
  }

  /** Waits up to `timeout` ms for the next event of `type` after the cursor. */
  async next<T = unknown>(
    type: string,
    timeout = 3000,
    pred: (value: unknown) => boolean = () => true,
  ): Promise<T> {
    const deadline = performance.now() + timeout;
    for (;;) {
      for (let i = this.#cursor; i < this.list.length; i++) {
        const e = this.list[i];
        if (e.type === type && pred(e.value)) {
          this.#cursor = i + 1;
          return e.value as T;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `No "${type}" event within ${timeout} ms; since the last one: ${
            this.list.slice(this.#cursor).map(describeEvent).join(", ") || "nothing"
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` events of `type` were recorded in all. */
  async count(type: string, count: number, timeout = 5000): Promise<unknown[]> {
    const deadline = performance.now() + timeout;
    while (this.all(type).length < count) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `Only ${this.all(type).length} of ${count} "${type}" events within ${timeout} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.all(type);
  }
}

function describeEvent(e: Event): string {
  const v = e.value as Record<string, unknown> | undefined;
  if (e.type === "frame" && v !== undefined) {
    const data = v.data;
    const size = typeof data === "string"
      ? `${data.length} chars`
      : `${(data as Uint8Array | undefined)?.length ?? 0} bytes`;
    return `frame(${v.type}, ${size})`;
  }
  if (e.type === "disconnected") return `disconnected(${JSON.stringify(v, replacer)})`;
  if (e.type === "log") return `log(${JSON.stringify(v)})`;
  return e.type;
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}

/** A logger that records into `events` as "log" events (and keeps the runner's stdout clean). */
function eventLogger(events: Events): Logger {
  const at = (level: string) => (message: string) => events.push("log", `${level}: ${message}`);
  return { debug: () => {}, info: at("info"), warn: at("warn"), error: at("error") };
}

export interface RecordingOptions extends Omit<ClientOptions, "transport" | "logger" | "url"> {
  /** The path and query after the server's URL, e.g. `/ws?id=x`. */
  readonly path: string;
  /** What handleConnect pushes (default nothing). */
  readonly greeting?: string;
  /** What handleFrame pushes in answer to a frame, if anything (default nothing). */
  readonly answer?: (frame: ReceivedFrame) => Frame | undefined;
  readonly handleDisconnect?: (reason: DisconnectReason) => DisconnectResult<null> | void;
}

/**
 * Starts a client on `transport` whose callbacks record into `events`: "connected" (the
 * ConnectInfo), "frame", "ping" (socket only: the web transport refuses handlePing) and
 * "disconnected" (the reason). The caller stops it.
 */
export function startRecording(
  config: Pick<Config, "ws">,
  transport: Transport,
  events: Events,
  options: RecordingOptions,
): Promise<ClientHandle<null>> {
  const { path, greeting, answer, handleDisconnect, ...rest } = options;
  const Client = defineClient<null>({
    handleConnect(state, info: ConnectInfo) {
      events.push("connected", info);
      if (greeting !== undefined) {
        return push({ type: "text", data: greeting }, state);
      }
      return ok(state);
    },
    handleFrame(frame: ReceivedFrame, state) {
      events.push("frame", frame);
      const reply = answer?.(frame);
      return reply === undefined ? ok(state) : push(reply, state);
    },
    ...(transport === "socket"
      ? {
        handlePing(payload: Uint8Array, state: null) {
          events.push("ping", payload);
          return ok(state);
        },
      }
      : {}),
    handleDisconnect(reason, state) {
      events.push("disconnected", reason);
      return handleDisconnect?.(reason) ?? ok(state);
    },
  });
  return Client.start(null, {
    ...rest,
    url: config.ws + path,
    transport,
    logger: eventLogger(events),
  });
}

/** A recording client, its events and its connection id; `await using` stops it. */
export interface RecordingClient extends AsyncDisposable {
  readonly conn: ClientHandle<null>;
  readonly events: Events;
  /** The connection id in its path (the control channel looks the connection up by it). */
  readonly id: string;
}

/** {@linkcode RecordingOptions} with the path made from the client's connection id. */
export type RecordingClientOptions = Omit<RecordingOptions, "path"> & {
  /** Default `/ws?id=<id>`. */
  readonly path?: (id: string) => string;
};

/**
 * Starts a client on `transport` that records into fresh events (see
 * {@linkcode startRecording}), with a fresh connection id made from `slug`. `await using client =
 * await startRecordingClient(...)` stops it at the end of the block.
 */
export async function startRecordingClient(
  config: Pick<Config, "ws" | "runtime">,
  transport: Transport,
  slug: string,
  options: RecordingClientOptions = {},
): Promise<RecordingClient> {
  const { path = (id: string) => `/ws?id=${id}`, ...rest } = options;
  const events = new Events();
  const id = connectionId(config, transport, slug);
  const conn = await startRecording(config, transport, events, { ...rest, path: path(id) });
  return { conn, events, id, [Symbol.asyncDispose]: async () => void await conn.stop() };
}

/** A connection as the server's control channel reports it. */
export interface SeenConnection {
  readonly id: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly protocol: string;
  readonly received: number;
  readonly pings: string[];
  readonly pongs: string[];
  readonly close: { code: number; reason: string } | null;
}

/**
 * The connections the server saw with `?id=<id>` (`T`: what this server's control channel
 * reports for one).
 */
export async function seen<T = SeenConnection>(
  config: Pick<Config, "control">,
  id: string,
): Promise<T[]> {
  const res = await fetch(`${config.control}/connections?id=${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`The control channel answered ${res.status}: ${await res.text()}`);
  return await res.json() as T[];
}

/** Polls the control channel until `pred` holds for the connections with `id`. */
export async function seenWhen<T = SeenConnection>(
  config: Pick<Config, "control">,
  id: string,
  pred: (conns: T[]) => boolean,
  what: string,
  timeout = 3000,
): Promise<T[]> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const conns = await seen<T>(config, id);
    if (pred(conns)) return conns;
    if (performance.now() > deadline) {
      throw new Error(
        `The server did not see ${what} within ${timeout} ms; it saw: ${
          JSON.stringify(conns, (key, value) => key === "headers" ? undefined : value)
        }`,
      );
    }
    await sleep(20);
  }
}

/** Asks the server to close every connection, stop listening and listen again after `down` ms. */
export async function restartServer(config: Config, down: number): Promise<void> {
  const res = await fetch(`${config.control}/restart?down=${down}`, { method: "POST" });
  const body = await res.text();
  if (!res.ok) throw new Error(`The restart failed: ${res.status} ${body}`);
}

/** `n` pseudo-random bytes, the same for the same `seed`. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** ASCII text of exactly `n` bytes that no test server takes for a command (it starts with `#`). */
export function asciiText(n: number, seed = 1): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;!?-_";
  const raw = bytes(n, seed);
  let s = n > 0 ? "#" : "";
  for (let i = 1; i < n; i++) s += alphabet[raw[i] % alphabet.length];
  return s;
}

/** Text of exactly `n` UTF-8 bytes with 1- to 4-byte characters, starting with `#`. */
export function utf8Text(n: number): string {
  const pieces = ["é", "€", "😀", "a", "ß", "✓", "z"];
  const encoder = new TextEncoder();
  let s = "#";
  let size = 1;
  for (let i = 0; size < n; i++) {
    const p = pieces[i % pieces.length];
    const len = encoder.encode(p).length;
    if (size + len > n) {
      s += "x".repeat(n - size);
      break;
    }
    s += p;
    size += len;
  }
  return s;
}

/** Throws naming the first difference unless `actual` and `expected` hold the same bytes. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!(actual instanceof Uint8Array)) {
    throw new Error(
      `${what}: expected a Uint8Array, got ${Object.prototype.toString.call(actual)}`,
    );
  }
  // A plain one: no Buffer (Node's and Bun's sockets deliver Buffers) reaches users.
  if (Object.getPrototypeOf(actual) !== Uint8Array.prototype) {
    throw new Error(`${what}: expected a plain Uint8Array, got a ${actual.constructor.name}`);
  }
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} bytes, got ${actual.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Throws naming the first difference unless the strings are equal. */
export function assertSameText(actual: unknown, expected: string, what: string): void {
  if (typeof actual !== "string") throw new Error(`${what}: expected a string, got ${actual}`);
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  throw new Error(
    `${what}: ${actual.length} chars, expected ${expected.length}; first difference at ${i}`,
  );
}

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tells this run's connections apart from those of other runs against the same server. */
const run = Math.random().toString(36).slice(2, 8);
let serial = 0;

/** A connection id for a test, unique on the server (the control channel looks it up). */
export function connectionId(
  config: Pick<Config, "runtime">,
  transport: Transport,
  slug: string,
): string {
  return `${config.runtime}-${run}-${transport}-${slug}-${++serial}`;
}
