/**
 * `defineClient`: describe a client by its callbacks, then start as many as you like.
 *
 * @module
 */

import type { ClientHandle } from "./client.ts";
import type { ClientOptions } from "./options.ts";
import type { DisconnectReason } from "./reasons.ts";
import type { CallbackResult, CallResult, DisconnectResult, InitResult } from "./results.ts";
import type { From } from "./call.ts";
import { startClient } from "./_start.ts";
import type { ChildSpec, RestartPolicy } from "./supervisor.ts";
import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { ReceivedFrame } from "../vocabulary/frame.ts";

/**
 * A value or a promise of it: every callback may be sync or async.
 *
 * @example
 * ```ts
 * import type { MaybePromise } from "@parley/client";
 * const later: MaybePromise<number> = Promise.resolve(1);
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The callbacks of a client, all optional. `S` is the user state, `A` the argument of `init`
 * (the state itself when there is no `init`), and `M` the type of `handleInfo` messages.
 * Callbacks never run concurrently; each may be sync or async. Returning nothing keeps the
 * state as it is.
 *
 * @example
 * ```ts
 * import { type Callbacks, ok } from "@parley/client";
 * const callbacks: Callbacks<{ n: number }, number> = {
 *   init: (n) => ok({ n }),
 *   handleFrame: (_frame, state) => ok({ n: state.n + 1 }),
 * };
 * ```
 */
export interface Callbacks<S, A = S, M = unknown, C = unknown> {
  /**
   * Runs once at start, before connecting: turns the start argument into the state.
   * `ok(state)` starts; `stop(reason)` makes `start` reject. Default: the argument is the state.
   */
  init?(arg: A): MaybePromise<InitResult<S>>;
  /** Runs after every successful handshake, before queued frames are sent. */
  handleConnect?(state: S, info: ConnectInfo): MaybePromise<CallbackResult<S> | void>;
  /** Runs for each text, binary or pong frame from the server. */
  handleFrame?(frame: ReceivedFrame, state: S): MaybePromise<CallbackResult<S> | void>;
  /** Runs for each ping from the server, after the pong has been sent. */
  handlePing?(payload: Uint8Array, state: S): MaybePromise<CallbackResult<S> | void>;
  /** Runs for each message given to `info()`, in every state. */
  handleInfo?(message: M, state: S): MaybePromise<CallbackResult<S> | void>;
  /**
   * Runs for each `conn.call(request)`, in every state: answer with `reply(value, state)`, or
   * keep `from` and answer later through it (`from.reply(value)`), e.g. once the server's
   * response arrives in `handleFrame`.
   */
  handleCall?(request: C, from: From, state: S): MaybePromise<CallResult<S> | void>;
  /** Runs whenever a connection ends or an attempt fails; decides about reconnecting. */
  handleDisconnect?(
    reason: DisconnectReason,
    state: S,
  ): MaybePromise<DisconnectResult<S> | void>;
}

/**
 * A client definition, as `defineClient` returns it: start clients from it, or describe them
 * for a supervisor.
 *
 * @example
 * ```ts ignore
 * const Echo = defineClient({});
 * const conn = await Echo.start(null, { url: "ws://127.0.0.1:8080/" });
 * ```
 */
export interface ClientDefinition<S, A = S, M = unknown, C = unknown> {
  /** The callbacks given to `defineClient`. */
  readonly callbacks: Readonly<Callbacks<S, A, M, C>>;
  /**
   * Starts a client: validates `options`, registers the name, runs `init`, and resolves once
   * `init` said `ok` (the connection is made after that). Rejects with a `TypeError`,
   * `RangeError` or `SyntaxError` for bad options, `NameTakenError` when the name is held,
   * `ClientStoppedError` (its `cause` is the reason) when `init` returns `stop(reason)`, or what
   * `init` threw.
   */
  start(initArg: A, options: ClientOptions): Promise<ClientHandle<S, M, C>>;
  /**
   * Describes a client for {@linkcode supervise}. `id` defaults to the name when it is a
   * string; `restart` defaults to `"transient"` (restart after an abnormal stop only).
   */
  childSpec(
    initArg: A,
    options: ClientOptions,
    spec?: { readonly id?: string; readonly restart?: RestartPolicy },
  ): ChildSpec;
}

/**
 * Defines a client from its callbacks (all optional). The state's type flows from `init`'s
 * result into every other callback.
 *
 * @example Echo with a greeting
 * ```ts ignore
 * import { defineClient, ok, push } from "@parley/client";
 *
 * const Greeter = defineClient({
 *   init: (name: string) => ok({ name, seen: 0 }),
 *   handleConnect: (state) => push({ type: "text", data: `hello from ${state.name}` }, state),
 *   handleFrame: (frame, state) => {
 *     if (frame.type === "text") console.log("got", frame.data);
 *     return ok({ ...state, seen: state.seen + 1 });
 *   },
 * });
 * await using conn = await Greeter.start("ada", { url: "ws://127.0.0.1:8080/" });
 * ```
 */
export function defineClient<S = unknown, A = S, M = unknown, C = unknown>(
  callbacks: Callbacks<S, A, M, C>,
): ClientDefinition<S, A, M, C> {
  if (callbacks === null || typeof callbacks !== "object") {
    throw new TypeError("Cannot define a client as the callbacks must be an object");
  }
  const names = [
    "init",
    "handleConnect",
    "handleFrame",
    "handlePing",
    "handleInfo",
    "handleCall",
    "handleDisconnect",
  ];
  for (const [key, value] of Object.entries(callbacks)) {
    if (!names.includes(key)) {
      throw new TypeError(
        `Cannot define a client as "${key}" is not a callback (expected one of ${
          names.join(", ")
        })`,
      );
    }
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`Cannot define a client as the callback "${key}" is not a function`);
    }
  }
  const frozen = Object.freeze({ ...callbacks });
  const definition: ClientDefinition<S, A, M, C> = {
    callbacks: frozen,
    start: (initArg, options) =>
      startClient(frozen, initArg, options) as Promise<ClientHandle<S, M, C>>,
    childSpec: (initArg, options, spec = {}) => {
      const name = options?.name;
      return {
        id: spec.id ?? (typeof name === "string" ? name : "client"),
        restart: spec.restart ?? "transient",
        start: () => definition.start(initArg, options),
      };
    },
  };
  return Object.freeze(definition);
}
