// The ceiling on Node and Bun: node:net carrying the same messages with no WebSocket framing (see
// bench/raw_framing.ts): in echo mode a pure byte stream cut by the known message size, in the
// floods a 5-byte header. Reads go into one 1 MiB buffer shared by every connection (`onread`:
// each read is consumed before the next, and the splitter copies what it keeps). Messages sent
// in one turn of the event loop go out in one corked, vectored write, without copying.

import net from "node:net";
import { RawExchange } from "../raw_framing.ts";
import type { Connect } from "./connect.ts";

const readBuffer = new Uint8Array(1024 * 1024);

/** A raw TCP client over node:net. */
export const rawNode: Connect = (url, handlers) =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback(n: number, buffer: Uint8Array) {
          exchange.receive(buffer.subarray(0, n));
          return true;
        },
      },
    });
    let open = false;
    let closing = false;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => closed = resolve);
    let corked = false;
    const uncork = () => {
      corked = false;
      socket.uncork();
    };
    const write = (bytes: Uint8Array) => {
      if (!corked) {
        corked = true;
        socket.cork();
        queueMicrotask(uncork);
      }
      socket.write(bytes);
    };
    const exchange = new RawExchange(
      write,
      (m) => handlers.onMessage(m),
      (e) => handlers.onError(e),
    );
    socket.on("error", (error) => {
      if (!open) reject(error);
      else if (!closing) handlers.onError(error);
    });
    socket.on("close", () => {
      closed();
      if (open && !closing) handlers.onError(new Error("closed by the server"));
    });
    socket.on("connect", () => {
      open = true;
      resolve({
        send: (message) => exchange.send(message),
        async close() {
          closing = true;
          socket.end();
          await done;
        },
      });
    });
  });
