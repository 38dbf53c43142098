/**
 * The socket transport: Parley's own RFC 6455 implementation (`src/protocol/`) over
 * `Deno.connect` on Deno and `node:net` / `node:tls` on Node and Bun.
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { redactUrl } from "../vocabulary/redact.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import type { Frame } from "../vocabulary/frame.ts";
import { ClientConnection, type ConnectionHandler } from "../protocol/client_connection.ts";
import type { Upgrade } from "../protocol/handshake.ts";
import type { Allocate } from "../protocol/allocate.ts";
import type { DeflateCodec } from "../protocol/deflate_codec.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { pooledRandom, type RandomSource } from "../protocol/random.ts";
import type { ByteStream, Dialer, DialTarget, StreamEvents } from "./_stream.ts";
import { Heartbeat, type HeartbeatHost } from "./_heartbeat.ts";
import { clearTimer, setTimer, type Timed } from "./timers.ts";
import type { ResolvedHeartbeat } from "./heartbeat.ts";
import { WrittenQueue } from "./_written_queue.ts";
import { nodeZlibCodec } from "./_deflate_codec.ts";
import type { ResolvedTls } from "./tls.ts";
import type { Connector, ConnectParams, Transport, TransportEvents, Written } from "./transport.ts";
import { proxyFor } from "./proxy.ts";
import { TunnelError } from "./_tunnel.ts";

/** Whether this runtime has raw sockets (Deno, Node, Bun; not browsers). */
export function socketsAvailable(): boolean {
  const g = globalThis as { Deno?: { connect?: unknown }; process?: { versions?: unknown } };
  return typeof g.Deno?.connect === "function" ||
    (typeof g.process === "object" && typeof g.process?.versions === "object");
}

const defaultRandom = pooledRandom((b) => crypto.getRandomValues(b));

/** From this size on, Bun's buffers come from `Bun.allocUnsafe` (see `bunAllocate`). */
const UNSAFE_FROM = 1024;

/**
 * On Bun, the buffers the protocol core fills completely (joined messages; encoded frames only
 * beyond 32 MiB, see `packed`) come from `Bun.allocUnsafe`, which gives each its own exactly sized memory without zeroing it: on
 * Bun 1.3.14, allocating a zero-filled array and filling it is several times slower from a few
 * KiB up (a micro-measurement, not the benchmark). Elsewhere, and below 1 KiB, the core's
 * zero-filled default.
 */
const bunAllocate: Allocate | undefined = (() => {
  const bun = (globalThis as { Bun?: { allocUnsafe?: (size: number) => Uint8Array } }).Bun;
  const allocUnsafe = bun?.allocUnsafe;
  if (typeof allocUnsafe !== "function") return undefined;
  return (size: number) => {
    if (size < UNSAFE_FROM) return new Uint8Array(size);
    const b = allocUnsafe(size);
    // A plain view of exactly `size` bytes, whatever class Bun returns.
    return new Uint8Array(b.buffer, b.byteOffset, size);
  };
})();

// The dialer modules, loaded on first use (so a browser never loads them) and kept: once one is
// loaded, a dial starts in the call that asks for it, with no turn of the event loop before it.
let denoDialer: typeof import("./_deno_dial.ts") | undefined;
let bunDialer: typeof import("./_bun_dial.ts") | undefined;
let nodeDialer: typeof import("./_node_dial.ts") | undefined;

/** Picks the dialer for a target in this runtime. */
const dial: Dialer = async (target, events, signal) => {
  const g = globalThis as { Deno?: { connect?: unknown }; Bun?: unknown };
  if (typeof g.Deno?.connect === "function") {
    const deno = denoDialer ??= await import("./_deno_dial.ts");
    if (deno.denoCanDial(target)) return deno.denoDial(target, events, signal);
  }
  // Bun's own TCP for plain connections: its node:net copies what it buffers on every write.
  if (typeof g.Bun !== "undefined") {
    const bun = bunDialer ??= await import("./_bun_dial.ts");
    if (bun.bunCanDial(target)) return bun.bunDial(target, events, signal);
  }
  const node = nodeDialer ??= await import("./_node_dial.ts");
  return node.nodeDial(target, events, signal);
};

/**
 * Creates a socket connector. Tests inject the random source (mask keys, handshake keys), the
 * dialer, and the codec compression runs on (`undefined` from it: no compression is offered).
 */
export function createSocketConnector(
  random: RandomSource = defaultRandom,
  dialer: Dialer = dial,
  deflateCodec: () => DeflateCodec | undefined = nodeZlibCodec,
): Connector {
  return {
    name: "socket",
    capabilities: { controlFrames: true },
    connect(params: ConnectParams, events: TransportEvents): Transport {
      return new SocketTransport(params, events, random, dialer, deflateCodec);
    },
  };
}

/** The socket transport with a pooled cryptographic random source. */
export const socketConnector: Connector = createSocketConnector();

/**
 * One connection over a byte stream. It is its connection's handler (`ConnectionHandler`), its
 * heartbeat's host (`HeartbeatHost`) and, through a `StreamSink`, its stream's: methods on the
 * prototype rather than closures, so an idle connection costs a few objects.
 *
 * Writes are told truthfully: bytes handed to the stream are counted (`#handed`), a frame sent
 * with a callback waits in `#unwritten` under the count its last byte reaches, and the stream
 * reports how many bytes the operating system has taken (`streamWritten`). Whatever still waits
 * when the stream is gone hears an error.
 */
class SocketTransport implements Transport, ConnectionHandler, HeartbeatHost {
  #conn: ClientConnection;
  #events: TransportEvents;
  #url: URL;
  #closeTimeout: number;
  #stream: ByteStream | undefined;
  /** Bytes given to the stream's `write` so far. */
  #handed = 0;
  /** Callbacks of frames whose bytes the operating system has not taken yet (from the first). */
  #unwritten: WrittenQueue | undefined;
  /** Why the stream is gone or going, for the callbacks that wait in vain. */
  #why: string | undefined;
  /** The cause of the stream's end, when it failed. */
  #whyCause: Error | undefined;
  /** The client asked for no more inbound data (`pause()`). */
  #paused = false;
  /** The stream is paused (the client paused an open connection). */
  #streamPaused = false;
  #heartbeatSettings: ResolvedHeartbeat | undefined;
  /** Runs from the upgrade until the connection ends. */
  #heartbeat: Heartbeat | undefined;
  /**
   * The heartbeat's probes are pings of eight bytes: this connection's tag (random, so that
   * they are told from the application's pings), then the probe's number.
   */
  #probeTag = 0;
  #probeId = 0;
  /** When the last probe went out (-1 once its pong came, or before any). */
  #probeAt = -1;
  /** No more events go to the client (it closed or released the connection, or heard the end). */
  #ended = false;
  /** The stream is released (or was never opened): `done` is settled. */
  #isDone = false;
  /** The connection was dropped: a stream that arrives from the dialer is destroyed at once. */
  #destroyed = false;
  /** Aborted when the connection is dropped while still dialling; gone once dialled. */
  #dialing: AbortController | undefined = new AbortController();
  /** Bounds the close handshake (closeTimeout). */
  #timer: Timed | undefined;
  /** Bounds the wait for a refused upgrade's body (REFUSAL_BODY_GRACE). */
  #graceTimer: Timed | undefined;
  /** `done`, once asked for (most connections are asked only when they are released). */
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;

  constructor(
    params: ConnectParams,
    events: TransportEvents,
    random: RandomSource,
    dialer: Dialer,
    deflateCodec: () => DeflateCodec | undefined,
  ) {
    const url = params.url;
    this.#url = url;
    this.#events = events;
    this.#closeTimeout = params.closeTimeout;
    this.#heartbeatSettings = params.heartbeat;
    if (params.heartbeat !== undefined) {
      const tag = new Uint8Array(4);
      random(tag);
      this.#probeTag = readUint32(tag, 0);
    }
    // Compression is offered when asked for and this runtime can run it.
    const settings = params.compression;
    const codec = settings === undefined ? undefined : deflateCodec();
    this.#conn = new ClientConnection({
      url,
      headers: params.headers,
      subprotocols: params.subprotocols,
      limits: params.limits ?? DEFAULT_LIMITS,
      random,
      allocate: bunAllocate,
      compression: codec === undefined ? undefined : { settings: settings!, codec },
    }, this);
    // A proxy setting that cannot be honoured fails the connection like a failed dial.
    let dialing: Promise<ByteStream>;
    try {
      dialing = dialer(dialTarget(url, params), new StreamSink(this), this.#dialing!.signal);
    } catch (error) {
      dialing = Promise.reject(error);
    }
    dialing.then(
      (stream) => {
        this.#dialing = undefined;
        if (this.#destroyed) {
          stream.destroy();
          return;
        }
        this.#stream = stream;
        // (Paused while dialling: reading stops once the upgrade is through, see `opened`.)
        this.#flush();
        // The request is out: what checking the answer needs is computed while the server works.
        this.#conn.prepareForResponse();
      },
      (error: Error) => {
        this.#dialing = undefined;
        // A proxy's refusal keeps its status and headers (the server's answer never came).
        const refusal = error instanceof TunnelError ? error : undefined;
        this.#report(() =>
          events.error(
            new HandshakeError(`Cannot connect to ${redactUrl(this.#url)} as ${error.message}`, {
              cause: error.cause ?? error,
              status: refusal?.status,
              headers: refusal?.headers,
            }),
          )
        );
        this.#settleDone();
      },
    );
  }

  /** Settles once every resource of the connection is released. */
  get done(): Promise<void> {
    return this.#done ??= this.#isDone
      ? Promise.resolve()
      : new Promise((resolve) => (this.#resolveDone = resolve));
  }

  // ConnectionHandler: what the connection reports, passed on unless the client was told the end.

  opened(upgrade: Upgrade): void {
    if (this.#ended) return;
    this.#events.opened({
      url: redactUrl(this.#url),
      protocol: upgrade.protocol,
      extensions: upgrade.extensions,
      status: upgrade.status,
      // Made on first use (an enumerable property all the same): most clients never look.
      get headers() {
        return upgrade.headers;
      },
    });
    // (opened may have closed or released the connection.)
    if (this.#ended) return;
    // A pause asked for while connecting applies now: the upgrade had to be read first. A stream
    // that cannot pause fails the connection, rather than read on without bound.
    if (this.#paused && !this.#pauseStream()) {
      const error = new Error(
        "Cannot pause reading from the connection as Deno's node:tls, which serves these TLS settings, reads on while paused",
      );
      this.#report(() => this.#events.error(error));
      this.#drop("the connection could not pause", error);
      return;
    }
    const settings = this.#heartbeatSettings;
    if (settings !== undefined) {
      const heartbeat = this.#heartbeat = new Heartbeat(settings, this);
      heartbeat.start();
      if (this.#paused) heartbeat.pause();
    }
  }

  text(data: string): void {
    if (!this.#ended) this.#events.frame({ type: "text", data });
  }

  binary(data: Uint8Array): void {
    if (!this.#ended) this.#events.frame({ type: "binary", data });
  }

  ping(data: Uint8Array): void {
    if (!this.#ended) this.#events.ping(data);
  }

  pong(data: Uint8Array): void {
    if (this.#ended) return;
    // Answers to the heartbeat's probes are the heartbeat's, not the application's: the last
    // probe's gives the round-trip time (a late answer to an earlier one, nothing).
    if (
      data.length === 8 && this.#heartbeatSettings !== undefined &&
      readUint32(data, 0) === this.#probeTag
    ) {
      const id = readUint32(data, 4);
      if (id <= this.#probeId) {
        if (id === this.#probeId && this.#probeAt >= 0) {
          const ms = performance.now() - this.#probeAt;
          this.#probeAt = -1;
          this.#events.rtt(ms);
        }
        return;
      }
    }
    this.#events.frame({ type: "pong", data });
  }

  remoteClose(code: number, reason: string, byServer: boolean): void {
    // The server's close answered ours, or it started the close: then our echo is owed, and
    // goes out when the client releases the connection (release or close), after the replies to
    // the messages that came before the close.
    this.#owe(byServer, () => this.#events.remoteClose(code, reason));
  }

  error(error: Error, closeOwed: boolean): void {
    // A protocol violation owes a close frame with its code, as above; anything else ends the
    // connection at once.
    if (closeOwed) this.#owe(true, () => this.#events.error(error));
    else {
      this.#report(() => this.#events.error(error));
      this.#drop(`the connection failed: ${error.message}`, error);
    }
  }

  // What the stream reports (through StreamSink).

  streamData(chunk: Uint8Array): void {
    // Any bytes are a sign of life; read per chunk, not per frame.
    this.#heartbeat?.received();
    this.#conn.receive(chunk);
    this.#flush();
    // A refusal whose body runs to the end of a connection the server may hold open: report it
    // with what came so far after a short grace, not after the connect timeout.
    if (this.#conn.awaitingRefusalBody && this.#graceTimer === undefined) {
      this.#graceTimer = setTimer(() => {
        this.#conn.end();
        this.#destroy();
      }, REFUSAL_BODY_GRACE);
    }
  }

  streamReadInto(): Uint8Array | undefined {
    return this.#ended ? undefined : this.#conn.readInto();
  }

  streamWritten(total: number): void {
    this.#unwritten?.settle(total);
  }

  streamEnd(): void {
    // A close frame still owed goes out on the half-closed stream when the client releases the
    // connection.
    if (this.#owesClose) return;
    // After a complete close handshake the server's EOF is the expected end; before it, the
    // connection reports a failure.
    this.#conn.end();
    this.#drop("the server ended the connection first");
  }

  streamError(error: Error): void {
    const state = this.#conn.state;
    // For messages: without credentials.
    const url = redactUrl(this.#url);
    if (state === "connecting") {
      // Before the upgrade completed (say a TLS 1.3 server refusing our client certificate
      // after the client's side of the handshake): the connect failed.
      this.#report(() =>
        this.#events.error(
          new HandshakeError(
            `Cannot connect to ${url} as the connection failed: ${error.message}`,
            { cause: error },
          ),
        )
      );
    } else if (state === "open") {
      this.#report(() =>
        this.#events.error(
          new Error(`The connection to ${url} failed: ${error.message}`, { cause: error }),
        )
      );
    }
    this.#drop(`the connection failed: ${error.message}`, error);
  }

  streamDone(): void {
    this.#settleDone();
  }

  send(frame: Frame, written?: Written): boolean {
    const conn = this.#conn;
    // Frames go out while the connection is open or owes its close (replies to the messages
    // that came before the server's close or violation still go out); otherwise it is ending,
    // and its end is reported once, with what happened first.
    const state = conn.state;
    if (
      (state !== "open" && state !== "closeReceived" && state !== "failing") || this.#destroyed
    ) {
      if (
        frame.type !== "text" && frame.type !== "binary" && frame.type !== "ping" &&
        frame.type !== "pong"
      ) {
        throw new UnsupportedError(
          `Cannot send a ${(frame as { type: string }).type} frame over the socket transport`,
        );
      }
      return false;
    }
    switch (frame.type) {
      case "text":
        conn.sendText(frame.data);
        break;
      case "binary":
        conn.sendBinary(frame.data);
        break;
      case "ping":
        conn.sendPing(frame.data);
        break;
      case "pong":
        conn.sendPong(frame.data);
        break;
      default:
        throw new UnsupportedError(
          `Cannot send a ${(frame as { type: string }).type} frame over the socket transport`,
        );
    }
    if (written !== undefined) {
      // Settled once the stream's count passes the frame's last byte (or failed at the end).
      (this.#unwritten ??= new WrittenQueue()).add(this.#handed + conn.outputBytes, written);
      if (this.#isDone) this.#failUnwritten();
    }
    // Frames wait for the client's flush (the end of its burst of events), so a burst goes out
    // in one write; a large batch goes at once.
    if (conn.outputBytes >= FLUSH_AT) this.#flush();
    return true;
  }

  pause(): boolean {
    if (this.#paused) return true;
    // Before the upgrade, reading goes on until it is through (see `opened`); after the end
    // there is nothing to pause for.
    if (this.#conn.state === "open" && !this.#ended && !this.#pauseStream()) return false;
    this.#paused = true;
    // Our own silence is not the peer's.
    this.#heartbeat?.pause();
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resumeStream();
    this.#heartbeat?.resume();
  }

  // HeartbeatHost.

  probe(): void {
    const conn = this.#conn;
    if (conn.state !== "open") return;
    // Its number wraps after 2^32 - 1 probes (decades at one a second); never 0.
    const id = this.#probeId = this.#probeId === 0xffff_ffff ? 1 : this.#probeId + 1;
    const payload = new Uint8Array(8);
    const view = new DataView(payload.buffer);
    view.setUint32(0, this.#probeTag);
    view.setUint32(4, id);
    conn.sendPing(payload);
    this.#probeAt = performance.now();
    this.#flush();
  }

  timedOut(): void {
    // A dead peer would not answer a close frame: nothing more is written.
    this.#report(() => this.#events.heartbeatTimeout());
    this.#drop("the heartbeat timed out");
  }

  flush(): void {
    this.#flush();
  }

  close(code: number, reason: string): void {
    this.#end();
    if (this.#owesClose) {
      // The owed close frame goes out instead of ours.
      this.#sendOwedClose();
      return;
    }
    const state = this.#conn.state;
    if (state === "open") {
      this.#conn.close(code, reason);
      this.#flush();
      this.#armTimer();
    } else if (state === "connecting") {
      this.#conn.close(code, reason);
      this.#destroy();
    }
    // "closing" or "closed": the close handshake is already under way.
  }

  release(): void {
    this.#end();
    if (this.#owesClose) {
      this.#sendOwedClose();
      return;
    }
    // A connection finishing its close handshake (or failing with a close frame) ends on its
    // own within closeTimeout; anything else is dropped now.
    if (this.#timer !== undefined) return;
    this.#drop("the connection was released first");
  }

  #flush(): void {
    const stream = this.#stream;
    const conn = this.#conn;
    if (stream === undefined || !conn.hasOutput) return;
    this.#handed += conn.outputBytes;
    stream.write(conn.takeOutput());
  }

  /** Reports to the client once; later events are dropped. Returns whether it reported. */
  #report(fn: () => void): boolean {
    if (this.#ended) return false;
    this.#end();
    fn();
    return true;
  }

  /**
   * The client hears nothing more: the heartbeat stops, and reading goes on whatever the
   * client paused, so the close handshake and the server's EOF are read.
   */
  #end(): void {
    this.#ended = true;
    this.#stopHeartbeat();
    this.#resumeStream();
  }

  /** Pauses the stream; false if it cannot pause. */
  #pauseStream(): boolean {
    if (this.#streamPaused) return true;
    if (this.#stream === undefined || !this.#stream.pause()) return false;
    this.#streamPaused = true;
    return true;
  }

  #resumeStream(): void {
    if (!this.#streamPaused) return;
    this.#streamPaused = false;
    this.#stream!.resume();
  }

  #stopHeartbeat(): void {
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#probeAt = -1;
  }

  /** The stream is gone: every frame still waiting for its bytes to go out hears why not. */
  #failUnwritten(): void {
    if (this.#unwritten === undefined || this.#unwritten.size === 0) return;
    this.#unwritten.fail(
      new Error(`Cannot write the frame as ${this.#why ?? "the connection ended first"}`, {
        cause: this.#whyCause,
      }),
    );
  }

  /**
   * Reports the end of the connection. When a close frame is owed (`owed`) and the client was
   * told, it is written once the client releases the connection; the close handshake is bounded
   * by closeTimeout from now either way. Otherwise the connection winds down at once.
   */
  #owe(owed: boolean, report: () => void): void {
    if (this.#report(report) && owed) {
      this.#armTimer();
      return;
    }
    this.#sendOwedClose();
  }

  /** Whether the connection owes the server its close frame (see `#owe`). */
  get #owesClose(): boolean {
    const state = this.#conn.state;
    return state === "closeReceived" || state === "failing";
  }

  /** Writes the owed close frame (after whatever the client sent meanwhile) and winds down. */
  #sendOwedClose(): void {
    this.#conn.sendOwedClose();
    this.#windDown();
  }

  /** Writes what is left (the close frame), ends our side, waits for the server to finish. */
  #windDown(): void {
    this.#flush();
    this.#stream?.end();
    this.#armTimer();
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#isDone) return;
    if (this.#closeTimeout === Infinity) return;
    this.#timer = setTimer(() => {
      this.#timer = undefined;
      // A client that never released the connection: write the owed close, then wait once
      // more; otherwise the close handshake has run out of time.
      if (this.#owesClose) this.#sendOwedClose();
      else this.#drop("the close handshake timed out");
    }, this.#closeTimeout);
  }

  /** Drops the connection at once, saying why to the frames whose bytes did not go out. */
  #drop(why: string, cause?: Error): void {
    if (this.#why === undefined) {
      this.#why = why;
      this.#whyCause = cause;
    }
    this.#destroy();
  }

  #destroy(): void {
    this.#destroyed = true;
    this.#stopHeartbeat();
    if (this.#stream === undefined) {
      // Still dialling (DNS, TCP, TLS): the dialer releases what it opened and settles, and
      // `done` follows it; a stream that arrives anyway is released at once.
      if (this.#dialing === undefined) this.#settleDone();
      else this.#dialing.abort();
      return;
    }
    this.#stream.destroy();
  }

  #settleDone(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#stopHeartbeat();
    // Compression's zlib memory goes with the stream, however the connection ended.
    this.#conn.dispose();
    clearTimer(this.#timer);
    clearTimer(this.#graceTimer);
    this.#timer = this.#graceTimer = undefined;
    this.#failUnwritten();
    this.#resolveDone?.();
    this.#resolveDone = undefined;
  }
}

/** A transport's stream events, delegated to its methods (one small object, no closures). */
class StreamSink implements StreamEvents {
  #transport: SocketTransport;

  constructor(transport: SocketTransport) {
    this.#transport = transport;
  }

  data(chunk: Uint8Array): void {
    this.#transport.streamData(chunk);
  }

  written(total: number): void {
    this.#transport.streamWritten(total);
  }

  readInto(): Uint8Array | undefined {
    return this.#transport.streamReadInto();
  }

  end(): void {
    this.#transport.streamEnd();
  }

  error(error: Error): void {
    this.#transport.streamError(error);
  }

  done(): void {
    this.#transport.streamDone();
  }
}

/** Bytes of frames held back for a batch above which they are written at once. */
const FLUSH_AT = 64 * 1024;

/** The big-endian unsigned 32-bit number at `at`. */
function readUint32(data: Uint8Array, at: number): number {
  return (data[at] << 24 | data[at + 1] << 16 | data[at + 2] << 8 | data[at + 3]) >>> 0;
}

/** How long the body of a refused upgrade without a length may keep arriving, in ms. */
const REFUSAL_BODY_GRACE = 200;

/**
 * Where to dial for `url`: the server, and the proxy to tunnel through, if any. Throws when the
 * proxy setting cannot be honoured (a bad proxy URL in the environment, say).
 */
function dialTarget(url: URL, params: ConnectParams): DialTarget {
  const secure = url.protocol === "wss:";
  const tls = params.tls ?? DEFAULT_TLS;
  const proxy = params.proxy === undefined ? undefined : proxyFor(url, params.proxy).proxy;
  return {
    hostname: url.hostname,
    port: url.port === "" ? (secure ? 443 : 80) : Number(url.port),
    tls: secure ? tls : undefined,
    proxy: proxy === undefined ? undefined : {
      hostname: proxy.hostname,
      port: proxy.port,
      // TLS to an https: proxy: the runtime's roots and the extra CAs, the minimum version, and
      // always verified (the server's server name, client certificate and
      // dangerouslyAcceptInvalidCertificates are the server's alone).
      tls: proxy.secure ? { ...DEFAULT_TLS, ca: tls.ca, minVersion: tls.minVersion } : undefined,
      authorization: proxy.authorization,
      label: proxy.label,
    },
  };
}

const DEFAULT_TLS: ResolvedTls = Object.freeze({
  ca: [],
  cert: undefined,
  key: undefined,
  serverName: undefined,
  minVersion: "TLSv1.2",
  insecure: false,
});
