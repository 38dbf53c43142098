// A client on a scripted connector and a fake clock (`await using h = await startScripted(...)`),
// for the tests that drive the transport's events by hand.

import FakeTimers from "npm:@sinonjs/fake-timers@15.5.0";
import {
  type ClientDefinition,
  type ClientHandle,
  type ClientOptions,
  defineClient,
  type DisconnectReason,
  ok,
} from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import { recordingLogger } from "./recorder.ts";
import {
  type ScriptedConnection,
  ScriptedConnector,
  type ScriptedOptions,
  settle,
  until,
} from "./scripted.ts";

/** The URL the scripted clients connect to (nothing listens there). */
export const SCRIPTED_URL = "ws://scripted.test/ws";

/** A fake clock from `@sinonjs/fake-timers`. */
export type FakeClock = ReturnType<typeof FakeTimers.createClock>;

/** A started scripted client; disposing it stops the client and resets the clock. */
export interface Harness<S, M> {
  readonly connector: ScriptedConnector;
  readonly clock: FakeClock;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly conn: ClientHandle<S, M>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `def` on a scripted connector and a fake clock; dispose stops it and resets the clock. */
export async function startScripted<S, A, M>(
  def: ClientDefinition<S, A, M>,
  arg: A,
  options: Partial<ClientOptions> = {},
  scripted: ScriptedOptions = {},
): Promise<Harness<S, M>> {
  const connector = new ScriptedConnector(scripted);
  const clock = FakeTimers.createClock();
  const logger = recordingLogger();
  const conn = await startClient(def.callbacks, arg, { url: SCRIPTED_URL, logger, ...options }, {
    connector,
    clock,
  }) as ClientHandle<S, M>;
  return {
    connector,
    clock,
    logger,
    conn,
    async [Symbol.asyncDispose]() {
      await conn.stop();
      clock.reset();
    },
  };
}

/** Opens connection `n` and waits until handleConnect has run. */
export async function openScripted<S, M>(h: Harness<S, M>, n = 1): Promise<ScriptedConnection> {
  const c = await h.connector.connection(n);
  c.opened();
  await until(() => h.conn.state === "connected", "connected");
  await settle();
  return c;
}

/** A text frame. */
export const text = (data: string) => ({ type: "text", data }) as const;

/** Bytes. */
export const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** Resolves true when `p` settles within a few macrotask turns. */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await settle();
  return done;
}

/** A definition whose `handleDisconnect` records every reason and follows the reconnect option. */
export function recordingDisconnects(): {
  readonly def: ClientDefinition<null, null>;
  readonly reasons: DisconnectReason[];
} {
  const reasons: DisconnectReason[] = [];
  const def = defineClient({
    handleDisconnect(reason: DisconnectReason, state: null) {
      reasons.push(reason);
      return ok(state);
    },
  });
  return { def, reasons };
}
