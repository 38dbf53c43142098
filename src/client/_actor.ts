// Internal: the driver. It owns the transport, the timers and the mailbox, runs the callbacks
// one at a time, and performs the effects the machine returns.

import { ClientStoppedError, describeStop } from "./errors.ts";
import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { Frame, ReceivedFrame } from "../vocabulary/frame.ts";
import { UnsupportedError } from "../vocabulary/unsupported_error.ts";
import type { Config } from "./_options.ts";
import {
  type CallbackName,
  createMachine,
  type Effect,
  type Event,
  type Machine,
  type Phase,
  type Reply,
  step,
} from "./_machine.ts";
import { Mailbox } from "./_mailbox.ts";
import type { StopReason } from "./reasons.ts";
import type { Connector, Transport, TransportEvents } from "../transport/transport.ts";

/** The timer functions the driver uses; tests pass a fake clock. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

type Callbacks = Partial<Record<CallbackName, (...args: never[]) => unknown>>;

/** One running client. Its machine's record is written by `step` only. */
export class Actor {
  readonly connector: Connector;
  readonly stopped: Promise<StopReason>;
  #machine: Machine;
  #config: Config;
  #callbacks: Callbacks;
  #clock: Clock;
  #label: string;
  #mailbox = new Mailbox<Event>();
  #transport: Transport | undefined;
  #transportConn = 0;
  #connectTimer: unknown;
  #timers = new Map<number, unknown>();
  #releasing = new Set<Promise<void>>();
  #resolveStopped!: (reason: StopReason) => void;
  #onTerminate: (reason: StopReason) => void;

  constructor(
    callbacks: Callbacks,
    config: Config,
    connector: Connector,
    clock: Clock,
    label: string,
    onTerminate: (reason: StopReason) => void,
  ) {
    this.#machine = createMachine(undefined, config);
    this.connector = connector;
    this.#config = config;
    this.#callbacks = callbacks;
    this.#clock = clock;
    this.#label = label;
    this.#onTerminate = onTerminate;
    this.stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
    // Frames written during a burst of events go out together once the burst is over.
    this.#mailbox.onIdle = () => this.#transport?.flush?.();
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
    this.#loop().catch((error) => {
      // Only a bug in the driver itself lands here; stop properly rather than hang (a client
      // that has stopped already stays as it is).
      this.#log("error", "internal error", error);
      this.#perform(step(this.#machine, { type: "internalError", error }));
    });
  }

  /** Queues an event. */
  post(event: Event): void {
    this.#mailbox.post(event);
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

  async #loop(): Promise<void> {
    const mailbox = this.#mailbox;
    for await (const _ of mailbox.turns()) {
      // Everything waiting is handled in this turn, in order (postFirst included), without a
      // promise per event: only an async callback makes the loop wait.
      for (let event = mailbox.take(); event !== undefined; event = mailbox.take()) {
        const pending = this.#handle(step(this.#machine, event));
        if (pending !== undefined) await pending;
      }
    }
  }

  /**
   * Performs `effects` and runs the callbacks they call, stepping the machine with each outcome.
   * Returns a promise only when a callback returned one (the rest then continues after it).
   */
  #handle(effects: Effect[]): Promise<void> | undefined {
    for (;;) {
      const call = this.#perform(effects);
      if (call === undefined) break;
      let outcome: Event;
      try {
        const fn = this.#callbacks[call.callback] as
          | ((...args: unknown[]) => unknown)
          | undefined;
        const value = fn === undefined ? undefined : fn.apply(this.#callbacks, call.args);
        if (isThenable(value)) {
          // Nothing sent so far waits for an async callback.
          this.#transport?.flush?.();
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

  /** Continues `#handle` once an async callback's promise settles. */
  async #resume(value: PromiseLike<unknown>): Promise<void> {
    let outcome: Event;
    try {
      outcome = { type: "result", value: await value };
    } catch (error) {
      outcome = { type: "threw", error };
    }
    const pending = this.#handle(step(this.#machine, outcome));
    if (pending !== undefined) await pending;
  }

  /** After each event: the connect timer ends once the machine has left "connecting". */
  #settled(): void {
    if (this.#machine.phase === "connecting" || this.#connectTimer === undefined) return;
    this.#clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
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
        case "arm": {
          const token = fx.token;
          this.#timers.set(
            token,
            this.#clock.setTimeout(() => {
              this.#timers.delete(token);
              this.#mailbox.post({ type: "timer", token });
            }, fx.delay),
          );
          break;
        }
        case "disarm": {
          const id = this.#timers.get(fx.token);
          if (id !== undefined) this.#clock.clearTimeout(id);
          this.#timers.delete(fx.token);
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
    this.#transport = this.connector.connect(
      {
        url: config.url,
        headers: config.headers,
        subprotocols: config.subprotocols,
        closeTimeout: config.closeTimeout,
        limits: config.limits,
        tls: config.tls,
        proxy: config.proxy,
      },
      new Actor.#Events(this, conn),
    );
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
      this.#post({ type: "opened", conn: this.#conn, info });
    }

    frame(frame: ReceivedFrame): void {
      this.#post({ type: "frame", conn: this.#conn, frame });
    }

    ping(payload: Uint8Array): void {
      this.#post({ type: "ping", conn: this.#conn, payload });
    }

    remoteClose(code: number, reason: string): void {
      this.#post({ type: "remoteClose", conn: this.#conn, code, reason });
    }

    error(error: Error): void {
      this.#post({ type: "error", conn: this.#conn, error });
    }

    heartbeatTimeout(): void {
      // TODO(issue 11): a disconnect reason of its own.
      this.#post({
        type: "error",
        conn: this.#conn,
        error: new Error("The heartbeat timed out"),
      });
    }

    rtt(_ms: number): void {}
  };

  #send(frame: Frame, reply: Reply | undefined, origin: string): void {
    const transport = this.#transport;
    const conn = this.#transportConn;
    const fail = (error: unknown) => {
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
    };
    if (transport === undefined) {
      fail(new Error("Cannot send frame as there is no connection"));
      return;
    }
    try {
      this.checkSupported(frame);
      transport.send(
        frame,
        reply === undefined
          ? undefined
          : (error) => error === undefined ? reply.resolve() : fail(error),
      );
    } catch (error) {
      fail(error);
    }
  }

  /**
   * The client is done with the current connection: it closes it with `code` and `reason` when
   * given, and releases it otherwise. Its `done` is waited for on stop.
   */
  #release(code?: number, reason = ""): void {
    const t = this.#transport;
    if (t === undefined) return;
    this.#transport = undefined;
    this.#transportConn = 0;
    try {
      if (code === undefined) t.release();
      else t.close(code, reason);
    } catch { /* the transport is going away regardless */ }
    const done = t.done;
    this.#releasing.add(done);
    done.then(() => this.#releasing.delete(done));
  }

  /** The client stopped: settles what waits, releases everything; logs unless `quiet`. */
  #terminate(reason: StopReason, quiet: boolean): void {
    for (const event of this.#mailbox.close()) {
      if ("reply" in event && event.reply !== undefined) {
        event.reply.reject(new ClientStoppedError(reason));
      }
    }
    if (this.#connectTimer !== undefined) this.#clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    for (const id of this.#timers.values()) this.#clock.clearTimeout(id);
    this.#timers.clear();
    this.#release();
    if (quiet) {
      // reported by the caller
    } else if (reason.kind === "error" || reason.kind === "max_retries_exceeded") {
      this.#log("error", `stopped: ${describeStop(reason)}`, reason);
    } else {
      this.#log("debug", `stopped: ${describeStop(reason)}`);
    }
    this.#onTerminate(reason);
    Promise.all([...this.#releasing]).then(() => this.#resolveStopped(reason));
  }

  /** An error for callers of a stopped client. */
  stoppedError(): ClientStoppedError {
    return new ClientStoppedError(this.#machine.stopReason ?? { kind: "normal" });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}
