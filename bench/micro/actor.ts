// Micro-benchmark of the client's per-message cost (the actor, its mailbox, `step`, `sendFrame`)
// on the web transport, against an older src/ (see bench/micro/_harness.ts), with a fake
// runtime `WebSocket` in place of the real one, so that only Parley's own work is timed:
//
//   mkdir -p /tmp/base && git archive <rev> src mod.ts | tar -x -C /tmp/base
//   deno run -A bench/micro/actor.ts --baseline=/tmp/base [--cases=...] [--batch=N] [--rounds=N]
//   node bench/micro/actor.ts --baseline=/tmp/base ...     bun bench/micro/actor.ts ...
//
// Each message is what bench/clients/parley.ts does in the `echo-N` scenarios: the socket's
// `message` event (an ArrayBuffer of 32 bytes, or a 32-character string) reaches `handleFrame`,
// which sends it back with `conn.sendFrame(frame).catch(...)`; the next message event comes after
// a microtask turn, as a runtime dispatches them. `bare` is the floor: the same exchange straight
// on the fake socket, as bench/clients/web_socket.ts does it.
//
// Cases (--cases, comma-separated; all by default): `binary`, `text`. Each variant runs rounds of
// `--batch` messages (default 20,000), alternated, and the lines show CPU time per message.

import process from "node:process";
import { baselineSrc, now, option, print, runtimeName, summarize } from "./_harness.ts";

type Mod = typeof import("../../mod.ts");

/** The runtime's `WebSocket`, faked: it delivers what the benchmark dispatches, sends nowhere. */
class FakeWebSocket {
  static last: FakeWebSocket | undefined;
  binaryType = "blob";
  readyState = 0;
  protocol = "";
  extensions = "";
  sent = 0;
  #listeners = new Map<string, EventListenerObject | ((e: Event) => void)>();
  onmessage: ((e: { data: unknown }) => void) | undefined;

  constructor(_url: string, _init?: unknown) {
    FakeWebSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.dispatch({ type: "open" } as Event);
    });
  }

  addEventListener(type: string, listener: EventListenerObject | ((e: Event) => void)): void {
    this.#listeners.set(type, listener);
  }

  dispatch(event: Event): void {
    if (event.type === "message" && this.onmessage !== undefined) {
      this.onmessage(event as unknown as { data: unknown });
      return;
    }
    const l = this.#listeners.get(event.type);
    if (l === undefined) return;
    if (typeof l === "function") l(event);
    else l.handleEvent(event);
  }

  send(_data: unknown): void {
    this.sent++;
  }

  close(): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    queueMicrotask(() =>
      this.dispatch({ type: "close", code: 1000, reason: "", wasClean: true } as unknown as Event)
    );
  }
}

(globalThis as { WebSocket?: unknown }).WebSocket = FakeWebSocket;

interface Variant {
  readonly name: string;
  /** Delivers `n` messages one turn apart; resolves once all were echoed. */
  run(n: number): Promise<void>;
}

/** What the benchmark dispatches: one event object, reused, as the cost of the runtime's own. */
function messageEvent(kind: string): { type: "message"; data: unknown } {
  return {
    type: "message",
    data: kind === "text" ? "x".repeat(32) : new ArrayBuffer(32),
  };
}

async function parleyVariant(name: string, mod: Mod, kind: string): Promise<Variant> {
  let onMessage: (data: unknown) => void = () => {};
  const Client = mod.defineClient({
    init: (s: null) => mod.ok(s),
    handleFrame(frame) {
      if (frame.type === "binary" || frame.type === "text") onMessage(frame.data);
    },
  });
  const conn = await Client.start(null, { url: "ws://127.0.0.1:9/", transport: "web" });
  await conn.ready();
  const ws = FakeWebSocket.last!;
  const fail = (error: unknown) => {
    throw error;
  };
  onMessage = (data) => {
    conn.sendFrame(
      typeof data === "string"
        ? { type: "text", data }
        : { type: "binary", data: data as Uint8Array },
    ).catch(fail);
  };
  const event = messageEvent(kind) as unknown as Event;
  return {
    name,
    async run(n) {
      const sent = ws.sent;
      for (let i = 0; i < n; i++) {
        ws.dispatch(event);
        await null;
      }
      if (ws.sent !== sent + n) throw new Error(`${name}: ${ws.sent - sent} of ${n} echoed`);
    },
  };
}

function bareVariant(kind: string): Variant {
  const ws = new FakeWebSocket("ws://127.0.0.1:9/");
  ws.binaryType = "arraybuffer";
  const send = (message: unknown) => ws.send(message);
  const onMessage = (message: unknown) => send(message);
  ws.onmessage = (e) =>
    onMessage(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
  const event = messageEvent(kind) as unknown as Event;
  return {
    name: "bare",
    async run(n) {
      const sent = ws.sent;
      for (let i = 0; i < n; i++) {
        ws.dispatch(event);
        await null;
      }
      if (ws.sent !== sent + n) throw new Error(`bare: ${ws.sent - sent} of ${n} echoed`);
    },
  };
}

/** Alternates the variants: rounds of `batch` messages each, in an order that rotates. */
async function compareAsync(variants: readonly Variant[], batch: number, rounds: number) {
  for (const v of variants) await v.run(batch);
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (k + r) % variants.length;
      const t0 = now();
      await variants[i].run(batch);
      times[i].push((now() - t0) * 1e6 / batch);
    }
  }
  return summarize(variants, times);
}

const here = new URL("../../src/", import.meta.url).href;
const base = baselineSrc();
const mods: Array<[string, Mod]> = base === undefined
  ? [["new", await import(`${here}../mod.ts`)]]
  : [["old", await import(`${base}../mod.ts`)], ["new", await import(`${here}../mod.ts`)]];
const cases = option("cases", "binary,text").split(",");
const batch = Number(option("batch", "20000"));
const rounds = Number(option("rounds", "15"));

console.log(`${runtimeName()}: ${mods.map(([name]) => name).join(" vs ")} (and bare)`);
for (const kind of cases) {
  const variants: Variant[] = [];
  for (const [name, mod] of mods) variants.push(await parleyVariant(name, mod, kind));
  variants.push(bareVariant(kind));
  print(
    `${kind}: a 32-byte message echoed through handleFrame and sendFrame (CPU per message)`,
    await compareAsync(variants, batch, rounds),
  );
}
process.exit(0);
