// The ceiling on Deno: Deno.connect carrying the same messages with no WebSocket framing (see
// bench/raw_framing.ts): in echo mode a pure byte stream cut by the known message size, in the
// floods a 5-byte header. Reads go into one buffer per connection, reused (a pending read holds
// it, so connections cannot share one), doubled from 4 KiB up to 1 MiB while reads fill it.
// Messages sent while a write is under way go out with the next one: runs of small ones joined
// into one write, large ones as they are.

import { nextWrite, RawExchange } from "../raw_framing.ts";
import type { Connect } from "./connect.ts";

const MAX_READ = 1024 * 1024;
/** A raw TCP client over Deno.connect. */
export const rawDeno: Connect = async (url, handlers) => {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  conn.setNoDelay(true);
  let closing = false;
  // One writer at a time; what is sent while it writes waits in `queue` and goes out with the
  // next write (Deno has no vectored write: runs of small messages are joined into one).
  const queue: Uint8Array[] = [];
  let writing: Promise<void> | undefined;
  const writeAll = async () => {
    try {
      while (queue.length > 0) {
        const bytes = nextWrite(queue);
        for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
      }
    } catch (error) {
      handlers.onError(error);
    }
    writing = undefined;
  };
  const queueBytes = (bytes: Uint8Array) => {
    queue.push(bytes);
    // Start once this turn's sends are queued.
    if (writing === undefined) writing = Promise.resolve().then(writeAll);
  };
  const exchange = new RawExchange(
    queueBytes,
    (m) => handlers.onMessage(m),
    (e) => handlers.onError(e),
  );
  const reading = (async () => {
    let buffer = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        exchange.receive(buffer.subarray(0, n));
        if (n === buffer.length && n < MAX_READ) buffer = new Uint8Array(n * 2);
      }
    } catch (error) {
      if (!closing) handlers.onError(error);
      return;
    }
    if (!closing) handlers.onError(new Error("closed by the server"));
  })();
  return {
    send: (message) => exchange.send(message),
    async close() {
      closing = true;
      while (writing !== undefined) await writing;
      await conn.closeWrite().catch(() => {});
      await reading;
      conn.close();
    },
  };
};
