/**
 * The handle of a running client.
 *
 * @module
 */

import type { Actor } from "./_actor.ts";
import { describe, frameShapeError, frameSizeError, utf8Length } from "./_frame_check.ts";
import { handleKey } from "./_handle_key.ts";
import { hintFor, unknownKey } from "./_options.ts";
import type { Frame } from "../vocabulary/frame.ts";
import type { Phase } from "./_machine.ts";
import type { ClientName } from "./name.ts";
import type { DisconnectReason, StopReason } from "./reasons.ts";
import type { CallOptions } from "./call.ts";
import type { ClientEvent, EventsOptions, ReadyOptions } from "./events.ts";
import type { ReceivedFrame } from "../vocabulary/frame.ts";

/**
 * The client's state: `disconnected`, `connecting`, `connected`, or `stopped` (final).
 *
 * @example
 * ```ts
 * import type { ClientState } from "@parley/client";
 * const s: ClientState = "connected";
 * ```
 */
export type ClientState = Phase;

/**
 * Options for {@linkcode ClientHandle.disconnect}.
 *
 * @example
 * ```ts
 * import type { DisconnectOptions } from "@parley/client";
 * const opts: DisconnectOptions = { code: 4000, reason: "maintenance" };
 * ```
 */
export interface DisconnectOptions {
  /** The close code: 1000 (default) or 3000-4999. */
  readonly code?: number;
  /** The close reason, at most 123 bytes of UTF-8. Default `""`. */
  readonly reason?: string;
}

/** Shared by every copy of the library in the realm, so their handles recognise each other. */
const HANDLE_BRAND: unique symbol = Symbol.for("@parley/client.ClientHandle") as never;

/**
 * A running client, as `start` resolves it (it cannot be constructed otherwise). All methods
 * are safe to call in any state. `S` is the user state's type and `M` the type of messages for
 * `handleInfo`.
 *
 * @example
 * ```ts ignore
 * import { defineClient } from "@parley/client";
 * const Echo = defineClient({});
 * await using conn = await Echo.start(null, { url: "ws://127.0.0.1:8080/" });
 * await conn.sendFrame({ type: "text", data: "hello" });
 * console.log(conn.state); // "connected"
 * ```
 */
export class ClientHandle<S = unknown, M = unknown, C = unknown> {
  /**
   * Whether `value` is a client handle, from this copy of the library or from any other copy
   * loaded in the same JavaScript realm (their handles share a `Symbol.for` brand).
   *
   * @example
   * ```ts ignore
   * if (found instanceof ClientHandle) await found.stop();
   * ```
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value !== null && typeof value === "object" &&
      (value as Record<symbol, unknown>)[HANDLE_BRAND] === true;
  }

  /**
   * The brand that `instanceof ClientHandle` checks, in every copy of the library.
   *
   * @example
   * ```ts ignore
   * console.log(conn[Symbol.for("@parley/client.ClientHandle")]); // true
   * ```
   */
  get [HANDLE_BRAND](): true {
    return true;
  }

  #actor: Actor;
  #name: ClientName | undefined;
  #stopping: Promise<StopReason> | undefined;
  /**
   * Never set, and private: it ties the handle to its type parameters, so that a handle of one
   * state or message type is not taken for a handle of another.
   */
  declare private readonly types?: {
    readonly state: S;
    readonly message: M;
    readonly request: C;
  };

  /**
   * Handles come from `start()`; constructing one otherwise throws a `TypeError`.
   * @param key The library's own key.
   * @param actor The client's driver.
   * @param name The registered name, if any.
   */
  constructor(key: symbol, actor: Actor, name: ClientName | undefined) {
    if (key !== handleKey) {
      throw new TypeError(
        "Cannot construct a ClientHandle: start a client with start() from defineClient",
      );
    }
    this.#actor = actor;
    this.#name = name;
  }

  /**
   * The current state.
   *
   * @example
   * ```ts ignore
   * if (conn.state === "connected") await conn.sendFrame({ type: "text", data: "hi" });
   * ```
   */
  get state(): ClientState {
    return this.#actor.phase;
  }

  /**
   * The transport carrying the connection: `"web"` (the runtime's `WebSocket`) or `"socket"`
   * (Parley's own protocol over TCP/TLS), as chosen at start.
   *
   * @example
   * ```ts ignore
   * console.log(conn.transport); // "socket"
   * ```
   */
  get transport(): "web" | "socket" {
    return this.#actor.connector.name;
  }

  /**
   * The name the client is registered under, if any.
   *
   * @example
   * ```ts ignore
   * console.log(conn.name); // "ticker"
   * ```
   */
  get name(): ClientName | undefined {
    return this.#name;
  }

  /**
   * What the client has done so far: a snapshot, taken when read.
   *
   * @example
   * ```ts ignore
   * const { connects, messagesIn, rtt } = conn.stats;
   * console.log(`${connects} connections, ${messagesIn} messages, last round trip ${rtt} ms`);
   * ```
   */
  get stats(): ClientStats {
    const s = this.#actor.stats;
    return {
      attempts: s.attempts,
      connects: s.connects,
      messagesIn: s.messagesIn,
      bytesIn: s.bytesIn,
      messagesOut: s.messagesOut,
      bytesOut: s.bytesOut,
      connectedAt: s.connectedAt,
      connectedMs: s.connectedBefore +
        (s.connectedAt === undefined ? 0 : Date.now() - s.connectedAt),
      lastClose: s.lastClose,
      rtt: s.rtt,
    };
  }

  /**
   * Settles when the client has stopped and released its connection, with the reason.
   * It never rejects.
   *
   * @example
   * ```ts ignore
   * const reason = await conn.stopped;
   * if (reason.kind === "max_retries_exceeded") console.error("gave up");
   * ```
   */
  get stopped(): Promise<StopReason> {
    return this.#actor.stopped;
  }

  /**
   * Sends a frame and resolves once it is written to the connection. While connecting, the
   * frame waits in a bounded queue and is sent in order after `handleConnect`. On the socket
   * transport it also waits while more than 1 MiB is buffered for the socket (backpressure),
   * until all but 256 KiB of it is taken.
   *
   * Rejects with a `TypeError` or `RangeError` for a malformed frame (the client carries on),
   * `DisconnectedError` while disconnected, `ConnectionError` when the connection attempt it
   * waited for failed, `QueueFullError` when the queue is full, `UnsupportedError` when the
   * transport cannot send that frame type, and `ClientStoppedError` once stopped.
   *
   * @example
   * ```ts ignore
   * await conn.sendFrame({ type: "text", data: "hello" });
   * await conn.sendFrame({ type: "binary", data: new Uint8Array([1, 2, 3]) });
   * ```
   */
  sendFrame(frame: Frame): Promise<void> {
    try {
      this.#check(frame);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#actor.request("sendFrame", { type: "send", frame, reply: { resolve, reject } }, reject);
    });
  }

  /**
   * Sends a frame without waiting. Nothing is returned;
   * failures, including a malformed frame, go to the logger as warnings.
   *
   * @example
   * ```ts ignore
   * conn.sendFrameAsync({ type: "text", data: "fire and forget" });
   * ```
   */
  sendFrameAsync(frame: Frame): void {
    try {
      this.#check(frame);
    } catch (error) {
      this.#actor.warn(`Dropping frame from sendFrameAsync: ${(error as Error).message}`);
      return;
    }
    this.#actor.post({ type: "send", frame });
  }

  /**
   * Connects now if disconnected (cancelling any reconnect timer), and resolves once connected
   * and `handleConnect` has run. Rejects with `ConnectionError` if that attempt fails.
   *
   * @example
   * ```ts ignore
   * await conn.disconnect();
   * await conn.connect();
   * ```
   */
  connect(): Promise<void> {
    if (this.state === "stopped") return Promise.reject(this.#actor.stoppedError());
    return new Promise((resolve, reject) => {
      this.#actor.request("connect", { type: "connect", reply: { resolve, reject } }, reject);
    });
  }

  /**
   * Resolves once the client is connected and `handleConnect` has run (at once if it is), for
   * code outside the client that must wait for the connection. Rejects with
   * `ClientStoppedError` when the client stops first, or with `signal`'s reason; with a
   * `TypeError` for an option it does not take (as `call`, `events` and `disconnect` do). It
   * waits across failed attempts: with `reconnect: false`, a client whose connect failed waits
   * for `connect()`, so give a `signal` (`AbortSignal.timeout(ms)`) to bound the wait.
   *
   * @example
   * ```ts ignore
   * await conn.ready({ signal: AbortSignal.timeout(5000) });
   * ```
   */
  ready(options: ReadyOptions = {}): Promise<void> {
    const fault = optionsFault(options, READY_KEYS, "Cannot wait for the client as", READY_HINTS);
    if (fault !== undefined) return Promise.reject(fault);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(
        new TypeError(
          `Cannot wait for the client as "signal" must be an AbortSignal, got ${describe(signal)}`,
        ),
      );
    }
    if (this.state === "stopped") return Promise.reject(this.#actor.stoppedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      this.#actor.request("ready", () => {
        const onAbort = () => {
          cancel();
          reject(signal!.reason);
        };
        const cancel = this.#actor.ready(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        });
        signal?.addEventListener("abort", onAbort, { once: true });
      }, reject);
    });
  }

  /**
   * Asks the client: runs `handleCall(request, from, state)`, in every state, and resolves with
   * what it answers (`reply(value, state)` at once, or `from.reply(value)` later). Rejects with
   * `CallTimeoutError` after `timeout` ms (default 5000), with `signal`'s reason when it aborts,
   * with what `from.reject` gets, and with `ClientStoppedError` when the client stops first. A
   * definition without `handleCall` rejects with a `TypeError`.
   *
   * @example
   * ```ts ignore
   * const balance = await conn.call<number>({ method: "balance" }, { timeout: 2000 });
   * ```
   */
  call<T = unknown>(request: C, options: CallOptions = {}): Promise<T> {
    const fault = optionsFault(options, CALL_KEYS, "Cannot call the client as");
    if (fault !== undefined) return Promise.reject(fault);
    const timeout = options.timeout ?? 5000;
    const signal = options.signal;
    if (
      typeof timeout !== "number" || Number.isNaN(timeout) ||
      (timeout !== Infinity && !(timeout > 0 && timeout <= 2 ** 31 - 1))
    ) {
      return Promise.reject(
        new RangeError(
          `Cannot call the client as "timeout" must be above 0 and at most ${
            2 ** 31 - 1
          } ms (or Infinity), got ${String(timeout)}`,
        ),
      );
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(
        new TypeError(
          `Cannot call the client as "signal" must be an AbortSignal, got ${describe(signal)}`,
        ),
      );
    }
    if (!this.#actor.answersCalls) {
      return Promise.reject(
        new TypeError("Cannot call the client as its definition has no handleCall callback"),
      );
    }
    if (this.state === "stopped") return Promise.reject(this.#actor.stoppedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      this.#actor.request(
        "call",
        () =>
          this.#actor.call(request, timeout, signal, resolve as (value: unknown) => void, reject),
        reject,
      );
    });
  }

  /**
   * What happens to the client from now on, as an async iterable: `connecting`, `connected`,
   * `disconnected`, `reconnecting` and, last, `stopped` (see {@linkcode ClientEvent}). Any
   * number of readers may iterate at once; each may fall behind by `buffer` events (default
   * 100), past which it loses the oldest and gets a `missed` event saying how many; a slow
   * reader never slows the client. The iteration ends when the client stops; breaking out of
   * the loop releases the reader.
   *
   * @example
   * ```ts ignore
   * for await (const event of conn.events()) {
   *   if (event.type === "disconnected") console.warn("lost the feed:", event.reason.kind);
   * }
   * ```
   */
  events(options: EventsOptions = {}): AsyncIterableIterator<ClientEvent> {
    const fault = optionsFault(options, EVENTS_KEYS, "Cannot read the client's events as");
    if (fault !== undefined) throw fault;
    const buffer = options.buffer ?? 100;
    if (typeof buffer !== "number" || Number.isNaN(buffer)) {
      throw new TypeError(
        `Cannot read the client's events as "buffer" must be a number, got ${describe(buffer)}`,
      );
    }
    if (!Number.isInteger(buffer) || buffer < 1) {
      throw new RangeError(
        `Cannot read the client's events as "buffer" must be a whole number of 1 or more, got ${
          String(buffer)
        }`,
      );
    }
    return this.#actor.events(buffer);
  }

  /**
   * The frames received from now on (text, binary and pong, as `handleFrame` gets them), as an
   * async iterable, for code that would rather `for await` than write `handleFrame` (which, if
   * defined, still runs first). A reader that falls behind holds the frames it has not taken,
   * and they count toward `receiveBuffer`: past it the client stops reading from the socket
   * until the reader catches up, so memory stays bounded and nothing is dropped. The iteration
   * ends (after what is held) when the client stops; breaking out of the loop releases the
   * reader.
   *
   * @example
   * ```ts ignore
   * for await (const frame of conn.frames()) {
   *   if (frame.type === "text") console.log(frame.data);
   * }
   * ```
   */
  frames(): AsyncIterableIterator<ReceivedFrame> {
    return this.#actor.frames();
  }

  /**
   * Closes the connection gracefully with `code` and `reason`, and resolves before
   * `handleDisconnect` runs. The client stays alive and does not reconnect until `connect()` is
   * called or `handleDisconnect` returns `reconnect(state)`. While disconnected it cancels a
   * pending reconnect.
   *
   * @example
   * ```ts ignore
   * await conn.disconnect({ code: 1000, reason: "done" });
   * ```
   */
  disconnect(options: DisconnectOptions = {}): Promise<void> {
    const fault = optionsFault(options, DISCONNECT_KEYS, "Cannot disconnect as");
    if (fault !== undefined) return Promise.reject(fault);
    const code = options.code ?? 1000;
    const reason = options.reason ?? "";
    if (!Number.isInteger(code) || (code !== 1000 && (code < 3000 || code > 4999))) {
      return Promise.reject(
        new RangeError(`Cannot disconnect with close code ${code}: use 1000 or 3000-4999`),
      );
    }
    if (typeof reason !== "string" || utf8Length(reason) > 123) {
      return Promise.reject(
        new RangeError(
          "Cannot disconnect as the close reason must be a string of at most 123 UTF-8 bytes",
        ),
      );
    }
    if (this.state === "stopped") return Promise.reject(this.#actor.stoppedError());
    return new Promise((resolve, reject) => {
      this.#actor.request(
        "disconnect",
        { type: "disconnect", code, reason, reply: { resolve, reject } },
        reject,
      );
    });
  }

  /**
   * Delivers `message` to `handleInfo`, in any state (like messages to an Elixir process).
   * Ignored once the client has stopped.
   *
   * @example
   * ```ts ignore
   * setInterval(() => conn.info("heartbeat"), 30_000);
   * ```
   */
  info(message: M): void {
    this.#actor.post({ type: "info", message });
  }

  /**
   * Stops the client: a graceful close if connected, then the end. Resolves with the stop
   * reason once the connection is released. `reason` defaults to a normal stop.
   *
   * @example
   * ```ts ignore
   * const reason = await conn.stop();
   * console.log(reason); // { kind: "normal" }
   * ```
   */
  stop(reason?: unknown): Promise<StopReason> {
    if (this.#stopping !== undefined) return this.#stopping;
    // A stop refused (a DeadlockError) is not the client's stop: a later stop() asks again.
    let refused = false;
    const stopping = new Promise<StopReason>((resolve, reject) => {
      this.#actor.request(
        "stop",
        () => {
          this.#actor.post({
            type: "stop",
            reason: reason === undefined || reason === "normal"
              ? { kind: "normal" }
              : { kind: "user", reason },
          });
          this.#actor.stopped.then(resolve);
        },
        (error) => {
          refused = true;
          this.#stopping = undefined;
          reject(error);
        },
      );
    });
    if (!refused) this.#stopping = stopping;
    return stopping;
  }

  /**
   * Stops the client, for `await using`.
   *
   * @example
   * ```ts ignore
   * await using conn = await Echo.start(null, { url });
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #check(frame: Frame): void {
    const shape = frameShapeError(frame);
    if (shape !== undefined) throw new TypeError(`Cannot send frame: ${shape}`);
    const size = frameSizeError(frame);
    if (size !== undefined) throw new RangeError(`Cannot send frame: ${size}`);
    this.#actor.checkSupported(frame);
    if (this.state === "stopped") throw this.#actor.stoppedError();
  }
}

/**
 * What a client has done since it started, as {@linkcode ClientHandle.stats} reports it.
 *
 * @example
 * ```ts
 * import type { ClientStats } from "@parley/client";
 * function report(s: ClientStats): string {
 *   return `${s.messagesIn} in, ${s.messagesOut} out, connected ${s.connectedMs} ms`;
 * }
 * ```
 */
export interface ClientStats {
  /** Connection attempts made, the first included. */
  readonly attempts: number;
  /** Attempts that completed the handshake. */
  readonly connects: number;
  /** Text and binary messages received. */
  readonly messagesIn: number;
  /**
   * Their payload size (text counted in UTF-16 code units), as the application sees it: not
   * the bytes on the wire, which framing adds to and compression takes from.
   */
  readonly bytesIn: number;
  /** Text and binary messages sent (handed to the transport). */
  readonly messagesOut: number;
  /** Their payload size, counted as `bytesIn` is. */
  readonly bytesOut: number;
  /** When the current connection opened (`Date.now()`), or `undefined` when not connected. */
  readonly connectedAt: number | undefined;
  /** Milliseconds connected in all, the current connection included. */
  readonly connectedMs: number;
  /** How the last connection (or attempt) ended, or `undefined`. */
  readonly lastClose: DisconnectReason | undefined;
  /** The last heartbeat round trip in milliseconds, or `undefined` before the first. */
  readonly rtt: number | undefined;
}

/**
 * A handle of any client, whatever its state and message types.
 *
 * @example
 * ```ts
 * import type { AnyClientHandle } from "@parley/client";
 * const clients: AnyClientHandle[] = [];
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyClientHandle = ClientHandle<any, any, any>;

const READY_KEYS: readonly string[] = ["signal"];
const READY_HINTS: Readonly<Record<string, string>> = {
  timeout: " (to wait at most so long, pass signal: AbortSignal.timeout(ms))",
};
const CALL_KEYS: readonly string[] = ["timeout", "signal"];
const EVENTS_KEYS: readonly string[] = ["buffer"];
const DISCONNECT_KEYS: readonly string[] = ["code", "reason"];

/**
 * What is wrong with a method's options, as start's options are checked: not an object, or a key
 * the method does not take (`lead` begins the message; `hints` suggest what a key was meant as).
 * Undefined when nothing is.
 */
function optionsFault(
  options: unknown,
  known: readonly string[],
  lead: string,
  hints: Readonly<Record<string, string>> = {},
): TypeError | undefined {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    return new TypeError(`${lead} its options must be an object, got ${describe(options)}`);
  }
  const key = unknownKey(options, known);
  return key === undefined
    ? undefined
    : new TypeError(`${lead} the option "${key}" is unknown${hintFor(hints, key)}`);
}
