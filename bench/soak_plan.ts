// What the soak measures (bench/soak.ts runs it, bench/run.ts orchestrates it): the profiles, the
// targets, and the check of a soak's numbers against them.

import type { Runtime } from "./plan.ts";
import type { SoakConfig, SoakLine } from "./soak.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** One soak run: a runtime and a transport, named like the bench's clients (`deno-parley-socket`). */
export interface SoakSpec {
  readonly name: string;
  readonly runtime: Runtime;
  readonly transport: "socket" | "web";
}

/** The soaks each run does, without the URL. */
export type SoakProfile = Omit<SoakConfig, "transport" | "wsUrl">;

/** The receive bound the flood runs against: the client's default `receiveBuffer`. */
export const RECEIVE_BUFFER = 4 * MiB;

/**
 * What a runtime holds during a flood besides the received messages the bound counts: its read
 * buffers and the chunks in flight when reading paused, the decoder's partial message, and the
 * measure's own noise. Measured at 1.7-2.2 MiB with the default bound (and 0.5-1.0 MiB with a
 * 1 MiB bound, tests/faults/slow_consumer_flood_test.ts) on Deno 2.9, Node 24 and Bun 1.4 here.
 */
export const FLOOD_CONSTANT = 2.5 * MiB;

/** The most a soak's heap may grow after its warm-up, in %. */
export const HEAP_GROWTH_TARGET = 5;

/**
 * `--soak`: 10,000 reconnect cycles (the first 2,000 warm up) and 100,000 echoed 1 KiB messages
 * (the first 10,000 warm up) on every runtime and both
 * transports, and a 64 MiB flood of 16 KiB messages against a handleFrame that awaits 1 ms for
 * each on the socket transport (the web transport's `WebSocket` cannot pause: over the bound it
 * fails the connection, by design).
 */
export const FULL_SOAK: { socket: SoakProfile; web: SoakProfile } = {
  socket: {
    cycles: { count: 10_000, warm: 2_000 },
    echoes: { count: 100_000, warm: 10_000, size: KiB, window: 100 },
    flood: { messages: 4_096, size: 16 * KiB, consumeMs: 1, sampleMs: 100 },
    timeoutMs: 120_000,
  },
  web: {
    cycles: { count: 10_000, warm: 2_000 },
    echoes: { count: 100_000, warm: 10_000, size: KiB, window: 100 },
    flood: undefined,
    timeoutMs: 120_000,
  },
};

/**
 * `--quick`: 2,000 cycles (the first 1,000 warm up: V8's heap settles over the first thousand or
 * two), a tenth of the echoes and a 16 MiB flood, on the socket transport.
 */
export const QUICK_SOAK: SoakProfile = {
  cycles: { count: 2_000, warm: 1_000 },
  echoes: { count: 10_000, warm: 1_000, size: KiB, window: 100 },
  flood: { messages: 1_024, size: 16 * KiB, consumeMs: 1, sampleMs: 100 },
  timeoutMs: 60_000,
};

/** The soak runs: every runtime on the socket transport, and on the web transport with `web`. */
export function soakSpecs(web: boolean): SoakSpec[] {
  const runtimes: Runtime[] = ["deno", "node", "bun"];
  return (web ? ["socket", "web"] as const : ["socket"] as const).flatMap((transport) =>
    runtimes.map((runtime) => ({ name: `${runtime}-parley-${transport}`, runtime, transport }))
  );
}

/** Why a soak's numbers miss their target, or undefined when they meet it. */
export function missedTarget(line: SoakLine): string | undefined {
  const m = line.metrics;
  if (!line.ok || m === undefined) return undefined;
  if (line.soak === "flood") {
    const bound = RECEIVE_BUFFER + m.size + FLOOD_CONSTANT;
    return m.peakHeld > bound
      ? `held ${mib(m.peakHeld)} at the peak, over receiveBuffer + one message + ${
        mib(FLOOD_CONSTANT)
      } = ${mib(bound)}`
      : undefined;
  }
  return m.heapGrowth > HEAP_GROWTH_TARGET
    ? `the heap grew ${m.heapGrowth.toFixed(1)}% after the warm-up (target ${HEAP_GROWTH_TARGET}%)`
    : undefined;
}

/** Bytes as MiB with two decimals. */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(2)} MiB`;
}
