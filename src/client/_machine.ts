// Internal: Parley's state machine as a deterministic transition function.
//
// `step(m, event)` updates the machine record `m` and returns the effects to perform, in order.
// It does no I/O, reads no clock and draws no randomness except through the policy's injected
// `random`: sockets, timers, callbacks and promises are the driver's (`_actor.ts`). A user
// callback is an effect too: the driver runs it and feeds its outcome back as a `result` or
// `threw` event before anything else, so callbacks never interleave.

import { backoffDelay } from "./backoff.ts";
import {
  ClientStoppedError,
  ConnectionError,
  describeReason,
  DisconnectedError,
  QueueFullError,
} from "./errors.ts";
import type { ConnectInfo } from "../vocabulary/connect_info.ts";
import type { Frame, ReceivedFrame } from "../vocabulary/frame.ts";
import { describe, frameByteLength, frameShapeError, frameSizeError } from "./_frame_check.ts";
import { DEFAULT_RECONNECT, type ReconnectPolicy } from "./_options.ts";
import { looksPermanent } from "./_permanence.ts";
import type { DisconnectReason, StopReason } from "./reasons.ts";

/** The client's state; `stopped` is final. */
export type Phase = "disconnected" | "connecting" | "connected" | "stopped";

/** The names of the callbacks the machine calls after `init`. */
export type CallbackName =
  | "handleConnect"
  | "handleFrame"
  | "handlePing"
  | "handleInfo"
  | "handleCall"
  | "handleDisconnect";

/** A caller waiting for an answer. Opaque to the machine: it only hands it to `settle`. */
export interface Waiter {
  resolve(value?: unknown): void;
  reject(error: unknown): void;
}

interface Queued {
  readonly frame: Frame;
  readonly bytes: number;
  readonly reply: Waiter | undefined;
}

/** Settings the machine reads. */
export interface MachineConfig {
  readonly reconnect: ReconnectPolicy | null;
  readonly connectTimeout: number;
  /** The heartbeat in force (for the `heartbeat_timeout` reason), if any. */
  readonly heartbeat?: { readonly interval: number; readonly timeout: number } | null;
  readonly maxQueuedFrames: number;
  readonly maxQueuedBytes: number;
}

/** The machine's record. Mutated by `step` only. */
export interface Machine {
  phase: Phase;
  /** The user's state. */
  user: unknown;
  /** The id of the current (or last) connection attempt; transport events carry it. */
  conn: number;
  /** Reconnect retries scheduled since the last successful connect. */
  retries: number;
  /** The token of the pending reconnect timer, 0 when none. */
  timer: number;
  /** The token of the timer that ends `minUptime` on a new connection, 0 when none. */
  uptimeTimer: number;
  /** The token of the `maxElapsed` timer of the current outage, 0 when none. */
  deadlineTimer: number;
  /** `maxElapsed` passed while a connection was up but not yet stable: give up on its end. */
  deadlinePassed: boolean;
  /** The delay the server asked for (`Retry-After`, ms) with the last failure, if any. */
  retryAfter: number | undefined;
  nextToken: number;
  /** Frames sent while connecting, in order. */
  queue: Queued[];
  queuedBytes: number;
  /** `connect()` callers waiting for the connection. */
  waiters: Waiter[];
  /** Set by `disconnect()`: a plain `ok` from `handleDisconnect` then does not reconnect. */
  hold: boolean;
  /** The callback whose outcome the machine waits for. */
  pending: CallbackName | null;
  /** The caller of the running `handleCall`, for its `reply`. */
  calling: unknown;
  /**
   * Senders whose frames the current connection will not write: they hear how it ended, once
   * the transport reports it (a write fails because the connection is ending).
   */
  unwritten: Array<{ readonly reply: Waiter; readonly error: Error }>;
  /** The reason handed to the pending `handleDisconnect`. */
  lastReason: DisconnectReason | null;
  /** Why the client stopped, once `phase` is `stopped`. */
  stopReason: StopReason | null;
  readonly config: MachineConfig;
}

/** Inputs to the machine. */
export type Event =
  /** The first event: `init` said `ok(user)`; the first connection attempt starts. */
  | { readonly type: "start"; readonly user: unknown }
  | { readonly type: "connect"; readonly reply?: Waiter }
  | { readonly type: "timer"; readonly token: number }
  | { readonly type: "opened"; readonly conn: number; readonly info: ConnectInfo }
  | { readonly type: "frame"; readonly conn: number; readonly frame: ReceivedFrame }
  /** A ping, already answered by the transport. */
  | { readonly type: "ping"; readonly conn: number; readonly payload: Uint8Array }
  | {
    readonly type: "remoteClose";
    readonly conn: number;
    readonly code: number;
    readonly reason: string;
  }
  | {
    readonly type: "error";
    readonly conn: number;
    readonly error: Error;
    /** The delay the server asked for with a refused upgrade (`Retry-After`), in ms. */
    readonly retryAfter?: number;
  }
  | { readonly type: "connectTimeout"; readonly conn: number }
  /** Nothing arrived within the heartbeat's timeout; the transport dropped the connection. */
  | { readonly type: "heartbeatTimeout"; readonly conn: number }
  /** A frame sent with a `reply` was never written: connection `conn` ended first. */
  | {
    readonly type: "writeFailed";
    readonly conn: number;
    readonly reply: Waiter;
    readonly error: Error;
  }
  | {
    readonly type: "send";
    readonly frame: Frame;
    readonly reply?: Waiter;
  }
  | {
    readonly type: "disconnect";
    readonly code: number;
    readonly reason: string;
    readonly reply?: Waiter;
  }
  | { readonly type: "info"; readonly message: unknown }
  /** `conn.call(request)`; `from` answers the caller (opaque to the machine). */
  | { readonly type: "call"; readonly request: unknown; readonly from: unknown }
  /** `quiet`: the caller reports the reason itself (a refused start), so nothing is logged. */
  | { readonly type: "stop"; readonly reason: StopReason; readonly quiet?: boolean }
  | { readonly type: "result"; readonly value: unknown }
  | { readonly type: "threw"; readonly error: unknown }
  /** The driver itself failed (a bug): stop with the error, whatever runs. */
  | { readonly type: "internalError"; readonly error: unknown };

/** Outputs of the machine, performed by the driver in order. */
export type Effect =
  | { readonly type: "open"; readonly conn: number; readonly timeout: number }
  | {
    readonly type: "send";
    readonly frame: Frame;
    readonly reply?: Waiter;
    /** Who sent it, for messages: "sendFrame", "sendFrameAsync", "handleFrame"... */
    readonly origin: string;
  }
  | { readonly type: "close"; readonly code: number; readonly reason: string }
  | { readonly type: "release" }
  | { readonly type: "call"; readonly callback: CallbackName; readonly args: unknown[] }
  | { readonly type: "arm"; readonly token: number; readonly delay: number }
  | { readonly type: "disarm"; readonly token: number }
  | { readonly type: "settle"; readonly reply: Waiter; readonly error?: unknown }
  /** `handleCall` answered with `reply(value, state)`. */
  | { readonly type: "reply"; readonly from: unknown; readonly value: unknown }
  | {
    readonly type: "log";
    readonly level: "debug" | "info" | "warn" | "error";
    readonly message: string;
  }
  /** The client stopped; `quiet` as in the `stop` event. */
  | { readonly type: "terminate"; readonly reason: StopReason; readonly quiet?: boolean };

/**
 * The empty list every list of the record starts as and returns to: shared, so that an idle
 * client holds no arrays of its own. Never pushed to: see `added`.
 */
const NONE: never[] = Object.freeze([]) as never;

/** `list` with `item` appended: a new array in place of `NONE`, else `list` itself. */
function added<T>(list: T[], item: T): T[] {
  if (list === NONE) return [item];
  list.push(item);
  return list;
}

/** A new machine, disconnected, before its first connect. */
export function createMachine(user: unknown, config: MachineConfig): Machine {
  return {
    phase: "disconnected",
    user,
    conn: 0,
    retries: 0,
    timer: 0,
    uptimeTimer: 0,
    deadlineTimer: 0,
    deadlinePassed: false,
    retryAfter: undefined,
    nextToken: 1,
    queue: NONE,
    queuedBytes: 0,
    waiters: NONE,
    hold: false,
    pending: null,
    calling: undefined,
    unwritten: NONE,
    lastReason: null,
    stopReason: null,
    config,
  };
}

/** Applies `event` to `m`, returning the effects to perform in order. */
export function step(m: Machine, event: Event): Effect[] {
  if (m.phase === "stopped") return staleAfterStop(m, event);
  if (
    m.pending !== null && event.type !== "result" && event.type !== "threw" &&
    event.type !== "internalError"
  ) {
    throw new Error(`Internal error: event ${event.type} while ${m.pending} runs`);
  }
  const fx: Effect[] = [];
  switch (event.type) {
    case "start":
      m.user = event.user;
      return connect(m, fx, undefined);
    case "connect":
      return connect(m, fx, event.reply);
    case "timer":
      return timer(m, fx, event.token);
    case "opened":
      if (event.conn !== m.conn || m.phase !== "connecting") return fx;
      m.phase = "connected";
      startUptime(m, fx);
      return call(m, fx, "handleConnect", [m.user, event.info]);
    case "frame":
      if (event.conn !== m.conn || m.phase !== "connected") return fx;
      return call(m, fx, "handleFrame", [event.frame, m.user]);
    case "ping":
      if (event.conn !== m.conn || m.phase !== "connected") return fx;
      return call(m, fx, "handlePing", [event.payload, m.user]);
    case "remoteClose":
      if (event.conn !== m.conn) return fx;
      return remoteClose(m, fx, event.code, event.reason);
    case "error":
      if (event.conn !== m.conn || m.phase === "disconnected") return fx;
      fx.push({ type: "release" });
      m.retryAfter = event.retryAfter;
      return enterDisconnected(m, fx, { kind: "error", error: event.error });
    case "connectTimeout":
      if (event.conn !== m.conn || m.phase !== "connecting") return fx;
      fx.push({ type: "release" });
      return enterDisconnected(m, fx, {
        kind: "connect_timeout",
        timeout: m.config.connectTimeout,
      });
    case "heartbeatTimeout":
      if (event.conn !== m.conn || m.phase !== "connected") return fx;
      fx.push({ type: "release" });
      return enterDisconnected(m, fx, {
        kind: "heartbeat_timeout",
        interval: m.config.heartbeat?.interval ?? 0,
        timeout: m.config.heartbeat?.timeout ?? 0,
      });
    case "writeFailed":
      return writeFailed(m, fx, event.conn, event.reply, event.error);
    case "send":
      return send(m, fx, event.frame, event.reply);
    case "disconnect":
      return disconnect(m, fx, event.code, event.reason, event.reply);
    case "info":
      return call(m, fx, "handleInfo", [event.message, m.user]);
    case "call":
      m.calling = event.from;
      return call(m, fx, "handleCall", [event.request, event.from, m.user]);
    case "stop":
      return terminate(m, fx, event.reason, event.quiet);
    case "result":
      return result(m, fx, event.value);
    case "threw":
    case "internalError":
      m.pending = null;
      m.calling = undefined;
      return terminate(m, fx, { kind: "error", error: event.error });
  }
}

function staleAfterStop(m: Machine, event: Event): Effect[] {
  // The handle refuses work after a stop; whatever still arrives is answered here.
  if (
    (event.type === "send" || event.type === "connect" || event.type === "disconnect" ||
      event.type === "writeFailed") &&
    event.reply
  ) {
    return [{
      type: "settle",
      reply: event.reply,
      error: new ClientStoppedError(m.stopReason!),
    }];
  }
  return [];
}

/** `connect()`, or the first connect at start (no `reply`). */
function connect(m: Machine, fx: Effect[], reply: Waiter | undefined): Effect[] {
  if (m.phase === "connected") {
    if (reply) fx.push({ type: "settle", reply });
    return fx;
  }
  if (reply) m.waiters = added(m.waiters, reply);
  if (m.phase === "disconnected") {
    // A connect the user asks for starts a fresh retry budget.
    if (reply) resetOutage(m, fx);
    cancelTimer(m, fx);
    startAttempt(m, fx);
  }
  return fx;
}

function startAttempt(m: Machine, fx: Effect[]): void {
  m.conn++;
  m.phase = "connecting";
  m.hold = false;
  fx.push({ type: "open", conn: m.conn, timeout: m.config.connectTimeout });
}

function cancelTimer(m: Machine, fx: Effect[]): void {
  if (m.timer !== 0) {
    fx.push({ type: "disarm", token: m.timer });
    m.timer = 0;
  }
}

/** A timer fired: the reconnect timer, the end of `minUptime`, or the `maxElapsed` deadline. */
function timer(m: Machine, fx: Effect[], token: number): Effect[] {
  if (token === 0) return fx;
  if (token === m.timer) {
    // Only the timer armed last may start an attempt.
    m.timer = 0;
    if (m.phase === "disconnected") startAttempt(m, fx);
  } else if (token === m.uptimeTimer) {
    // The connection proved stable: the next outage starts with a fresh budget.
    m.uptimeTimer = 0;
    if (m.phase === "connected") resetOutage(m, fx);
  } else if (token === m.deadlineTimer) {
    m.deadlineTimer = 0;
    if (m.phase === "connected") m.deadlinePassed = true;
    else giveUpElapsed(m, fx);
  }
  return fx;
}

/** A new connection: the outage ends once it has stayed up `minUptime` ms. */
function startUptime(m: Machine, fx: Effect[]): void {
  // Without the reconnect option there is no outage to end but a forced reconnect's: the count
  // starts afresh on every handshake, as it always did.
  const minUptime = m.config.reconnect?.minUptime ?? 0;
  if (minUptime <= 0) {
    resetOutage(m, fx);
    return;
  }
  m.uptimeTimer = m.nextToken++;
  fx.push({ type: "arm", token: m.uptimeTimer, delay: minUptime });
}

/** The retry count and the `maxElapsed` deadline start afresh. */
function resetOutage(m: Machine, fx: Effect[]): void {
  m.retries = 0;
  m.deadlinePassed = false;
  if (m.deadlineTimer !== 0) {
    fx.push({ type: "disarm", token: m.deadlineTimer });
    m.deadlineTimer = 0;
  }
}

function call(m: Machine, fx: Effect[], callback: CallbackName, args: unknown[]): Effect[] {
  m.pending = callback;
  fx.push({ type: "call", callback, args });
  return fx;
}

/** The server's close frame on the current connection. */
function remoteClose(m: Machine, fx: Effect[], code: number, reason: string): Effect[] {
  if (m.phase === "connected") {
    // Frames the callbacks sent before this event are written; the transport may now
    // finish the close handshake (the socket transport echoes the close frame here).
    fx.push({ type: "release" });
    return enterDisconnected(m, fx, { kind: "remote_close", code, reason });
  }
  if (m.phase === "connecting") {
    fx.push({ type: "release" });
    return enterDisconnected(m, fx, {
      kind: "error",
      error: new Error(`The server closed the connection with ${code} during the handshake`),
    });
  }
  return fx;
}

/** `disconnect()` on the handle. */
function disconnect(
  m: Machine,
  fx: Effect[],
  code: number,
  reason: string,
  reply: Waiter | undefined,
): Effect[] {
  m.hold = true;
  if (m.phase === "disconnected") {
    cancelTimer(m, fx);
    if (reply) fx.push({ type: "settle", reply });
    return fx;
  }
  fx.push(m.phase === "connected" ? { type: "close", code, reason } : { type: "release" });
  // The caller hears back before handleDisconnect runs, as in gen_statem.
  if (reply) fx.push({ type: "settle", reply });
  return enterDisconnected(m, fx, { kind: "closed" });
}

function send(m: Machine, fx: Effect[], frame: Frame, reply: Waiter | undefined): Effect[] {
  const origin = reply ? "sendFrame" : "sendFrameAsync";
  if (m.phase === "connected") {
    fx.push({ type: "send", frame, reply, origin });
  } else if (m.phase === "connecting") {
    enqueue(m, fx, frame, reply);
  } else {
    refuse(fx, new DisconnectedError(), reply);
  }
  return fx;
}

/** Queues a frame sent while connecting, unless the queue is full. */
function enqueue(m: Machine, fx: Effect[], frame: Frame, reply: Waiter | undefined): void {
  const cfg = m.config;
  // Sized only when queued: measuring every frame's text would cost a pass over it.
  const bytes = frameByteLength(frame);
  if (m.queue.length >= cfg.maxQueuedFrames || m.queuedBytes + bytes > cfg.maxQueuedBytes) {
    refuse(
      fx,
      new QueueFullError(
        m.queue.length >= cfg.maxQueuedFrames
          ? `Cannot queue frame as ${m.queue.length} frames already wait for the connection (maxQueuedFrames)`
          : `Cannot queue frame of ${bytes} bytes as ${m.queuedBytes} of ${cfg.maxQueuedBytes} bytes already wait for the connection (maxQueuedBytes)`,
      ),
      reply,
    );
    return;
  }
  m.queue = added(m.queue, { frame, bytes, reply });
  m.queuedBytes += bytes;
}

/** A frame that cannot be sent: its caller hears why, or the logger does (sendFrameAsync). */
function refuse(fx: Effect[], error: Error, reply: Waiter | undefined): void {
  if (reply) fx.push({ type: "settle", reply, error });
  else {
    fx.push({
      type: "log",
      level: "warn",
      message: `Dropping frame from sendFrameAsync: ${error.message}`,
    });
  }
}

function flushQueue(m: Machine, fx: Effect[]): void {
  for (const q of m.queue) {
    fx.push({
      type: "send",
      frame: q.frame,
      reply: q.reply,
      origin: q.reply ? "sendFrame" : "sendFrameAsync",
    });
  }
  m.queue = NONE;
  m.queuedBytes = 0;
}

function failQueue(
  m: Machine,
  fx: Effect[],
  frameError: () => Error,
  connectError: () => Error,
  what: string,
): void {
  for (const q of m.queue) {
    if (q.reply) fx.push({ type: "settle", reply: q.reply, error: frameError() });
  }
  const dropped = m.queue.filter((q) => !q.reply).length;
  if (dropped > 0) {
    fx.push({
      type: "log",
      level: "warn",
      message: `Dropping ${dropped} frame(s) from sendFrameAsync as ${what}`,
    });
  }
  m.queue = NONE;
  m.queuedBytes = 0;
  for (const w of m.waiters) fx.push({ type: "settle", reply: w, error: connectError() });
  m.waiters = NONE;
}

function enterDisconnected(m: Machine, fx: Effect[], given: DisconnectReason): Effect[] {
  const reason: DisconnectReason = looksPermanent(given) ? { ...given, permanent: true } : given;
  m.phase = "disconnected";
  if (m.uptimeTimer !== 0) {
    fx.push({ type: "disarm", token: m.uptimeTimer });
    m.uptimeTimer = 0;
  }
  failQueue(
    m,
    fx,
    () => new ConnectionError(reason),
    () =>
      new ConnectionError(
        reason,
        `Cannot connect as the connection attempt ended (${describeReason(reason)})`,
      ),
    "the connection ended before it was up",
  );
  m.lastReason = reason;
  if (m.unwritten.length > 0) settleUnwritten(m, fx, (cause) => unsent(reason, cause));
  return call(m, fx, "handleDisconnect", [reason, m.user]);
}

function terminate(m: Machine, fx: Effect[], reason: StopReason, quiet = false): Effect[] {
  if (m.phase === "connected") fx.push({ type: "close", code: 1000, reason: "" });
  else if (m.phase === "connecting") fx.push({ type: "release" });
  m.phase = "stopped";
  m.stopReason = reason;
  cancelTimer(m, fx);
  for (const token of [m.uptimeTimer, m.deadlineTimer]) {
    if (token !== 0) fx.push({ type: "disarm", token });
  }
  m.uptimeTimer = m.deadlineTimer = 0;
  const stopped = () => new ClientStoppedError(reason);
  failQueue(m, fx, stopped, stopped, "the client stopped");
  if (m.unwritten.length > 0) settleUnwritten(m, fx, stopped);
  fx.push(quiet ? { type: "terminate", reason, quiet } : { type: "terminate", reason });
  return fx;
}

function schedule(m: Machine, fx: Effect[], policy: ReconnectPolicy | null): Effect[] {
  const retryAfter = m.retryAfter;
  m.retryAfter = undefined;
  if (policy === null) return fx;
  const lastReason = m.lastReason ?? { kind: "closed" };
  if (lastReason.permanent && !policy.retryPermanent) {
    fx.push({
      type: "log",
      level: "error",
      message: `Giving up: the failure looks permanent (${
        describeReason(lastReason)
      }) and reconnect.retryPermanent is false`,
    });
    return terminate(m, fx, { kind: "permanent_failure", lastReason });
  }
  if (m.retries >= policy.maxRetries) {
    return terminate(m, fx, {
      kind: "max_retries_exceeded",
      retries: m.retries,
      lastReason,
    });
  }
  if (m.deadlinePassed) return giveUpElapsed(m, fx);
  if (m.deadlineTimer === 0 && m.retries === 0 && policy.maxElapsed !== Infinity) {
    // The first failure of an outage starts its deadline.
    m.deadlineTimer = m.nextToken++;
    fx.push({ type: "arm", token: m.deadlineTimer, delay: policy.maxElapsed });
  }
  const asked = retryAfter !== undefined;
  const delay = asked
    ? Math.min(retryAfter, policy.maxRetryAfter)
    : backoffDelay(m.retries, policy, policy.random);
  m.retries++;
  m.timer = m.nextToken++;
  fx.push({ type: "arm", token: m.timer, delay });
  fx.push({
    type: "log",
    level: "info",
    message: `Reconnecting in ${delay} ms (retry ${m.retries}${
      policy.maxRetries === Infinity ? "" : ` of ${policy.maxRetries}`
    })${asked ? " as the server asked (Retry-After)" : ""} after: ${describeReason(lastReason)}`,
  });
  return fx;
}

/** `maxElapsed` passed without a stable connection: the client gives up. */
function giveUpElapsed(m: Machine, fx: Effect[]): Effect[] {
  const policy = m.config.reconnect ?? DEFAULT_RECONNECT;
  return terminate(m, fx, {
    kind: "max_elapsed_exceeded",
    elapsed: policy.maxElapsed,
    retries: m.retries,
    lastReason: m.lastReason ?? { kind: "closed" },
  });
}

/**
 * A frame sent with a reply was never written. Its connection is ending: the caller hears how,
 * once the transport has reported the end (so the end it reports, not this write, is the reason);
 * if the end was reported already, at once.
 */
function writeFailed(
  m: Machine,
  fx: Effect[],
  conn: number,
  reply: Waiter,
  error: Error,
): Effect[] {
  if (conn === m.conn && m.phase === "connected") {
    m.unwritten = added(m.unwritten, { reply, error });
    return fx;
  }
  const reason = m.lastReason ?? { kind: "error", error };
  fx.push({ type: "settle", reply, error: unsent(reason, error) });
  return fx;
}

/** The senders held by `writeFailed` hear how the connection ended. */
function settleUnwritten(m: Machine, fx: Effect[], error: (cause: Error) => Error): void {
  for (const { reply, error: cause } of m.unwritten) {
    fx.push({ type: "settle", reply, error: error(cause) });
  }
  m.unwritten = NONE;
}

function unsent(reason: DisconnectReason, cause: Error): ConnectionError {
  return new ConnectionError(
    reason,
    `Cannot send frame as the connection ended before it was written (${describeReason(reason)})`,
    { cause },
  );
}

const ACTIVE_RESULTS =
  "ok(state), push(frame, state), disconnect(reason, state) or stop(reason, state)";
const CALL_RESULTS =
  "reply(value, state), ok(state), push(frame, state), disconnect(reason, state) or stop(reason, state)";
const DISCONNECT_RESULTS = "ok(state), reconnect(state) or stayDisconnected(state)";

function badResult(callback: CallbackName, value: unknown, detail?: string): TypeError {
  const expected = callback === "handleDisconnect"
    ? DISCONNECT_RESULTS
    : callback === "handleCall"
    ? CALL_RESULTS
    : ACTIVE_RESULTS;
  return new TypeError(
    detail
      ? `${callback} returned an invalid result: ${detail}`
      : `${callback} returned an invalid result: expected ${expected} or nothing, got ${
        describeResult(value)
      }`,
  );
}

function describeResult(value: unknown): string {
  if (value !== null && typeof value === "object" && "action" in value) {
    return `{ action: ${describe((value as { action: unknown }).action)} }`;
  }
  return describe(value);
}

/** A callback's result, as far as its shape goes: the fields are checked per callback. */
interface Outcome {
  readonly action: unknown;
  readonly state?: unknown;
  readonly frame?: unknown;
  readonly reason?: unknown;
  readonly value?: unknown;
}

/** What a callback that returned nothing means: `ok`, with the state as it is (no `state`). */
const KEEP: Outcome = Object.freeze({ action: "ok" });

/** The outcome of the callback that ran: `value` is what it returned (or resolved to). */
function result(m: Machine, fx: Effect[], value: unknown): Effect[] {
  const callback = m.pending!;
  m.pending = null;
  // Nothing: ok, the state kept as it is.
  if (value === undefined) value = KEEP;
  if (value === null || typeof value !== "object" || !("action" in value)) {
    return terminate(m, fx, { kind: "error", error: badResult(callback, value) });
  }
  return callback === "handleDisconnect"
    ? handleDisconnectResult(m, fx, value as Outcome)
    : activeResult(m, fx, callback, value as Outcome);
}

/** What `handleDisconnect` decided: reconnect, stay disconnected, or the configured default. */
function handleDisconnectResult(m: Machine, fx: Effect[], r: Outcome): Effect[] {
  if (r.action !== "ok" && r.action !== "reconnect" && r.action !== "disconnect") {
    return terminate(m, fx, { kind: "error", error: badResult("handleDisconnect", r) });
  }
  if ("state" in r) m.user = r.state;
  const policy = r.action === "disconnect"
    ? null
    : r.action === "reconnect"
    ? m.config.reconnect ?? DEFAULT_RECONNECT
    : m.hold
    ? null
    : m.config.reconnect;
  return schedule(m, fx, policy);
}

/** What `handleConnect`, `handleFrame`, `handlePing` or `handleInfo` returned. */
function activeResult(m: Machine, fx: Effect[], callback: CallbackName, r: Outcome): Effect[] {
  if (callback === "handleCall") {
    const from = m.calling;
    m.calling = undefined;
    if (r.action === "reply") {
      if ("state" in r) m.user = r.state;
      fx.push({ type: "reply", from, value: r.value });
      return fx;
    }
  }
  let frames: Frame[] = NONE;
  if (r.action === "push") {
    const pushed = pushedFrames(r.frame);
    if (typeof pushed === "string") {
      return terminate(m, fx, {
        kind: "error",
        error: badResult(callback, r, `push got a bad frame: ${pushed}`),
      });
    }
    frames = pushed;
  } else if (r.action !== "ok" && r.action !== "disconnect" && r.action !== "stop") {
    return terminate(m, fx, { kind: "error", error: badResult(callback, r) });
  }
  if ("state" in r) m.user = r.state;
  if (r.action === "stop") {
    return terminate(
      m,
      fx,
      r.reason === "normal" ? { kind: "normal" } : { kind: "user", reason: r.reason },
    );
  }
  if (callback === "handleConnect") return handleConnectResult(m, fx, r, frames);
  if (r.action === "push") return pushFrames(m, fx, callback, frames);
  if (r.action === "disconnect") return callbackDisconnect(m, fx, r.reason);
  return fx;
}

/** The frames of a `push`, or what is wrong with one of them. */
function pushedFrames(frame: unknown): Frame[] | string {
  const list = Array.isArray(frame) ? frame : [frame];
  for (const f of list) {
    const problem = frameShapeError(f) ?? frameSizeError(f as Frame);
    if (problem) return problem;
  }
  return list as Frame[];
}

/**
 * After `handleConnect`: its frames, then the frames queued while connecting, then the
 * `connect()` callers hear back; or, when it asked to disconnect, the close.
 */
function handleConnectResult(
  m: Machine,
  fx: Effect[],
  r: Outcome,
  frames: readonly Frame[],
): Effect[] {
  if (r.action === "disconnect") {
    // Queued frames are refused, never sent after our close frame.
    fx.push({ type: "close", code: 1000, reason: "" });
    return enterDisconnected(m, fx, { kind: "user", reason: r.reason });
  }
  for (const frame of frames) fx.push({ type: "send", frame, origin: "handleConnect" });
  flushQueue(m, fx);
  for (const w of m.waiters) fx.push({ type: "settle", reply: w });
  m.waiters = NONE;
  return fx;
}

/** A callback's `push`: sent while connected, dropped with a warning otherwise. */
function pushFrames(
  m: Machine,
  fx: Effect[],
  callback: CallbackName,
  frames: readonly Frame[],
): Effect[] {
  if (m.phase === "connected") {
    for (const frame of frames) fx.push({ type: "send", frame, origin: callback });
  } else {
    fx.push({
      type: "log",
      level: "warn",
      message: `Ignoring push from ${callback} while ${m.phase}: ${frames.length} frame(s) dropped`,
    });
  }
  return fx;
}

/** A callback's `disconnect(reason)`: ends the connection, if there is one. */
function callbackDisconnect(m: Machine, fx: Effect[], reason: unknown): Effect[] {
  if (m.phase === "connected") fx.push({ type: "close", code: 1000, reason: "" });
  else if (m.phase === "connecting") fx.push({ type: "release" });
  else return fx; // already disconnected: the state is kept, nothing else happens
  return enterDisconnected(m, fx, { kind: "user", reason });
}
