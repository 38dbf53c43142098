// A scripted Connector for tests: the test plays the server. Every connect, frame sent,
// close(code, reason) and release() is recorded per connection, and the test drives the transport
// events (opened, frame, ping, remoteClose, error) by hand. Writes can be made to throw, reject,
// or wait until the test lets them through.

import type { Frame } from "../../src/vocabulary/frame.ts";
import type { ConnectInfo } from "../../src/vocabulary/connect_info.ts";
import { redactUrl } from "../../src/vocabulary/redact.ts";
import type { ReceivedFrame } from "../../src/vocabulary/frame.ts";
import type {
  Connector,
  ConnectParams,
  Transport,
  TransportEvents,
  Written,
} from "../../src/transport/transport.ts";

/** One call the client made on a connection, in order. */
export type Op =
  | { readonly op: "send"; readonly frame: Frame }
  | { readonly op: "close"; readonly code: number; readonly reason: string }
  | { readonly op: "release" }
  | { readonly op: "pause" }
  | { readonly op: "resume" };

/** How the connector behaves. */
export interface ScriptedOptions {
  /** `capabilities.controlFrames`: `true` plays the socket transport that sees pings. */
  readonly controlFrames?: boolean;
  /** The transport it plays, for `conn.transport`: `"socket"` with `controlFrames`, else `"web"`. */
  readonly name?: "web" | "socket";
  /** Runs right after each connect, e.g. `(c) => c.opened()` to accept every handshake. */
  readonly onConnect?: (conn: ScriptedConnection) => void;
  /** Keep `done` pending after close/release until the test calls `releaseDone()`. */
  readonly holdDone?: boolean;
}

/** How writes behave: written at once, thrown, rejected, or held until `releaseWrites()`. */
export type WriteMode =
  | { readonly mode: "ok" }
  | { readonly mode: "dropped" }
  | { readonly mode: "throw"; readonly error: unknown }
  | { readonly mode: "reject"; readonly error: unknown }
  | { readonly mode: "hold" };

/** A Connector whose connections the test scripts. */
export class ScriptedConnector implements Connector {
  readonly name: "web" | "socket";
  readonly capabilities: { controlFrames: boolean };
  /** Every connection, in connect order (ids start at 1). */
  readonly connections: ScriptedConnection[] = [];
  #options: ScriptedOptions;
  #waiters: Array<() => void> = [];

  constructor(options: ScriptedOptions = {}) {
    this.#options = options;
    this.name = options.name ?? (options.controlFrames ? "socket" : "web");
    this.capabilities = { controlFrames: options.controlFrames ?? false };
  }

  /** Records the connect and hands back a scripted connection. Never throws. */
  connect(params: ConnectParams, events: TransportEvents): Transport {
    const conn = new ScriptedConnection(
      this.connections.length + 1,
      params,
      events,
      this.#options.holdDone ?? false,
    );
    this.connections.push(conn);
    for (const w of this.#waiters.splice(0)) w();
    this.#options.onConnect?.(conn);
    return conn;
  }

  /** The latest connection; throws when there is none. */
  get last(): ScriptedConnection {
    const c = this.connections.at(-1);
    if (c === undefined) throw new Error("scripted: no connection was made");
    return c;
  }

  /** Waits (real time, up to `timeout` ms) for connection number `n` (1-based). */
  async connection(n: number, timeout = 2000): Promise<ScriptedConnection> {
    const deadline = performance.now() + timeout;
    while (this.connections.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(
          `scripted: no connection #${n} within ${timeout} ms (${this.connections.length} made)`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.connections[n - 1];
  }
}

/** One scripted connection: the client's Transport, and the test's handle on the "server". */
export class ScriptedConnection implements Transport {
  /** 1 for the first connection, 2 for the next... */
  readonly id: number;
  /** What the client asked to connect with. */
  readonly params: ConnectParams;
  /** Every send, close and release the client made, in order. */
  readonly ops: Op[] = [];
  /** Calls made after the connection was closed or released (a client bug if not empty). */
  readonly afterEnd: Op[] = [];
  /** What `pause()` answers: whether this connection can stop reading. */
  canPause = true;
  readonly done: Promise<void>;
  #events: TransportEvents;
  #write: WriteMode = { mode: "ok" };
  #held: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #ended = false;
  #holdDone: boolean;
  #resolveDone!: () => void;

  constructor(id: number, params: ConnectParams, events: TransportEvents, holdDone: boolean) {
    this.id = id;
    this.params = params;
    this.#events = events;
    this.#holdDone = holdDone;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** The frames the client sent, in order. */
  get sent(): Frame[] {
    return this.ops.flatMap((o) => (o.op === "send" ? [o.frame] : []));
  }

  /** The close(code, reason) calls. */
  get closes(): Array<{ code: number; reason: string }> {
    return this.ops.flatMap((o) => (o.op === "close" ? [{ code: o.code, reason: o.reason }] : []));
  }

  /** How many times release() was called. */
  get releases(): number {
    return this.ops.filter((o) => o.op === "release").length;
  }

  /** Whether close() or release() was called. */
  get ended(): boolean {
    return this.#ended;
  }

  // --- how writes behave ---

  /** Makes every later send() throw `error` synchronously. */
  throwOnSend(error: unknown = new Error("scripted: write failed")): void {
    this.#write = { mode: "throw", error };
  }

  /** Makes every later send() drop its frame as a connection that is ending does. */
  dropOnSend(): void {
    this.#write = { mode: "dropped" };
  }

  /** Makes every later send() return a promise that rejects with `error`. */
  rejectOnSend(error: unknown = new Error("scripted: write failed")): void {
    this.#write = { mode: "reject", error };
  }

  /** Makes every later send() return a promise that waits for `releaseWrites`/`failWrites`. */
  holdWrites(): void {
    this.#write = { mode: "hold" };
  }

  /** Back to writes that succeed at once. */
  writeNormally(): void {
    this.#write = { mode: "ok" };
  }

  /** Lets every held write through, resolving its promise. */
  releaseWrites(): void {
    for (const h of this.#held.splice(0)) h.resolve();
  }

  /** Fails every held write with `error`. */
  failWrites(error: unknown = new Error("scripted: write failed")): void {
    for (const h of this.#held.splice(0)) h.reject(error);
  }

  // --- Transport ---

  send(frame: Frame, written?: Written): boolean {
    const op: Op = { op: "send", frame };
    if (this.#ended) this.afterEnd.push(op);
    this.ops.push(op);
    const w = this.#write;
    switch (w.mode) {
      case "ok":
        written?.();
        return true;
      case "dropped":
        return false;
      case "throw":
        throw w.error;
      case "reject": {
        // A write that fails later, as a real transport reports it: the connection fails, then
        // the frame's callback (if any) hears that its bytes did not go out.
        const error = w.error as Error;
        queueMicrotask(() => {
          this.#events.error(error);
          written?.(error);
        });
        return true;
      }
      case "hold":
        this.#held.push({ resolve: () => written?.(), reject: (e) => written?.(e as Error) });
        return true;
    }
  }

  pause(): boolean {
    const op: Op = { op: "pause" };
    this.ops.push(op);
    return this.canPause;
  }

  resume(): void {
    this.ops.push({ op: "resume" });
  }

  close(code: number, reason: string): void {
    const op: Op = { op: "close", code, reason };
    if (this.#ended) this.afterEnd.push(op);
    this.ops.push(op);
    this.#end();
  }

  release(): void {
    const op: Op = { op: "release" };
    if (this.#ended) this.afterEnd.push(op);
    this.ops.push(op);
    this.#end();
  }

  /** Resolves `done` (with `holdDone`, the test decides when the connection is released). */
  releaseDone(): void {
    this.#resolveDone();
  }

  #end(): void {
    this.#ended = true;
    if (!this.#holdDone) this.#resolveDone();
  }

  // --- the server's side: events the test drives ---

  /** The handshake completed. */
  opened(info: Partial<ConnectInfo> = {}): void {
    this.#events.opened({
      url: info.url ?? redactUrl(this.params.url),
      protocol: info.protocol ?? "",
      extensions: info.extensions ?? "",
      status: info.status ?? 101,
      headers: info.headers,
    });
  }

  /** A frame arrived. */
  frame(frame: ReceivedFrame): void {
    this.#events.frame(frame);
  }

  /** A text frame arrived. */
  text(data: string): void {
    this.#events.frame({ type: "text", data });
  }

  /** A ping arrived. */
  ping(payload: Uint8Array = new Uint8Array()): void {
    this.#events.ping(payload);
  }

  /** The server sent a close frame. */
  remoteClose(code = 1000, reason = ""): void {
    this.#events.remoteClose(code, reason);
  }

  /** The connection failed. */
  error(error: Error = new Error("scripted: connection failed")): void {
    this.#events.error(error);
  }

  /** Nothing arrived within the heartbeat's timeout. */
  heartbeatTimeout(): void {
    this.#events.heartbeatTimeout();
  }

  /** A heartbeat round trip was measured. */
  rtt(ms: number): void {
    this.#events.rtt(ms);
  }

  /** How many times pause() and resume() were called. */
  get pauses(): number {
    return this.ops.filter((o) => o.op === "pause").length;
  }

  get resumes(): number {
    return this.ops.filter((o) => o.op === "resume").length;
  }
}

/** Lets the client's actor run: every queued microtask and one macrotask turn, `turns` times. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** Waits (real time) until `check` returns true, polling each macrotask turn. */
export async function until(
  check: () => boolean,
  what = "condition",
  timeout = 2000,
): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`until: ${what} not met within ${timeout} ms`);
    }
    await new Promise<void>((r) => setTimeout(r, 0));
  }
}
