// Internal: the driver. It owns the transport, the timers and the mailbox, runs the callbacks
// one at a time, and performs the effects the machine returns.

import { ClientStoppedError, describeReason, describeStop } from "./errors.ts";
import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { Frame, ReceivedFrame } from "../vocabulary/frame.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import { type Config, DEFAULT_HEARTBEAT, dropsDebug } from "./_options.ts";
import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { ParleyError } from "../vocabulary/parley_error.ts";
import type { ResolvedHeartbeat } from "../transport/heartbeat.ts";
import { retryAfterMs } from "./_retry_after.ts";
import { type AttemptParams, attemptParams, isDynamic } from "./_attempt.ts";
import { Caller } from "./_caller.ts";
import { publish } from "./_diagnostics.ts";
import type { ClientEvent } from "./events.ts";
import { EventReader, FrameReader } from "./_readers.ts";
import type { DeadlockError } from "./errors.ts";
import { ReentrancyGuard } from "./_reentrancy.ts";
import {
  type CallbackName,
  createMachine,
  type Effect,
  type Event,
  type Machine,
  type MachineConfig,
  type Phase,
  step,
  type Waiter,
} from "./_machine.ts";
import { type Consumer, Mailbox } from "./_mailbox.ts";
import type { DisconnectReason, StopReason } from "./reasons.ts";
import type { Connector, Transport, TransportEvents } from "../transport/transport.ts";
import { clearTimer, setTimer, type Timed } from "../transport/timers.ts";

/** The timer functions the driver uses; tests pass a fake clock. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The real clock: the process's timer heap (one runtime timer for all, see `transport/timers.ts`). */
export const systemClock: Clock = {
  setTimeout: setTimer,
  clearTimeout: (id) => clearTimer(id as Timed | undefined),
};

/**
 * What a received frame is taken to cost while it waits for the application, besides its
 * payload: the event and frame objects and their slot in the mailbox. It bounds a flood of tiny
 * frames as the payload bound alone would not.
 */
const FRAME_COST = 96;

/** What the client has done so far, as `conn.stats` reports it. */
export interface Stats {
  attempts: number;
  connects: number;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  /** `Date.now()` when the current connection opened, or undefined. */
  connectedAt: number | undefined;
  /** Milliseconds connected before the current connection. */
  connectedBefore: number;
  lastClose: DisconnectReason | undefined;
  rtt: number | undefined;
}

type Callbacks = Partial<Record<CallbackName, (...args: never[]) => unknown>>;

/**
 * One running client. Its machine's record is written by `step` only. It is its mailbox's
 * consumer. What only some clients use (timers, readers, callers, waiters, the `stopped` promise)
 * is made on first use, so an idle client holds little beyond its machine and its connection.
 */
export class Actor implements Consumer {
  readonly connector: Connector;
  #machine: Machine;
  #config: Config;
  #callbacks: Callbacks;
  #clock: Clock;
  #label: string;
  #mailbox: Mailbox<Event> = new Mailbox<Event>(this);
  #transport: Transport | undefined;
  #transportConn = 0;
  #connectTimer: unknown;
  /**
   * What only some clients use, or all only near their end (see `Rare`): made when first set, so
   * an idle client holds one field for them.
   */
  #rare: Rare | undefined;
  #onTerminate: ((reason: StopReason) => void) | undefined;
  /** The heartbeat in force: the option, or the transport's default. */
  #heartbeat: ResolvedHeartbeat | undefined;
  /** Bytes of received frames posted and not yet handled (see FRAME_COST). */
  #inbound = 0;
  /** Reading from the current transport is paused (inbound flow control). */
  #paused = false;
  /** The current transport could not pause and its connection is being failed. */
  #overflowed = false;
  /** Aborts the computing of an attempt's parameters (url, headers, subprotocols functions). */
  #computing: AbortController | undefined;
  #guard: ReentrancyGuard;
  /** handleConnect's info, until handleConnect has run: then the client is connected. */
  #connecting: ConnectInfo | undefined;
  /** The handle, for diagnostics_channel messages. */
  handle: unknown;
  readonly stats: Stats = {
    attempts: 0,
    connects: 0,
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
    connectedAt: undefined,
    connectedBefore: 0,
    lastClose: undefined,
    rtt: undefined,
  };

  constructor(
    callbacks: Callbacks,
    config: Config,
    connector: Connector,
    clock: Clock,
    label: string,
    onTerminate: ((reason: StopReason) => void) | undefined,
  ) {
    const heartbeat = this.#heartbeat = config.heartbeat === undefined
      ? (connector.name === "socket" ? DEFAULT_HEARTBEAT : undefined)
      : config.heartbeat ?? undefined;
    // What the machine reads of the config, alone (a copy of the whole config per client
    // would cost several times more), shared with the last client that had the same.
    this.#machine = createMachine(undefined, machineConfig(config, heartbeat));
    this.connector = connector;
    this.#config = config;
    this.#callbacks = callbacks;
    this.#clock = clock;
    this.#label = label;
    this.#onTerminate = onTerminate;
    this.#guard = new ReentrancyGuard(clock, this);
  }

  /** The rare fields (see `Rare`), made now if they were not: for writing them. */
  get #more(): Rare {
    return this.#rare ??= new Rare();
  }

  /** Settles when the client has stopped and released its connection, with the reason. */
  get stopped(): Promise<StopReason> {
    const rare = this.#more;
    if (rare.stopped === undefined) {
      const reason = rare.finalReason;
      rare.stopped = reason !== undefined
        ? Promise.resolve(reason)
        : new Promise((resolve) => (rare.resolveStopped = resolve));
    }
    return rare.stopped;
  }

  /** Where the client is. */
  get phase(): Phase {
    return this.#machine.phase;
  }

  /** Starts the loop with the user state `init` gave, and the first connect. */
  run(user: unknown): void {
    // The first connect comes before anything posted while init ran, and at once, so the
    // client is already "connecting" when start() resolves.
    this.#perform(step(this.#machine, { type: "start", user }));
    this.#mailbox.start();
  }

  /** A bug in the driver itself: stop properly rather than hang (a stopped client stays so). */
  #internalError(error: unknown): void {
    this.#log("error", "internal error", error);
    this.#perform(step(this.#machine, { type: "internalError", error }));
  }

  /**
   * Queues an event. A stop or a disconnect is served once the callback running now returns,
   * before received frames still waiting (but after the caller's earlier commands).
   */
  post(event: Event): void {
    if (event.type === "stop" || event.type === "disconnect") {
      this.#mailbox.postUrgent(event, isCommand);
    } else this.#mailbox.post(event);
  }

  /**
   * A request from the handle (sendFrame, disconnect, stop, call, connect, ready): made now,
   * unless it comes from inside a callback that would wait for it for ever.
   */
  request(
    request: string,
    go: Event | (() => void),
    refuse: (error: DeadlockError) => void,
  ): void {
    if (this.#guard.idle) this.make(go);
    else this.#guard.request(request, go, refuse);
  }

  /** Makes a request (the guard's `make`): runs it, or posts its event. */
  make(go: unknown): void {
    if (typeof go === "function") go();
    else this.post(go as Event);
  }

  /** `conn.call`: a caller that `handleCall` answers. */
  call(
    request: unknown,
    timeout: number,
    signal: AbortSignal | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ): void {
    const caller = new Caller(
      resolve,
      reject,
      timeout,
      signal,
      this.#clock,
      (what) =>
        this.#log("debug", `Dropping a late ${what} to a call whose caller no longer waits`),
      (done) => this.#rare?.callers?.delete(done),
    );
    (this.#more.callers ??= new Set()).add(caller);
    this.post({ type: "call", request, from: caller });
  }

  /** Whether the client's definition answers calls. */
  get answersCalls(): boolean {
    return typeof this.#callbacks.handleCall === "function";
  }

  /** `conn.ready()`: resolves once connected, rejects when the client stops. */
  ready(resolve: () => void, reject: (error: unknown) => void): () => void {
    if (this.#machine.phase === "connected" && this.#connecting === undefined) {
      resolve();
      return () => {};
    }
    const waiter = { resolve, reject };
    (this.#more.readyWaiters ??= []).push(waiter);
    return () => {
      const waiters = this.#rare?.readyWaiters;
      const i = waiters?.indexOf(waiter) ?? -1;
      if (i >= 0) waiters!.splice(i, 1);
    };
  }

  /** `conn.events()`: a reader of what happens from now on. */
  events(buffer: number): EventReader {
    const reader: EventReader = new EventReader(
      buffer,
      () => this.#rare?.eventReaders?.delete(reader),
    );
    if (this.#machine.phase === "stopped") reader.end();
    else (this.#more.eventReaders ??= new Set()).add(reader);
    return reader;
  }

  /** `conn.frames()`: a reader of the frames received from now on. */
  frames(): FrameReader {
    const reader: FrameReader = new FrameReader(
      (frame) => frameCost(frame.data),
      (bytes) => bytes > 0 ? this.#received(bytes) : this.#handled(-bytes),
      () => this.#rare?.frameReaders?.delete(reader),
    );
    if (this.#machine.phase === "stopped") reader.end();
    else (this.#more.frameReaders ??= new Set()).add(reader);
    return reader;
  }

  /** Logs a warning with the client's label. */
  warn(message: string): void {
    this.#log("warn", message);
  }

  /** Logs through the user's logger; a logger that throws must not break the client. */
  #log(level: "debug" | "info" | "warn" | "error", message: string, ...args: unknown[]): void {
    try {
      this.#config.logger[level](`${this.#label} ${message}`, ...args);
    } catch { /* the logger's own failure is not the client's */ }
  }

  /** Stops a client whose `run` never began (init refused); settles whatever was posted. */
  abandon(reason: StopReason): void {
    // start() rejects with the reason itself: nothing to log.
    this.#perform(step(this.#machine, { type: "stop", reason, quiet: true }));
  }

  /** Throws when the transport cannot carry `frame`. */
  checkSupported(frame: Frame): void {
    if (
      (frame.type === "ping" || frame.type === "pong") && !this.connector.capabilities.controlFrames
    ) {
      throw new UnsupportedError(
        `Cannot send a ${frame.type} frame as the ${this.connector.name} transport has no API for it (use transport: "socket")`,
      );
    }
  }

  /**
   * Serves the mailbox (`Consumer`): everything waiting is handled in this turn, in order
   * (postFirst included), without a promise per event; only an async callback makes the rest
   * wait (posts meanwhile only queue). Then, with nothing left, the frames written during the
   * burst go out together, and the actor rests until the next post.
   */
  serve(): void {
    try {
      const mailbox = this.#mailbox;
      for (;;) {
        for (let event = mailbox.take(); event !== undefined; event = mailbox.take()) {
          // A frame of the current connection also goes to the frames() readers.
          const frameReaders = this.#rare?.frameReaders;
          const live = event.type === "frame" && frameReaders !== undefined &&
            frameReaders.size > 0 && event.conn === this.#machine.conn &&
            this.#machine.phase === "connected";
          const pending = this.#handle(step(this.#machine, event));
          if (pending !== undefined) {
            pending.then(() => this.#goOn(event, live), (error) => this.#internalError(error));
            return;
          }
          this.#served(event, live);
        }
        this.#transport?.flush?.();
        if (mailbox.rest()) return;
      }
    } catch (error) {
      this.#internalError(error);
    }
  }

  /** After an async callback: finishes its event, then serves the rest. */
  #goOn(event: Event, live: boolean): void {
    try {
      this.#served(event, live);
    } catch (error) {
      this.#internalError(error);
      return;
    }
    this.serve();
  }

  /** An event was handled: a frame goes to the frames() readers, and its cost is released. */
  #served(event: Event, live: boolean): void {
    if (event.type === "frame") {
      if (live) { for (const reader of this.#rare!.frameReaders!) reader.push(event.frame); }
      this.#handled(frameCost(event.frame.data));
    } else if (event.type === "ping") this.#handled(frameCost(event.payload));
  }

  /**
   * Performs `effects` and runs the callbacks they call, stepping the machine with each outcome.
   * Returns a promise only when a callback returned one (the rest then continues after it).
   */
  #handle(effects: Effect[]): Promise<void> | undefined {
    for (;;) {
      const call = this.#perform(effects);
      if (call === undefined) break;
      if (call.callback === "handleDisconnect") {
        this.#disconnected(call.args[0] as DisconnectReason);
      } else if (call.callback === "handleConnect") this.#connecting = call.args[1] as ConnectInfo;
      let outcome: Event;
      try {
        const fn = this.#callbacks[call.callback] as
          | ((...args: unknown[]) => unknown)
          | undefined;
        const value = fn === undefined
          ? undefined
          : this.#guard.call(call.callback, fn, this.#callbacks, call.args);
        if (isThenable(value)) {
          // Nothing sent so far waits for an async callback.
          this.#transport?.flush?.();
          this.#guard.waiting(call.callback);
          return this.#resume(value);
        }
        outcome = { type: "result", value };
      } catch (error) {
        outcome = { type: "threw", error };
      }
      effects = step(this.#machine, outcome);
    }
    this.#settled();
    return undefined;
  }

  /**
   * A connection ended (or an attempt failed): one readable line, at `warn` when it was not
   * asked for, `info` for the server's normal close, `debug` for our own.
   */
  #disconnected(reason: DisconnectReason): void {
    this.stats.lastClose = reason;
    this.#emit({ type: "disconnected", reason, at: Date.now() });
    const level = reason.kind === "closed" || reason.kind === "user"
      ? "debug"
      : reason.kind === "remote_close" && (reason.code === 1000 || reason.code === 1001)
      ? "info"
      : "warn";
    if (level !== "debug" || !dropsDebug(this.#config.logger)) {
      this.#log(level, `Disconnected: ${describeReason(reason)}`);
    }
  }

  /** Continues `#handle` once an async callback's promise settles. */
  async #resume(value: PromiseLike<unknown>): Promise<void> {
    let outcome: Event;
    try {
      outcome = { type: "result", value: await value };
    } catch (error) {
      outcome = { type: "threw", error };
    }
    this.#guard.settled();
    const pending = this.#handle(step(this.#machine, outcome));
    if (pending !== undefined) await pending;
  }

  /**
   * After each event: the connect timer ends once the machine has left "connecting"; once
   * handleConnect has run on a connection still up, the client is connected (the event, and
   * `ready()` callers hear).
   */
  #settled(): void {
    const phase = this.#machine.phase;
    if (this.#connecting !== undefined && phase !== "connecting") {
      const info = this.#connecting;
      this.#connecting = undefined;
      if (phase === "connected") {
        this.#emit({ type: "connected", info, at: Date.now() });
        const waiters = this.#rare?.readyWaiters;
        if (waiters !== undefined) {
          this.#rare!.readyWaiters = undefined;
          for (const w of waiters) w.resolve();
        }
      }
    }
    if (phase === "connecting" || this.#connectTimer === undefined) return;
    this.#clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  /** Hands `event` to every events() reader and to diagnostics_channel. */
  #emit(event: ClientEvent): void {
    const readers = this.#rare?.eventReaders;
    if (readers !== undefined) { for (const reader of readers) reader.push(event); }
    publish(this.handle, this.#config.name, event);
  }

  /** Performs effects in order; returns the callback to run, which is always last. */
  #perform(effects: Effect[]): Extract<Effect, { type: "call" }> | undefined {
    for (const fx of effects) {
      switch (fx.type) {
        case "open":
          this.#open(fx.conn, fx.timeout);
          break;
        case "send":
          this.#send(fx.frame, fx.reply, fx.origin);
          break;
        case "close":
          this.#release(fx.code, fx.reason);
          break;
        case "release":
          this.#release();
          break;
        case "call":
          return fx;
        case "reply":
          (fx.from as Caller).reply(fx.value);
          break;
        case "arm": {
          const token = fx.token;
          if (token === this.#machine.timer) {
            this.#emit({
              type: "reconnecting",
              attempt: this.stats.attempts + 1,
              retry: this.#machine.retries,
              delay: fx.delay,
              at: Date.now(),
            });
          }
          (this.#more.timers ??= new Map()).set(
            token,
            this.#clock.setTimeout(() => {
              this.#rare?.timers?.delete(token);
              this.#mailbox.post({ type: "timer", token });
            }, fx.delay),
          );
          break;
        }
        case "disarm": {
          const timers = this.#rare?.timers;
          if (timers === undefined) break;
          const id = timers.get(fx.token);
          if (id !== undefined) this.#clock.clearTimeout(id);
          timers.delete(fx.token);
          break;
        }
        case "settle":
          if (fx.error === undefined) fx.reply.resolve();
          else fx.reply.reject(fx.error);
          break;
        case "log":
          this.#log(fx.level, fx.message);
          break;
        case "terminate":
          this.#terminate(fx.reason, fx.quiet === true);
          break;
      }
    }
    return undefined;
  }

  #open(conn: number, timeout: number): void {
    // A connection the server closed is still ours to release (and to wait for on stop).
    this.#release();
    this.#transportConn = conn;
    if (timeout !== Infinity) {
      this.#connectTimer = this.#clock.setTimeout(() => {
        this.#connectTimer = undefined;
        if (this.#transportConn === conn) this.#mailbox.post({ type: "connectTimeout", conn });
      }, timeout);
    }
    const config = this.#config;
    this.#paused = false;
    this.#overflowed = false;
    const attempt = ++this.stats.attempts;
    this.#emit({ type: "connecting", attempt, at: Date.now() });
    if (!isDynamic(config)) {
      this.#connect(conn, config as AttemptParams);
      return;
    }
    // The url, headers or subprotocols come from functions: the attempt waits for them (within
    // the connect timeout), and is abandoned with them.
    const computing = new AbortController();
    this.#computing = computing;
    attemptParams(config, {
      attempt,
      lastReason: this.#machine.lastReason ?? undefined,
      signal: computing.signal,
    }).then(
      (params) => {
        if (this.#computing !== computing) return;
        this.#computing = undefined;
        this.#connect(conn, params);
      },
      (error: Error) => {
        if (this.#computing !== computing) return;
        this.#computing = undefined;
        this.#mailbox.post({ type: "error", conn, error });
      },
    );
  }

  /** Opens the transport of attempt `conn`. */
  #connect(conn: number, params: AttemptParams): void {
    const config = this.#config;
    this.#transport = this.connector.connect(
      {
        url: params.url,
        headers: params.headers,
        subprotocols: params.subprotocols,
        closeTimeout: config.closeTimeout,
        limits: config.limits,
        tls: config.tls,
        heartbeat: this.#heartbeat,
        proxy: config.proxy,
        compression: config.compression,
      },
      new Actor.#Events(this, conn),
    );
  }

  /** A received frame waits for the application: over the bound, reading pauses. */
  #received(cost: number): void {
    this.#inbound += cost;
    if (this.#inbound <= this.#config.receiveBuffer || this.#paused || this.#overflowed) return;
    const transport = this.#transport;
    if (transport === undefined) return;
    if (transport.pause()) {
      this.#paused = true;
      return;
    }
    // A transport that cannot pause (the web's WebSocket): fail the connection now, ahead of the
    // backlog, rather than buffer without bound.
    this.#overflowed = true;
    const limit = this.#config.receiveBuffer;
    this.#mailbox.postFirst({
      type: "error",
      conn: this.#transportConn,
      error: new ParleyError(
        `Cannot keep up with the server: more than ${limit} bytes of received messages wait for the application, and the ${this.connector.name} transport cannot pause reading (raise receiveBuffer, or use transport: "socket")`,
      ),
    });
  }

  /** A received frame was handled (or dropped as stale): reading resumes below half the bound. */
  #handled(cost: number): void {
    this.#inbound -= cost;
    if (this.#paused && this.#inbound <= this.#config.receiveBuffer / 2) {
      this.#paused = false;
      this.#transport?.resume();
    }
  }

  /**
   * A transport's events for connection `conn`, posted to the mailbox while `conn` is the
   * current connection (a class rather than closures: one small object per connection).
   */
  static #Events = class implements TransportEvents {
    #actor: Actor;
    #conn: number;

    constructor(actor: Actor, conn: number) {
      this.#actor = actor;
      this.#conn = conn;
    }

    #post(event: Event): void {
      const actor = this.#actor;
      if (actor.#transportConn === this.#conn) actor.#mailbox.post(event);
    }

    opened(info: ConnectInfo): void {
      const actor = this.#actor;
      if (actor.#transportConn !== this.#conn) return;
      actor.stats.connects++;
      actor.stats.connectedAt = Date.now();
      actor.#mailbox.post({ type: "opened", conn: this.#conn, info });
    }

    frame(frame: ReceivedFrame): void {
      const actor = this.#actor;
      if (actor.#transportConn !== this.#conn) return;
      const stats = actor.stats;
      const size = payloadSize(frame.data);
      if (frame.type !== "pong") {
        stats.messagesIn++;
        stats.bytesIn += size;
      }
      // Counted first: a frame handled at once below must not be released before it is counted.
      actor.#received(size + FRAME_COST);
      const event: Event = { type: "frame", conn: this.#conn, frame };
      // On a turn of its own, handled at once when the client rests (no microtask per frame).
      if (actor.connector.capabilities.framesOnTheirOwnTurn === true) actor.#mailbox.postNow(event);
      else actor.#mailbox.post(event);
    }

    ping(payload: Uint8Array): void {
      const actor = this.#actor;
      if (actor.#transportConn !== this.#conn) return;
      actor.#mailbox.post({ type: "ping", conn: this.#conn, payload });
      actor.#received(payload.length + FRAME_COST);
    }

    remoteClose(code: number, reason: string): void {
      this.#post({ type: "remoteClose", conn: this.#conn, code, reason });
    }

    error(error: Error): void {
      const retryAfter = error instanceof HandshakeError
        ? retryAfterMs(error, Date.now())
        : undefined;
      this.#post(
        retryAfter === undefined
          ? { type: "error", conn: this.#conn, error }
          : { type: "error", conn: this.#conn, error, retryAfter },
      );
    }

    heartbeatTimeout(): void {
      this.#post({ type: "heartbeatTimeout", conn: this.#conn });
    }

    rtt(ms: number): void {
      if (this.#actor.#transportConn === this.#conn) this.#actor.stats.rtt = ms;
    }
  };

  #send(frame: Frame, reply: Waiter | undefined, origin: string): void {
    const transport = this.#transport;
    const conn = this.#transportConn;
    if (transport === undefined) {
      this.#refused(new Error("Cannot send frame as there is no connection"), reply, origin, conn);
      return;
    }
    try {
      this.checkSupported(frame);
      const taken = transport.send(
        frame,
        reply === undefined ? undefined : (error) => {
          if (error === undefined) reply.resolve();
          else this.#writeFailed(conn, reply, error);
        },
      );
      if (!taken) {
        // The connection is ending; its end, reported by the transport, is the reason.
        const why = `Cannot send a frame from ${origin} as the connection is ending`;
        if (reply) this.#writeFailed(conn, reply, new Error(why));
        else this.#log("warn", `${why}: dropped`);
        return;
      }
    } catch (error) {
      this.#refused(error, reply, origin, conn);
      return;
    }
    if (frame.type === "text" || frame.type === "binary") {
      this.stats.messagesOut++;
      this.stats.bytesOut += payloadSize(frame.data);
    }
  }

  /** A frame the transport refused (or could not take) on connection `conn`. */
  #refused(error: unknown, reply: Waiter | undefined, origin: string, conn: number): void {
    if (error instanceof UnsupportedError) {
      // The frame was refused, the connection is fine.
      if (reply) reply.reject(error);
      else this.#log("warn", `Dropping frame from ${origin}: ${error.message}`);
      return;
    }
    const err = error instanceof Error ? error : new Error(String(error), { cause: error });
    if (reply) reply.reject(err);
    else this.#log("warn", `A frame from ${origin} could not be sent: ${err.message}`);
    if (this.#transportConn === conn) {
      this.#mailbox.postFirst({ type: "error", conn, error: err });
    }
  }

  /** A frame sent with a reply was never written: the machine tells the caller why. */
  #writeFailed(conn: number, reply: Waiter, error: Error): void {
    if (this.#machine.phase === "stopped") {
      reply.reject(new ClientStoppedError(this.#machine.stopReason!));
      return;
    }
    this.#mailbox.post({ type: "writeFailed", conn, reply, error });
  }

  /**
   * The client is done with the current connection: it closes it with `code` and `reason` when
   * given, and releases it otherwise. Its `done` is waited for on stop.
   */
  #release(code?: number, reason = ""): void {
    if (this.#computing !== undefined) {
      this.#computing.abort(new Error("the connection attempt was abandoned"));
      this.#computing = undefined;
    }
    const t = this.#transport;
    if (t === undefined) return;
    const stats = this.stats;
    if (stats.connectedAt !== undefined) {
      stats.connectedBefore += Date.now() - stats.connectedAt;
      stats.connectedAt = undefined;
    }
    this.#transport = undefined;
    this.#transportConn = 0;
    try {
      if (code === undefined) t.release();
      else t.close(code, reason);
    } catch { /* the transport is going away regardless */ }
    const done = t.done;
    const releasing = this.#more.releasing ??= new Set();
    releasing.add(done);
    done.then(() => releasing.delete(done));
  }

  /** The client stopped: settles what waits, releases everything; logs unless `quiet`. */
  #terminate(reason: StopReason, quiet: boolean): void {
    const stopped = () => new ClientStoppedError(reason);
    for (const event of this.#mailbox.close()) {
      if ("reply" in event && event.reply !== undefined) event.reply.reject(stopped());
      else if (event.type === "call") (event.from as Caller).stop(stopped());
    }
    const rare = this.#rare;
    if (rare?.callers !== undefined) {
      for (const caller of [...rare.callers]) caller.stop(stopped());
    }
    const waiters = rare?.readyWaiters;
    if (waiters !== undefined) {
      rare!.readyWaiters = undefined;
      for (const w of waiters) w.reject(stopped());
    }
    if (this.#connectTimer !== undefined) this.#clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    if (rare?.timers !== undefined) {
      for (const id of rare.timers.values()) this.#clock.clearTimeout(id);
      rare.timers = undefined;
    }
    this.#release();
    if (quiet) {
      // reported by the caller
    } else if (
      reason.kind === "error" || reason.kind === "max_retries_exceeded" ||
      reason.kind === "max_elapsed_exceeded"
    ) {
      // Giving up logs one error: here, or for permanent_failure the machine's "Giving up" line.
      this.#log("error", `stopped: ${describeStop(reason)}`, reason);
    } else if (!dropsDebug(this.#config.logger)) {
      this.#log("debug", `stopped: ${describeStop(reason)}`);
    }
    this.#onTerminate?.(reason);
    this.#emit({ type: "stopped", reason, at: Date.now() });
    // Read again: releasing the transport above may have made them.
    const ending = this.#rare;
    if (ending?.eventReaders !== undefined) {
      for (const reader of ending.eventReaders) reader.end();
    }
    if (ending?.frameReaders !== undefined) {
      for (const reader of ending.frameReaders) reader.end();
    }
    const releasing = ending?.releasing;
    Promise.all(releasing === undefined ? [] : [...releasing]).then(() => {
      const rare = this.#more;
      rare.finalReason = reason;
      rare.resolveStopped?.(reason);
    });
  }

  /** An error for callers of a stopped client. */
  stoppedError(): ClientStoppedError {
    return new ClientStoppedError(this.#machine.stopReason ?? { kind: "normal" });
  }
}

/**
 * The machine's config made last: clients started alike (most of them) share one. Held weakly,
 * so a reconnect policy (its `random`) is not kept alive once no client uses it.
 */
let lastMachineConfig: WeakRef<MachineConfig> | undefined;

/** The machine's part of `config` (which it only reads), shared when it is the same as the last. */
function machineConfig(config: Config, heartbeat: ResolvedHeartbeat | undefined): MachineConfig {
  const last = lastMachineConfig?.deref();
  if (
    last !== undefined && last.reconnect === config.reconnect &&
    last.connectTimeout === config.connectTimeout && last.heartbeat === heartbeat &&
    last.maxQueuedFrames === config.maxQueuedFrames && last.maxQueuedBytes === config.maxQueuedBytes
  ) return last;
  const made: MachineConfig = {
    reconnect: config.reconnect,
    connectTimeout: config.connectTimeout,
    heartbeat,
    maxQueuedFrames: config.maxQueuedFrames,
    maxQueuedBytes: config.maxQueuedBytes,
  };
  lastMachineConfig = new WeakRef(made);
  return made;
}

/** A `ready()` caller waiting for the connection. */
interface ReadyWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * An actor's fields that only some clients use (timers of the reconnect policy, callers,
 * readers, `ready()` waiters) or that all use only once they end (releasing, stopped): one
 * object, made when one of them is first set.
 */
class Rare {
  /** The machine's timers by token. */
  timers: Map<number, unknown> | undefined;
  /** The `done` of transports released and not done yet (waited for on stop). */
  releasing: Set<Promise<void>> | undefined;
  /** `stopped`, once asked for. */
  stopped: Promise<StopReason> | undefined;
  resolveStopped: ((reason: StopReason) => void) | undefined;
  /** Why the client stopped, once it has released everything (`stopped` settles with it). */
  finalReason: StopReason | undefined;
  /** Callers of `call` still waiting, rejected when the client stops. */
  callers: Set<Caller> | undefined;
  eventReaders: Set<EventReader> | undefined;
  frameReaders: Set<FrameReader> | undefined;
  /** `ready()` callers waiting for the connection. */
  readyWaiters: ReadyWaiter[] | undefined;
}

/** The user's commands: a stop or a disconnect is served after those posted before it. */
function isCommand(event: Event): boolean {
  switch (event.type) {
    case "send":
    case "connect":
    case "disconnect":
    case "stop":
    case "info":
    case "call":
      return true;
    default:
      return false;
  }
}

/** A payload's size in bytes; text counted in UTF-16 code units (cheap, and close enough). */
function payloadSize(data: string | Uint8Array | undefined): number {
  return data === undefined ? 0 : typeof data === "string" ? data.length : data.byteLength;
}

function frameCost(data: string | Uint8Array | undefined): number {
  return payloadSize(data) + FRAME_COST;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
