/**
 * What callbacks return: small helpers that build a discriminated union on `action`.
 *
 * @module
 */

import type { Frame } from "../vocabulary/frame.ts";

/**
 * Keep going with `state`.
 *
 * @example
 * ```ts
 * import { ok, type Ok } from "@parley/client";
 * const result: Ok<number> = ok(1);
 * ```
 */
export interface Ok<S> {
  /** The action. */
  readonly action: "ok";
  /** The new user state. */
  readonly state: S;
}

/**
 * Send `frame` (or each of several frames, in order) and keep going with `state`.
 *
 * @example
 * ```ts
 * import { push, type Push } from "@parley/client";
 * const result: Push<number> = push({ type: "text", data: "hi" }, 1);
 * ```
 */
export interface Push<S> {
  /** The action. */
  readonly action: "push";
  /** The frame, or frames, to send. */
  readonly frame: Frame | readonly Frame[];
  /** The new user state. */
  readonly state: S;
}

/**
 * Close the connection gracefully and stay alive; `handleDisconnect` receives
 * `{ kind: "user", reason }`.
 *
 * @example
 * ```ts
 * import { disconnect, type Disconnect } from "@parley/client";
 * const result: Disconnect<number> = disconnect("unauthorized", 1);
 * ```
 */
export interface Disconnect<S> {
  /** The action. */
  readonly action: "disconnect";
  /** The reason given to `handleDisconnect`. */
  readonly reason: unknown;
  /** The new user state. */
  readonly state: S;
}

/**
 * Stop the client with `reason` (`"normal"` counts as a normal stop).
 *
 * @example
 * ```ts
 * import { stop, type Stop } from "@parley/client";
 * const result: Stop<number> = stop("done", 1);
 * ```
 */
export interface Stop<S> {
  /** The action. */
  readonly action: "stop";
  /** Why the client stops. */
  readonly reason: unknown;
  /** The last user state, if given. */
  readonly state?: S;
}

/**
 * From `handleDisconnect`: reconnect with backoff even when the `reconnect` option is off
 * (then with the default backoff).
 *
 * @example
 * ```ts
 * import { reconnect, type Reconnect } from "@parley/client";
 * const result: Reconnect<number> = reconnect(1);
 * ```
 */
export interface Reconnect<S> {
  /** The action. */
  readonly action: "reconnect";
  /** The new user state. */
  readonly state: S;
}

/**
 * From `handleDisconnect`: stay disconnected, whatever the `reconnect` option says.
 *
 * @example
 * ```ts
 * import { stayDisconnected, type StayDisconnected } from "@parley/client";
 * const result: StayDisconnected<number> = stayDisconnected(1);
 * ```
 */
export interface StayDisconnected<S> {
  /** The action. */
  readonly action: "disconnect";
  /** The new user state. */
  readonly state: S;
}

/**
 * From `handleCall`: answer the caller with `value` now, and keep going with `state`.
 *
 * @example
 * ```ts
 * import { reply, type Reply } from "@parley/client";
 * const result: Reply<number, string> = reply("pong", 1);
 * ```
 */
export interface Reply<S, V = unknown> {
  /** The action. */
  readonly action: "reply";
  /** The answer the caller's promise resolves with. */
  readonly value: V;
  /** The new user state. */
  readonly state: S;
}

/**
 * What `handleCall` may return: `reply(value, state)` to answer now, or any result of the other
 * callbacks (then answer later through `from`, or the call times out). Returning nothing keeps
 * the state as it is.
 *
 * @example
 * ```ts
 * import { reply, type CallResult } from "@parley/client";
 * const result: CallResult<string> = reply(42, "state");
 * ```
 */
export type CallResult<S> = Reply<S> | CallbackResult<S>;

/**
 * What `handleConnect`, `handleFrame`, `handlePing` and `handleInfo` may return. Returning
 * nothing (`undefined`) keeps the state as it is.
 *
 * @example
 * ```ts
 * import { ok, type CallbackResult } from "@parley/client";
 * const result: CallbackResult<string> = ok("state");
 * ```
 */
export type CallbackResult<S> = Ok<S> | Push<S> | Disconnect<S> | Stop<S>;

/**
 * What `handleDisconnect` may return. Returning nothing (`undefined`) is the same as `ok` with
 * the state unchanged.
 *
 * @example
 * ```ts
 * import { reconnect, type DisconnectResult } from "@parley/client";
 * const result: DisconnectResult<string> = reconnect("state");
 * ```
 */
export type DisconnectResult<S> = Ok<S> | Reconnect<S> | StayDisconnected<S>;

/**
 * What `init` may return: `ok(state)` to start, or `stop(reason)` to refuse.
 *
 * @example
 * ```ts
 * import { ok, stop, type InitResult } from "@parley/client";
 * const accept: InitResult<number> = ok(42);
 * const refuse: InitResult<number> = stop("bad argument");
 * ```
 */
export type InitResult<S> = Ok<S> | Stop<S>;

/**
 * Builds {@linkcode Ok}: keep going with `state`.
 *
 * @example
 * ```ts
 * import { defineClient, ok } from "@parley/client";
 * const Counter = defineClient({
 *   init: (n: number) => ok({ n }),
 *   handleFrame: (_frame, state) => ok({ n: state.n + 1 }),
 * });
 * ```
 */
export function ok<S>(state: S): Ok<S> {
  return { action: "ok", state };
}

/**
 * Builds {@linkcode Reply}: from `handleCall`, answer the caller with `value` and keep going.
 *
 * @example
 * ```ts
 * import { defineClient, ok, reply } from "@parley/client";
 * const Counter = defineClient({
 *   init: () => ok({ frames: 0 }),
 *   handleFrame: (_frame, state) => ok({ frames: state.frames + 1 }),
 *   handleCall: (_request: "count", _from, state) => reply(state.frames, state),
 * });
 * ```
 */
export function reply<S, V>(value: V, state: S): Reply<S, V> {
  return { action: "reply", value, state };
}

/**
 * Builds {@linkcode Push}: send a frame (or an array of frames, in order) and keep going.
 *
 * @example
 * ```ts
 * import { defineClient, push } from "@parley/client";
 * const Subscriber = defineClient({
 *   handleConnect: (state: { topic: string }) =>
 *     push({ type: "text", data: `subscribe ${state.topic}` }, state),
 * });
 * ```
 */
export function push<S>(frame: Frame | readonly Frame[], state: S): Push<S> {
  return { action: "push", frame, state };
}

/**
 * Builds {@linkcode Disconnect}: close the connection gracefully and stay alive;
 * `handleDisconnect` then receives `{ kind: "user", reason }`.
 *
 * @example
 * ```ts
 * import { defineClient, disconnect, ok } from "@parley/client";
 * const Client = defineClient({
 *   handleFrame: (frame, state: null) =>
 *     frame.type === "text" && frame.data === "bye" ? disconnect("server said bye", state) : ok(state),
 * });
 * ```
 */
export function disconnect<S>(reason: unknown, state: S): Disconnect<S> {
  return { action: "disconnect", reason, state };
}

/**
 * Builds {@linkcode Stop}: stop the client with `reason`. From `init`, refuses to start.
 *
 * @example
 * ```ts
 * import { defineClient, ok, stop } from "@parley/client";
 * const Client = defineClient({
 *   init: (token: string) => token ? ok({ token }) : stop("missing token"),
 * });
 * ```
 */
export function stop<S = never>(reason: unknown, state?: S): Stop<S> {
  return state === undefined ? { action: "stop", reason } : { action: "stop", reason, state };
}

/**
 * Builds {@linkcode Reconnect}: from `handleDisconnect`, reconnect with backoff even when the
 * `reconnect` option is off (then with the default backoff).
 *
 * @example
 * ```ts
 * import { defineClient, reconnect } from "@parley/client";
 * const Client = defineClient({
 *   handleDisconnect: (_reason, state: null) => reconnect(state),
 * });
 * ```
 */
export function reconnect<S>(state: S): Reconnect<S> {
  return { action: "reconnect", state };
}

/**
 * Builds {@linkcode StayDisconnected}: from `handleDisconnect`, stay disconnected whatever the
 * `reconnect` option says.
 *
 * @example
 * ```ts
 * import { defineClient, ok, stayDisconnected } from "@parley/client";
 * const Client = defineClient({
 *   handleDisconnect: (reason, state: null) =>
 *     reason.kind === "remote_close" && reason.code === 1008 ? stayDisconnected(state) : ok(state),
 * });
 * ```
 */
export function stayDisconnected<S>(state: S): StayDisconnected<S> {
  return { action: "disconnect", state };
}
