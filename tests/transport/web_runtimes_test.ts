// The web transport's cases (web_cases.ts) under every runtime it runs on, each in a child
// process with a peer of its own (tests/support/web_peer.ts): Deno's WebSocket, Deno's
// WebSocketStream (--unstable-net), Node 24 and Bun (the pinned ones tools/install.sh puts in
// .tools/). Each case is a step. Then the child lets go of two connections whose peer never
// answers (a close by the client, a heartbeat timeout): `done` must settle at closeTimeout, and
// once the peer drops the TCP connections the process must exit by itself at once, so nothing
// of ours (timers, listeners) keeps it alive. Whether the runtime's socket kept it alive until
// then is printed, not asserted: it is the runtime's doing (see /work/notes/web-findings.md).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { lines } from "../browser/lines.ts";
import { startWebPeer } from "../support/web_peer.ts";

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const root = path("../../");
const MAIN = path("./web_cases_main.ts");
const tool = (name: string) => `${root}.tools/node_modules/.bin/${name}`;

interface Runner {
  readonly name: string;
  readonly command: [string, string[]];
  /** The API the transport must have been built on. */
  readonly path: "WebSocket" | "WebSocketStream";
}

const DENO_RUN = ["run", "--allow-net=127.0.0.1", "--no-prompt"];
const RUNNERS: readonly Runner[] = [
  { name: "Deno WebSocket", command: [Deno.execPath(), [...DENO_RUN, MAIN]], path: "WebSocket" },
  {
    name: "Deno WebSocketStream",
    command: [Deno.execPath(), [...DENO_RUN, "--unstable-net", MAIN]],
    path: "WebSocketStream",
  },
  { name: "Node", command: [tool("node"), [MAIN]], path: "WebSocket" },
  { name: "Bun", command: [tool("bun"), [MAIN]], path: "WebSocket" },
];

/** Runners at a time (two cores, shared). */
const PARALLEL = 2;
/** How long the child may take for its cases. */
const CASES_TIMEOUT = 60_000;
/** How long the process is watched after it let go, before the peer drops the connections. */
const WATCH = 1000;
/** How soon the process must exit once the peer dropped the connections. */
const EXIT_WITHIN = 3000;

interface CaseLine {
  readonly name: string;
  readonly ok: boolean;
  readonly info?: string;
  readonly error?: string;
}

interface LetGoLine {
  readonly how: string;
  readonly closeTimeout: number;
  readonly doneMs: number;
}

/** What one child reported, and how its process ended. */
interface Outcome {
  readonly path: string;
  readonly cases: CaseLine[];
  readonly letGo: LetGoLine[];
  /** Whether the process still ran WATCH ms after it let go. */
  readonly aliveAfterWatch: boolean;
  /** Ms from the peer dropping the connections to the process's exit, or undefined. */
  readonly exitMs: number | undefined;
  readonly code: number | undefined;
  readonly stderr: string;
  readonly failure?: unknown;
}

async function run(runner: Runner): Promise<Outcome> {
  await using peer = await startWebPeer();
  const [bin, args] = runner.command;
  const child = new Deno.Command(bin, {
    args: [...args, `ws://127.0.0.1:${peer.port}`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stderr = new Response(child.stderr).text();
  const cases: CaseLine[] = [];
  const letGo: LetGoLine[] = [];
  let apiPath = "";
  let letGone = false;
  const timer = setTimeout(() => child.kill("SIGKILL"), CASES_TIMEOUT);
  try {
    for await (const line of lines(child.stdout)) {
      if (line.startsWith("PATH ")) apiPath = line.slice(5);
      else if (line.startsWith("CASE ")) cases.push(JSON.parse(line.slice(5)));
      else if (line.startsWith("LETGO ")) letGo.push(JSON.parse(line.slice(6)));
      else if (line === "LET GO") {
        letGone = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  let aliveAfterWatch = false;
  let exitMs: number | undefined;
  if (letGone) {
    await new Promise((r) => setTimeout(r, WATCH));
    aliveAfterWatch = !exited;
    const dropped = performance.now();
    await peer.close();
    const killer = setTimeout(() => child.kill("SIGKILL"), EXIT_WITHIN);
    await status;
    clearTimeout(killer);
    const ms = performance.now() - dropped;
    if (ms < EXIT_WITHIN) exitMs = ms;
  } else {
    child.kill("SIGKILL");
  }
  const { code } = await status;
  await child.stdout.cancel().catch(() => {});
  return {
    path: apiPath,
    cases,
    letGo,
    aliveAfterWatch,
    exitMs,
    code,
    stderr: await stderr,
  };
}

/** Runs `jobs` with at most `limit` at a time. */
function pool<T>(jobs: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T>[] {
  let running = 0;
  const waiting: Array<() => void> = [];
  return jobs.map(async (job) => {
    if (running >= limit) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  });
}

Deno.test(
  `the web transport under ${
    RUNNERS.map((r) => r.name).join(", ")
  }: every case; done at closeTimeout when the peer never answers, and the process exits once the peer goes`,
  async (t) => {
    for (const name of ["node", "bun"]) {
      await Deno.stat(tool(name)).catch(() => {
        throw new Error(`${tool(name)} is missing: run tools/install.sh`);
      });
    }
    const outcomes = pool(RUNNERS.map((r) => () => run(r)), PARALLEL);
    for (const p of outcomes) p.catch(() => {});
    try {
      for (let i = 0; i < RUNNERS.length; i++) {
        const runner = RUNNERS[i];
        const o = await outcomes[i];
        const context = `(exit ${o.code}; stderr:\n${o.stderr})`;
        await t.step(`${runner.name}: the transport is built on ${runner.path}`, () => {
          assert.equal(o.path, runner.path, context);
          assert.ok(o.cases.length > 0, `no case ran ${context}`);
        });
        for (const c of o.cases) {
          await t.step(`${runner.name}: ${c.name}`, () => {
            assert.ok(c.ok, c.error);
          });
        }
        await t.step(
          `${runner.name}: done settles at closeTimeout when the peer never answers`,
          () => {
            assert.deepEqual(o.letGo.map((l) => l.how), ["close", "heartbeat"], context);
            for (const l of o.letGo) {
              assert.ok(
                l.doneMs >= l.closeTimeout - 5 && l.doneMs < l.closeTimeout + 700,
                `${l.how}: done after ${l.doneMs} ms, closeTimeout ${l.closeTimeout}`,
              );
            }
          },
        );
        await t.step(
          `${runner.name}: the process exits once the peer drops the connections`,
          () => {
            assert.ok(o.exitMs !== undefined, `still running ${EXIT_WITHIN} ms later ${context}`);
          },
        );
        const infos = o.cases.filter((c) => c.info).map((c) => `  ${c.name}: ${c.info}`);
        console.log(
          `${runner.name} (${o.path}): ${
            o.aliveAfterWatch ? "still alive" : "exited"
          } ${WATCH} ms after done; exited ${
            o.exitMs?.toFixed(0)
          } ms after the peer dropped the connections\n${infos.join("\n")}`,
        );
      }
    } finally {
      await Promise.allSettled(outcomes);
    }
  },
);
