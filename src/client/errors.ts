/**
 * The client's named errors: what happened to a client. Their base class, `ParleyError`, and
 * the errors the connection raises too (`HandshakeError`, `UnsupportedError`) are part of the
 * shared vocabulary. Wrong arguments raise built-ins (`TypeError`, `RangeError`, `SyntaxError`).
 *
 * @module
 */

import { ParleyError } from "../vocabulary/parley_error.ts";
import { describe } from "./_frame_check.ts";
import type { DisconnectReason, StopReason } from "./reasons.ts";

/**
 * A frame was sent while the client is disconnected (including the backoff between reconnect
 * attempts). Nothing was sent.
 *
 * @example
 * ```ts
 * import { DisconnectedError } from "@parley/client";
 * const err = new DisconnectedError();
 * console.log(err.message); // "Cannot send frame as the client is disconnected"
 * ```
 */
export class DisconnectedError extends ParleyError {
  /** Creates the error. */
  constructor(message = "Cannot send frame as the client is disconnected", options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A frame queued while connecting could not be sent because the connection attempt ended
 * before it was up. `reason` says how the attempt ended.
 *
 * @example
 * ```ts
 * import { ConnectionError } from "@parley/client";
 * const err = new ConnectionError({ kind: "connect_timeout", timeout: 100 });
 * console.log(err.reason.kind); // "connect_timeout"
 * ```
 */
export class ConnectionError extends ParleyError {
  /** How the connection attempt ended. */
  readonly reason: DisconnectReason;
  /**
   * Creates the error; the cause is the reason's error, when it has one.
   * @param reason How the connection attempt ended.
   * @param message Overrides the default message.
   * @param options Overrides the cause (say, the write that failed).
   */
  constructor(reason: DisconnectReason, message?: string, options?: ErrorOptions) {
    super(
      message ??
        `Cannot send frame as the connection ended before it was up (${describeReason(reason)})`,
      options ?? (reason.kind === "error" ? { cause: reason.error } : undefined),
    );
    this.reason = reason;
  }
}

/**
 * The client has stopped, or stopped while the operation waited. `reason` is its stop reason.
 *
 * @example
 * ```ts
 * import { ClientStoppedError } from "@parley/client";
 * const err = new ClientStoppedError({ kind: "normal" });
 * console.log(err.message); // "Cannot complete the operation as the client has stopped (normal)"
 * ```
 */
export class ClientStoppedError extends ParleyError {
  /** Why the client stopped. */
  readonly reason: StopReason;
  /**
   * Creates the error; the cause is the stop's error or user reason, when it has one.
   * @param reason Why the client stopped.
   * @param message Overrides the default message.
   */
  constructor(reason: StopReason, message?: string) {
    super(
      message ??
        `Cannot complete the operation as the client has stopped (${describeStop(reason)})`,
      reason.kind === "error"
        ? { cause: reason.error }
        : reason.kind === "user" || reason.kind === "aborted"
        ? { cause: reason.reason }
        : undefined,
    );
    this.reason = reason;
  }
}

/**
 * The queue of frames waiting for the connection is full (`maxQueuedFrames` or
 * `maxQueuedBytes`). The frame was not queued.
 *
 * @example
 * ```ts
 * import { QueueFullError } from "@parley/client";
 * const err = new QueueFullError("Cannot queue frame as 1024 frames are already queued");
 * console.log(err.name); // "QueueFullError"
 * ```
 */
export class QueueFullError extends ParleyError {}

/**
 * The name asked for is already registered; `existing` is the handle that holds it.
 *
 * @example
 * ```ts
 * import { NameTakenError } from "@parley/client";
 * try {
 *   // await Client.start(arg, { url, name: "ticker" });
 * } catch (e) {
 *   if (e instanceof NameTakenError) console.log("already running:", e.existing);
 * }
 * ```
 */
export class NameTakenError extends ParleyError {
  /** The client that holds the name. */
  readonly existing: unknown;
  /**
   * Creates the error.
   * @param name A printable form of the name.
   * @param existing The client that holds the name.
   */
  constructor(name: string, existing: unknown) {
    super(`Cannot register the name ${name} as another client already holds it`);
    this.existing = existing;
  }
}

/** A short text for a disconnect reason, for messages. */
export function describeReason(reason: DisconnectReason): string {
  switch (reason.kind) {
    case "closed":
      return "closed on request";
    case "remote_close":
      return `server closed with ${reason.code}${reason.reason ? ` "${reason.reason}"` : ""}`;
    case "error":
      return reason.error.message;
    case "connect_timeout":
      return `no connection within ${reason.timeout} ms`;
    case "heartbeat_timeout":
      return `the server went silent: nothing arrived within ${reason.timeout} ms of a heartbeat probe`;
    case "user":
      return `disconnect asked by a callback: ${reasonText(reason.reason)}`;
  }
}

/** A reason a callback gave, for messages: an error's message, otherwise as `describe` shows it. */
function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : describe(reason);
}

/** "attempt" or "attempts", as `n` says. */
function attempts(n: number): string {
  return n === 1 ? "attempt" : "attempts";
}

/** A short text for a stop reason, for messages. */
export function describeStop(reason: StopReason): string {
  switch (reason.kind) {
    case "normal":
      return "normal";
    case "user":
      return `stopped with reason ${reasonText(reason.reason)}`;
    case "error":
      return reason.error instanceof Error ? reason.error.message : String(reason.error);
    case "max_retries_exceeded":
      return `gave up after ${reason.retries} reconnect ${attempts(reason.retries)}`;
    case "max_elapsed_exceeded":
      return `gave up reconnecting after ${reason.elapsed} ms (${reason.retries} ${
        attempts(reason.retries)
      })`;
    case "permanent_failure":
      return `gave up on a failure that looks permanent (${describeReason(reason.lastReason)})`;
    case "aborted":
      return "aborted by its signal";
  }
}

/**
 * No client is registered under the name given to a module-level function such as
 * `sendFrame(name, frame)`.
 *
 * @example
 * ```ts
 * import { NoSuchClientError, sendFrame } from "@parley/client";
 * try {
 *   await sendFrame("nobody", { type: "text", data: "hi" });
 * } catch (e) {
 *   console.log(e instanceof NoSuchClientError); // true
 * }
 * ```
 */
export class NoSuchClientError extends ParleyError {}

/**
 * `conn.call` got no answer within its `timeout`. The client carries on; the `from` its
 * `handleCall` got is stale from then on.
 *
 * @example
 * ```ts ignore
 * try {
 *   await conn.call({ method: "status" }, { timeout: 1000 });
 * } catch (e) {
 *   if (e instanceof CallTimeoutError) console.warn(`no answer within ${e.timeout} ms`);
 * }
 * ```
 */
export class CallTimeoutError extends ParleyError {
  /** The timeout that passed, in ms. */
  readonly timeout: number;
  /**
   * Creates the error.
   * @param timeout The timeout that passed, in ms.
   */
  constructor(timeout: number) {
    super(`Cannot complete the call as no answer came within ${timeout} ms`);
    this.timeout = timeout;
  }
}

/**
 * A callback waited for its own client: the client runs one callback at a time, so a request
 * made from inside a callback (its own `sendFrame`, `disconnect`, `stop`, `call`, `connect` or
 * `ready`) is served only after that callback returns, and awaiting it there would wait for
 * ever. The request was refused; return `push(...)`, `disconnect(...)` or `stop(...)` from the
 * callback instead, or use `sendFrameAsync`.
 *
 * @example
 * ```ts
 * import { DeadlockError } from "@parley/client";
 * const err = new DeadlockError("sendFrame", "handleFrame");
 * console.log(err.message.startsWith("Cannot await sendFrame from inside handleFrame")); // true
 * ```
 */
export class DeadlockError extends ParleyError {
  /**
   * Creates the error.
   * @param request What was asked: "sendFrame", "disconnect", "stop", "call", "connect", "ready".
   * @param callback The callback it was asked from.
   */
  constructor(request: string, callback: string) {
    super(
      `Cannot await ${request} from inside ${callback}: the client runs one callback at a time, so it would wait for itself; ${
        request === "sendFrame"
          ? "return push(frame, state) instead, or call sendFrameAsync"
          : request === "disconnect" || request === "stop"
          ? `return ${request}(reason, state) instead`
          : "call it from outside the client's callbacks"
      }`,
    );
  }
}
