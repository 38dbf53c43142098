// End-to-end tests that run once per transport: `testEachTransport(name, fn)` registers
// "<name> [socket]" and "<name> [web]", and a `recordingClient` started while `fn` runs uses that
// transport unless its options choose one. Tests that choose their transport in their options
// use `Deno.test` instead.

import {
  type Callbacks,
  type ClientDefinition,
  type ClientOptions,
  defineClient,
} from "../../mod.ts";
import { type Recorder, recordingCallbacks } from "./recorder.ts";

/** Callbacks of any state, argument and message type. */
export type AnyCallbacks = Callbacks<unknown, unknown, unknown>;

/** The transport the running test uses unless its options choose one. */
let TRANSPORT: "socket" | "web" | undefined;

/** Registers `fn` twice, once per transport; the name says which. */
export function testEachTransport(name: string, fn: () => Promise<void>): void {
  for (const transport of ["socket", "web"] as const) {
    Deno.test(`${name} [${transport}]`, async () => {
      TRANSPORT = transport;
      try {
        await fn();
      } finally {
        TRANSPORT = undefined;
      }
    });
  }
}

/**
 * A client definition whose callbacks record every call in `rec` (see recordingCallbacks),
 * started on the running test's transport unless the options choose one. On the web
 * transport, which cannot see pings, there is no handlePing (it would be refused at start).
 */
export function recordingClient(
  rec: Recorder,
  overrides: AnyCallbacks = {},
): ClientDefinition<unknown, unknown, unknown> {
  const forTransport = (options: ClientOptions) => {
    const transport = options.transport ?? TRANSPORT;
    const callbacks = recordingCallbacks(rec, overrides);
    if (transport === "web") delete callbacks.handlePing;
    return [
      defineClient<unknown, unknown, unknown>(callbacks),
      transport === undefined ? options : { transport, ...options },
    ] as const;
  };
  return {
    callbacks: recordingCallbacks(rec, overrides),
    start: (initArg, options) => {
      const [d, o] = forTransport(options);
      return d.start(initArg, o);
    },
    childSpec: (initArg, options, spec) => {
      const [d, o] = forTransport(options);
      return d.childSpec(initArg, o, spec);
    },
  };
}

/** A text frame. */
export const text = (data: string) => ({ type: "text", data }) as const;

/** Waits for the next text frame `data` in the recorder. */
export function nextText(rec: Recorder, data: string, timeout = 2000) {
  return rec.next(
    "frame",
    timeout,
    (v) =>
      (v as { type: string; data: unknown }).type === "text" &&
      (v as { data: unknown }).data === data,
  );
}
