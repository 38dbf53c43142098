// What the bench measures: the clients, the scenarios and how long each runs. Shared by the
// orchestrator (bench/run.ts) and the client processes (bench/client.ts).

/** A runtime a client process runs under (the pinned ones in .tools/). */
export type Runtime = "deno" | "node" | "bun";
/** A client kind; `websocket` is the runtime's bare global `WebSocket`, the ratios' baseline. */
export type ClientKind = "parley-socket" | "parley-web" | "websocket" | "ws" | "raw";

/** One client: a kind under a runtime, named `<runtime>-<kind>`. */
export interface ClientSpec {
  readonly name: string;
  readonly runtime: Runtime;
  readonly kind: ClientKind;
}

const kinds: Record<Runtime, ClientKind[]> = {
  deno: ["parley-socket", "parley-web", "websocket", "raw"],
  node: ["parley-socket", "parley-web", "websocket", "ws", "raw"],
  bun: ["parley-socket", "parley-web", "websocket", "raw"],
};

/** Every client, in their base order. */
export const CLIENTS: readonly ClientSpec[] = (Object.keys(kinds) as Runtime[]).flatMap((
  runtime,
) => kinds[runtime].map((kind) => ({ name: `${runtime}-${kind}`, runtime, kind })));

/** What a scenario does (bench/scenarios.ts). */
export type ScenarioKind = "echo" | "rtt" | "up" | "down" | "connect" | "idle" | "json";

/** One scenario: a kind and a message size. */
export interface Scenario {
  readonly name: string;
  readonly kind: ScenarioKind;
  readonly size: number;
  /**
   * Compressible JSON text instead of random bytes (json-*), with compression
   * (permessage-deflate) offered by the clients that can choose (Parley's socket transport,
   * npm:ws) to a server that speaks it, or offered by none, to a server that does not. The
   * runtimes' own WebSockets offer it as they do.
   */
  readonly compression?: boolean;
}

const KiB = 1024;
const sizeName = (size: number) =>
  size >= KiB * KiB ? `${size / KiB / KiB}MiB` : size >= KiB ? `${size / KiB}KiB` : `${size}B`;
const scenario = (kind: ScenarioKind, size: number): Scenario => ({
  name: `${kind}-${sizeName(size)}`,
  kind,
  size,
});

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  ...[32, KiB, 16 * KiB, 64 * KiB, KiB * KiB].map((size) => scenario("echo", size)),
  ...[64, 4 * KiB, 16 * KiB].map((size) => scenario("rtt", size)),
  ...[64, 64 * KiB].map((size) => scenario("up", size)),
  ...[64, 64 * KiB].map((size) => scenario("down", size)),
  { name: "connect", kind: "connect", size: 0 },
  { name: "idle", kind: "idle", size: 32 },
  // Memory per connection once compression has run both ways (a 2 KiB message each way:
  // compressed, so each side holds a deflater and an inflater), with 1/10 of the connections.
  { name: "idle-deflate", kind: "idle", size: 2048, compression: true },
  // Compressible JSON text, echoed with compression on, then off; then one message in flight.
  ...[KiB, 64 * KiB].flatMap((size) => [
    { name: `json-${sizeName(size)}`, kind: "json" as const, size, compression: true },
    { name: `json-${sizeName(size)}-off`, kind: "json" as const, size, compression: false },
  ]),
  ...[KiB, 64 * KiB].flatMap((size) => [
    { name: `json-rtt-${sizeName(size)}`, kind: "rtt" as const, size, compression: true },
    { name: `json-rtt-${sizeName(size)}-off`, kind: "rtt" as const, size, compression: false },
  ]),
];

/**
 * Messages in flight in the echo scenarios: 100, or fewer for large messages so that at most
 * 16 MiB is in flight (16 one-MiB messages; 100 of them only filled the server's queues).
 */
export function echoWindow(size: number): number {
  return Math.max(8, Math.min(100, Math.floor(16 * 1024 * 1024 / size)));
}

/** How long each part of a scenario runs, and how hard it checks. */
export interface Timing {
  /** Untimed warm-up before the measurement (every byte of every message is checked). */
  readonly warmMs: number;
  /** The measured window. */
  readonly timedMs: number;
  /** Connections the idle-memory scenario holds open. */
  readonly idleConnections: number;
  /** Compare every byte of every message, also in the measured window (slower). */
  readonly fullCheck: boolean;
  /** The most one scenario may take before it fails as hung (the idle one: IDLE_FACTOR times). */
  readonly scenarioTimeoutMs: number;
}

/** The idle scenario with compression holds this many times fewer connections (zlib's memory). */
export const IDLE_DEFLATE_DIVISOR = 10;

/** The idle scenario (thousands of connections opened and closed) may take this many times longer. */
export const IDLE_FACTOR = 5;

/** The full run's timing (`--quick` shortens it). */
export const FULL: Omit<Timing, "fullCheck"> = {
  warmMs: 150,
  timedMs: 500,
  idleConnections: 10_000,
  scenarioTimeoutMs: 15_000,
};

/** The `--quick` run's timing. */
export const QUICK: Omit<Timing, "fullCheck"> = {
  warmMs: 40,
  timedMs: 120,
  idleConnections: 1_000,
  scenarioTimeoutMs: 8_000,
};
