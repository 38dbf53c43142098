/**
 * One-for-one supervision: restart clients that stop abnormally, within a restart limit.
 *
 * @module
 */

import type { AnyClientHandle } from "./client.ts";
import { describeStop } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { isNormalStop, type StopReason } from "./reasons.ts";

/** The key of the supervisor's start method, kept inside this module. */
const START: unique symbol = Symbol("start");

/**
 * When a supervisor restarts a child:
 * - `permanent`: after any stop;
 * - `transient` (default): after an abnormal stop (any reason but `normal` or `aborted`);
 * - `temporary`: never.
 *
 * @example
 * ```ts
 * import type { RestartPolicy } from "@parley/client";
 * const policy: RestartPolicy = "transient";
 * ```
 */
export type RestartPolicy = "permanent" | "transient" | "temporary";

/**
 * A child of a supervisor: an id and how to start it (see `ClientDefinition.childSpec`).
 *
 * @example
 * ```ts ignore
 * const spec: ChildSpec = Echo.childSpec(null, { url, name: "echo" });
 * ```
 */
export interface ChildSpec {
  /** A unique id within the supervisor. */
  readonly id: string;
  /** Starts the child. */
  start(): Promise<AnyClientHandle>;
  /** When to restart it; default `"transient"`. */
  readonly restart?: RestartPolicy;
}

/**
 * Options for {@linkcode supervise}.
 *
 * @example
 * ```ts
 * import type { SupervisorOptions } from "@parley/client";
 * const options: SupervisorOptions = { maxRestarts: 3, period: 5000 };
 * ```
 */
export interface SupervisorOptions {
  /** The most restarts allowed within `period`; one more stops the supervisor. Default `3`. */
  readonly maxRestarts?: number;
  /** The window for `maxRestarts`, in ms. Default `5000`. */
  readonly period?: number;
  /** Where restarts are reported. Default `console`. */
  readonly logger?: Logger;
  /** Stops the supervisor and its children when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Why a supervisor stopped: on request (`normal`), or because a child needed more than
 * `maxRestarts` restarts within `period` (`max_restarts`, with that child's id and last stop
 * reason, or the error its restart failed with).
 *
 * @example
 * ```ts
 * import type { SupervisorStopReason } from "@parley/client";
 * const r: SupervisorStopReason = { kind: "normal" };
 * ```
 */
export type SupervisorStopReason =
  | { readonly kind: "normal" }
  | { readonly kind: "max_restarts"; readonly id: string; readonly reason: StopReason };

/**
 * What a supervisor reports about one child.
 *
 * @example
 * ```ts ignore
 * for (const c of sup.children()) console.log(c.id, c.restarts, c.client?.state);
 * ```
 */
export interface ChildInfo {
  /** The child's id. */
  readonly id: string;
  /** The running client, or `undefined` between a stop and its restart or after a final stop. */
  readonly client: AnyClientHandle | undefined;
  /** How many times it was restarted. */
  readonly restarts: number;
}

interface Child {
  spec: ChildSpec;
  client: AnyClientHandle | undefined;
  restarts: number;
}

/**
 * A running supervisor, as {@linkcode supervise} resolves it.
 *
 * @example
 * ```ts ignore
 * await using sup = await supervise([Echo.childSpec(null, { url, name: "echo" })]);
 * console.log(sup.child("echo")?.state);
 * ```
 */
export class Supervisor {
  #children: Child[];
  #restartTimes: number[] = [];
  #maxRestarts: number;
  #period: number;
  #logger: Logger;
  #stopping = false;
  #resolveStopped!: (r: SupervisorStopReason) => void;
  #stopped: Promise<SupervisorStopReason>;

  /**
   * Use {@linkcode supervise}.
   * @param specs The children.
   * @param options Restart limits and logger.
   */
  constructor(specs: readonly ChildSpec[], options: SupervisorOptions) {
    this.#children = specs.map((spec) => ({ spec, client: undefined, restarts: 0 }));
    this.#maxRestarts = options.maxRestarts ?? 3;
    this.#period = options.period ?? 5000;
    this.#logger = options.logger ?? console;
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
  }

  /**
   * Settles with the reason once the supervisor and all its children have stopped.
   *
   * @example
   * ```ts ignore
   * const reason = await sup.stopped;
   * ```
   */
  get stopped(): Promise<SupervisorStopReason> {
    return this.#stopped;
  }

  /**
   * Each child's id, current client and restart count, in start order.
   *
   * @example
   * ```ts ignore
   * console.log(sup.children().map((c) => c.id));
   * ```
   */
  children(): ChildInfo[] {
    return this.#children.map((c) => ({ id: c.spec.id, client: c.client, restarts: c.restarts }));
  }

  /**
   * The running client of child `id`, or `undefined`.
   *
   * @example
   * ```ts ignore
   * await sup.child("echo")?.sendFrame({ type: "text", data: "hi" });
   * ```
   */
  child(id: string): AnyClientHandle | undefined {
    return this.#children.find((c) => c.spec.id === id)?.client;
  }

  /**
   * Stops every child (in reverse start order) and then the supervisor.
   *
   * @example
   * ```ts ignore
   * await sup.stop();
   * ```
   */
  async stop(): Promise<SupervisorStopReason> {
    await this.#shutdown({ kind: "normal" });
    return this.#stopped;
  }

  /**
   * Stops the supervisor, for `await using`.
   *
   * @example
   * ```ts ignore
   * await using sup = await supervise(specs);
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Starts every child in order (on a failure stops those started and rethrows), then follows
   * `signal`. Called by {@linkcode supervise} only: the key is not exported.
   * @param signal Stops the supervisor when aborted.
   */
  async [START](signal: AbortSignal | undefined): Promise<void> {
    for (const child of this.#children) {
      try {
        this.#watch(child, await child.spec.start());
      } catch (error) {
        await this.#shutdown({ kind: "normal" });
        throw error;
      }
    }
    if (signal === undefined) return;
    const onAbort = () => void this.#shutdown({ kind: "normal" });
    signal.addEventListener("abort", onAbort, { once: true });
    this.#stopped.then(() => signal.removeEventListener("abort", onAbort));
  }

  #watch(child: Child, client: AnyClientHandle): void {
    child.client = client;
    client.stopped.then((reason) => this.#onChildStop(child, client, reason));
  }

  async #onChildStop(
    child: Child,
    client: AnyClientHandle,
    reason: StopReason,
  ): Promise<void> {
    if (child.client !== client) return;
    child.client = undefined;
    if (this.#stopping) return;
    const policy = child.spec.restart ?? "transient";
    if (policy === "temporary" || (policy === "transient" && isNormalStop(reason))) return;
    let last = reason;
    for (;;) {
      const now = Date.now();
      this.#restartTimes = this.#restartTimes.filter((t) => now - t < this.#period);
      if (this.#restartTimes.length >= this.#maxRestarts) {
        this.#logger.error(
          `[parley supervisor] child "${child.spec.id}" stopped (${
            describeStop(last)
          }) more than ${this.#maxRestarts} times in ${this.#period} ms; stopping`,
        );
        await this.#shutdown({ kind: "max_restarts", id: child.spec.id, reason: last });
        return;
      }
      this.#restartTimes.push(now);
      child.restarts++;
      this.#logger.warn(
        `[parley supervisor] restarting child "${child.spec.id}" after: ${describeStop(last)}`,
      );
      try {
        const next = await child.spec.start();
        if (this.#stopping) {
          await next.stop();
          return;
        }
        this.#watch(child, next);
        return;
      } catch (error) {
        last = { kind: "error", error };
      }
    }
  }

  async #shutdown(reason: SupervisorStopReason): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const child of [...this.#children].reverse()) {
      const client = child.client;
      child.client = undefined;
      if (client !== undefined) await client.stop();
    }
    this.#resolveStopped(reason);
  }
}

/**
 * Starts `children` in order under a one-for-one supervisor: a child that stops abnormally is
 * restarted on its own (per its `restart` policy); more than `maxRestarts` restarts within
 * `period` ms stop every child and the supervisor. Rejects if a child fails to start, after
 * stopping those already started.
 *
 * @example
 * ```ts ignore
 * import { defineClient, supervise } from "@parley/client";
 * const Echo = defineClient({});
 * await using sup = await supervise([
 *   Echo.childSpec(null, { url: "ws://127.0.0.1:8080/", name: "echo" }),
 * ], { maxRestarts: 3, period: 5000 });
 * ```
 */
export async function supervise(
  children: readonly ChildSpec[],
  options: SupervisorOptions = {},
): Promise<Supervisor> {
  if (!Array.isArray(children)) {
    throw new TypeError("Cannot supervise as children must be an array of child specs");
  }
  const ids = new Set<string>();
  for (const c of children) {
    if (
      c === null || typeof c !== "object" || typeof c.id !== "string" ||
      typeof c.start !== "function"
    ) {
      throw new TypeError("Cannot supervise as each child needs a string id and a start function");
    }
    if (ids.has(c.id)) {
      throw new TypeError(
        `Cannot supervise as the child id "${c.id}" is used twice (pass { id } to childSpec)`,
      );
    }
    if (c.restart !== undefined && !["permanent", "transient", "temporary"].includes(c.restart)) {
      throw new TypeError(
        `Cannot supervise as the restart policy of "${c.id}" must be permanent, transient or temporary`,
      );
    }
    ids.add(c.id);
  }
  const max = options.maxRestarts ?? 3;
  const period = options.period ?? 5000;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 0) {
    throw new RangeError(
      `Cannot supervise as maxRestarts must be a whole number of 0 or more, got ${max}`,
    );
  }
  if (typeof period !== "number" || !(period > 0)) {
    throw new RangeError(`Cannot supervise as period must be above 0 ms, got ${period}`);
  }
  options.signal?.throwIfAborted();
  const sup = new Supervisor(children, options);
  await sup[START](options.signal);
  return sup;
}
