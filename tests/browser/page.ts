// The browser page's script: bundled by bundle.ts, loaded by index.html, driven by
// browser_test.ts through `globalThis.parleyPage` (see page_api.ts). It imports the whole library
// as a namespace, so the bundle keeps every module `mod.ts` loads statically.

import * as parley from "../../mod.ts";
import type { Callbacks, ClientHandle, ClientOptions, Frame } from "../../mod.ts";
import { onStreamPath, WEB_CASES } from "../transport/web_cases.ts";
import type { ErrorReport, PageApi, PageEvent, WireFrame } from "./page_api.ts";

const events: PageEvent[] = [];
let cursor = 0;
let wake: (() => void) | undefined;
let conn: ClientHandle<null, unknown> | undefined;

function record(event: PageEvent): void {
  events.push(event);
  wake?.();
}

function toWire(frame: Frame): WireFrame {
  if (frame.type === "text") return { type: "text", data: frame.data };
  return { type: frame.type, data: [...(frame.data ?? [])] };
}

function fromWire(frame: WireFrame): Frame {
  if (frame.type === "text") return frame;
  return { type: frame.type, data: new Uint8Array(frame.data) } as Frame;
}

function report(error: unknown): ErrorReport {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    name: e.name,
    message: e.message,
    parley: e instanceof parley.ParleyError,
    unsupported: e instanceof parley.UnsupportedError,
  };
}

const callbacks: Callbacks<null> = {
  handleConnect(state, info) {
    record({ type: "connected", protocol: info.protocol, status: info.status });
    return parley.ok(state);
  },
  handleFrame(frame, state) {
    record({ type: "frame", frame: toWire(frame) });
    return parley.ok(state);
  },
  handleDisconnect(reason, state) {
    record({
      type: "disconnected",
      kind: reason.kind,
      ...(reason.kind === "remote_close" ? { code: reason.code, reason: reason.reason } : {}),
      ...(reason.kind === "error" ? { error: reason.error.message } : {}),
    });
    return parley.ok(state);
  },
};
const Client = parley.defineClient(callbacks);
const PingClient = parley.defineClient({ ...callbacks, handlePing: (_p, s: null) => parley.ok(s) });

const api: PageApi = {
  exports: () => Object.keys(parley),

  async start(url, o) {
    const options: ClientOptions = {
      url,
      closeTimeout: 1000,
      connectTimeout: 2000,
      ...(o.backoff ? { reconnect: o.backoff } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.transport ? { transport: o.transport } : {}),
      ...(o.tls ? { transportOptions: { tls: { serverName: "localhost" } } } : {}),
      ...(o.limits ? { limits: o.limits } : {}),
    };
    try {
      conn = await (o.handlePing ? PingClient : Client).start(null, options);
    } catch (error) {
      return { error: report(error) };
    }
    return { transport: conn.transport };
  },

  async next(type, timeout) {
    const deadline = performance.now() + timeout;
    for (;;) {
      const i = events.findIndex((e, j) => j >= cursor && e.type === type);
      if (i >= 0) {
        cursor = i + 1;
        return events[i];
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const seen = events.slice(cursor).map((e) => JSON.stringify(e));
        throw new Error(`no "${type}" event within ${timeout} ms; saw since: [${seen.join(", ")}]`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  },

  async send(frame) {
    try {
      await current().sendFrame(fromWire(frame));
      return null;
    } catch (error) {
      return report(error);
    }
  },

  state: () => current().state,

  disconnect: (code, reason) => current().disconnect({ code, reason }),

  async stop() {
    const reason = await current().stop();
    conn = undefined;
    return reason.kind;
  },

  webCases: () => ({
    path: onStreamPath() ? "WebSocketStream" : "WebSocket",
    names: Object.keys(WEB_CASES),
  }),

  async webCase(name, peer) {
    try {
      const info = await WEB_CASES[name]({ peer });
      return { ok: true, ...(info ? { info } : {}) };
    } catch (error) {
      return {
        ok: false,
        error: error instanceof Error ? error.stack ?? error.message : String(error),
      };
    }
  },
};

function current(): ClientHandle<null, unknown> {
  if (conn === undefined) throw new Error("the page has no started client");
  return conn;
}

(globalThis as unknown as { parleyPage: PageApi }).parleyPage = api;
