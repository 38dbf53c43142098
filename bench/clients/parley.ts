// Parley (this repository's mod.ts) on a given transport, through its public API only:
// `defineClient`, `Client.start`, `handleFrame`, `conn.sendFrame`, `conn.stop`.

import { defineClient, type Frame, ok } from "../../mod.ts";
import type { Connect, Handlers } from "./connect.ts";

interface State {
  readonly handlers: Handlers;
  readonly opened: () => void;
  readonly failed: (reason: unknown) => void;
  closing: boolean;
}

const Bench = defineClient({
  init: (state: State) => ok(state),
  handleConnect(state) {
    state.opened();
  },
  handleFrame(frame, state) {
    if (frame.type === "binary" || frame.type === "text") state.handlers.onMessage(frame.data);
  },
  handleDisconnect(reason, state) {
    state.failed(reason);
    if (!state.closing) state.handlers.onError(reason);
  },
});

/** A Parley client on `transport`. */
export function parley(transport: "socket" | "web"): Connect {
  return async (url, handlers, options) => {
    let opened!: () => void;
    let failed!: (reason: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      opened = resolve;
      failed = (reason) => reject(new Error(`not connected: ${JSON.stringify(reason)}`));
    });
    const state: State = { handlers, opened, failed, closing: false };
    const conn = await Bench.start(state, {
      url,
      transport,
      connectTimeout: 10_000,
      // The web transport compresses as its runtime's WebSocket does.
      ...(options?.compression === undefined || transport === "web"
        ? {}
        : { compression: options.compression }),
    });
    await ready;
    const onError = (error: unknown) => handlers.onError(error);
    return {
      send(message) {
        const frame: Frame = typeof message === "string"
          ? { type: "text", data: message }
          : { type: "binary", data: message };
        conn.sendFrame(frame).catch(onError);
      },
      async close() {
        state.closing = true;
        await conn.stop();
      },
    };
  };
}
