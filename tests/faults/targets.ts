// What the fault suites run against: each transport where it runs, and how a suite goes over them
// (one after another for the cases that time timers, as this 2-core machine is shared; at once
// otherwise).

import assert from "node:assert/strict";
import type { Place } from "./fault_runner.ts";

/** A transport in a place: the socket transport in a child process of each runtime; the web
 * transport on Deno's WebSocket in the test's process, and on Node's and Bun's in children. */
export interface Target {
  readonly place: Place;
  readonly transport: "socket" | "web";
  /** For messages: `socket/node`, `web/deno (in-process)`. */
  readonly name: string;
}

export const SOCKET: readonly Target[] = (["deno", "node", "bun"] as const).map((place) => ({
  place,
  transport: "socket",
  name: `socket/${place}`,
}));

export const WEB: readonly Target[] = [
  { place: "in-process", transport: "web", name: "web/deno (in-process)" },
  { place: "node", transport: "web", name: "web/node" },
  { place: "bun", transport: "web", name: "web/bun" },
];

export const ALL: readonly Target[] = [...SOCKET, ...WEB];

/** Fails with every target's failure, each named. */
function report(targets: readonly Target[], results: PromiseSettledResult<unknown>[]): void {
  const failures = results.flatMap((r, i) =>
    r.status === "rejected" ? [`${targets[i].name}: ${(r.reason as Error)?.stack ?? r.reason}`] : []
  );
  if (failures.length > 0) assert.fail(failures.join("\n\n"));
}

/** Runs `body` for each target, one after the other (for cases that time timers). */
export async function oneAfterAnother(
  targets: readonly Target[],
  body: (target: Target) => Promise<void>,
): Promise<void> {
  const results: PromiseSettledResult<unknown>[] = [];
  for (const target of targets) {
    const [result] = await Promise.allSettled([body(target)]);
    results.push(result);
  }
  report(targets, results);
}

/** Runs `body` for every target at once. */
export async function allAtOnce(
  targets: readonly Target[],
  body: (target: Target) => Promise<void>,
): Promise<void> {
  report(targets, await Promise.allSettled(targets.map((t) => body(t))));
}

/** The latest a bound of `total` ms may be met: 10% later, and at least 200 ms of jitter. */
export const within = (total: number) => total + Math.max(total * 0.1, 200);

/** Prints what a target did (numbers the suite's output keeps for reports). */
export function note(target: Target, text: string): void {
  console.log(`${target.name}: ${text}`);
}
