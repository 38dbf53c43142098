// npm:ws on Node (bench/run.ts installs ws into bench/node_modules/, where Node finds it).

import WebSocket from "ws";
import type { Connect } from "./connect.ts";

/** An npm:ws client. */
export const ws: Connect = (url, handlers) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
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
