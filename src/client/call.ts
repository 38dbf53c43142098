/**
 * Asking a client a question: `conn.call(request)` runs `handleCall(request, from, state)`,
 * which answers at once with `reply(value, state)` or later through `from`.
 *
 * @module
 */

/**
 * The caller of `conn.call`, as `handleCall` gets it: answer through it now or later (say, when
 * the server's response arrives in `handleFrame`; keep `from` in the state until then).
 *
 * Once the caller has stopped waiting (its timeout passed, its signal aborted, the client
 * stopped) `from` is stale: `pending` is false, `signal` is aborted, and a late answer is
 * dropped (`reply` and `reject` return false; a debug line is logged).
 *
 * @example Answer when the server's response frame arrives
 * ```ts
 * import { defineClient, type From, ok, push } from "@parley/client";
 *
 * type State = { next: number; waiting: Map<number, From> };
 * const Rpc = defineClient({
 *   init: () => ok<State>({ next: 1, waiting: new Map() }),
 *   handleCall(method: string, from, state) {
 *     const id = state.next++;
 *     state.waiting.set(id, from);
 *     from.signal.addEventListener("abort", () => state.waiting.delete(id));
 *     return push({ type: "text", data: JSON.stringify({ id, method }) }, state);
 *   },
 *   handleFrame(frame, state) {
 *     if (frame.type !== "text") return ok(state);
 *     const { id, result } = JSON.parse(frame.data);
 *     state.waiting.get(id)?.reply(result);
 *     state.waiting.delete(id);
 *     return ok(state);
 *   },
 * });
 * ```
 */
export interface From<T = unknown> {
  /** Answers the caller with `value`; false when it no longer waits. */
  reply(value: T): boolean;
  /** Rejects the caller with `error`; false when it no longer waits. */
  reject(error: unknown): boolean;
  /** Whether the caller still waits for an answer. */
  readonly pending: boolean;
  /** Aborted once the caller no longer waits (answered, timed out, aborted, client stopped). */
  readonly signal: AbortSignal;
}

/**
 * Options for `conn.call`.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "@parley/client";
 * const options: CallOptions = { timeout: 2000, signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface CallOptions {
  /**
   * Milliseconds to wait for the answer before rejecting with `CallTimeoutError`. Default
   * `5000`; `Infinity` waits as long as the client runs.
   */
  readonly timeout?: number;
  /** Gives up waiting: the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}
