// The runtime's own global `WebSocket` (Deno's, Node's undici one, Bun's), used directly.

import type { Connect } from "./connect.ts";

/** The bare global `WebSocket`. */
export const webSocket: Connect = (url, handlers) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    let open = false;
    let closing = false;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => closed = resolve);
    ws.onmessage = (event) =>
      handlers.onMessage(
        typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer),
      );
    ws.onerror = () => {
      if (!open) reject(new Error("WebSocket error before open"));
      else if (!closing) handlers.onError(new Error("WebSocket error"));
    };
    ws.onclose = (event) => {
      closed();
      if (!open) reject(new Error(`closed before open: ${event.code}`));
      else if (!closing) handlers.onError(new Error(`closed by the server: ${event.code}`));
    };
    ws.onopen = () => {
      open = true;
      resolve({
        send: (message) => ws.send(message),
        async close() {
          closing = true;
          ws.close(1000);
          await done;
        },
      });
    };
  });
