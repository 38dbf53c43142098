// npm:ws on Node (bench/run.ts installs ws into bench/node_modules/, where Node finds it). It is
// required at run time, so that Deno (which only type-checks this file) needs no import map
// entry for it: one would make every `deno task` fetch it.

import { createRequire } from "node:module";
import type WsWebSocket from "npm:@types/ws@8.18.1";
import type { Connect } from "./connect.ts";

const WebSocket = createRequire(import.meta.url)("ws") as typeof WsWebSocket;

/** An npm:ws client. */
export const ws: Connect = (url, handlers, options) =>
  new Promise((resolve, reject) => {
    // perMessageDeflate: npm:ws's defaults (level 6, windows of 2^15, messages from 1 KiB).
    const socket = new WebSocket(url, { perMessageDeflate: options?.compression ?? false });
    let open = false;
    let closing = false;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => closed = resolve);
    socket.on("message", (data: Uint8Array, isBinary: boolean) =>
      handlers.onMessage(isBinary ? data : new TextDecoder().decode(data)));
    socket.on("error", (error) => {
      if (!open) {
        reject(error);
      } else if (!closing) {
        handlers.onError(error);
      }
    });
    socket.on("close", (code) => {
      closed();
      if (!open) {
        reject(new Error(`closed before open: ${code}`));
      } else if (!closing) {
        handlers.onError(new Error(`closed by the server: ${code}`));
      }
    });
    socket.on("open", () => {
      open = true;
      resolve({
        send: (message) =>
          socket.send(message),
        async close() {
          closing = true;
          socket.close(1000);
          await done;
        },
      });
    });
  });
