// The ceiling on Deno: Deno.connect carrying the same messages with no WebSocket framing (see
// bench/raw_framing.ts): in echo mode a pure byte stream cut by the known message size, in the
// floods a 5-byte header. Reads go into one buffer per connection, reused (a pending read holds
// it, so connections cannot share one), doubled from 4 KiB up to 1 MiB while reads fill it.
// Messages sent while a write is under way go out with the next one: runs of small ones joined
// into one write, large ones as they are.

import {
  ECHO_MODE,
  frame,
  FRAMED_MODE,
  FrameReader,
  type Message,
  MessageSplitter,
  nextWrite,
} from "../raw_framing.ts";
import type { Connect } from "./connect.ts";

const MAX_READ = 1024 * 1024;
/** A raw TCP client over Deno.connect. */
export const rawDeno: Connect = async (url, handlers) => {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  conn.setNoDelay(true);
  let closing = false;
  /** Set by the first send, which chooses the mode; nothing arrives before it. */
  let feed: (chunk: Uint8Array) => void = () =>
    handlers.onError(new Error("bytes before the first send"));
  const reading = (async () => {
    let buffer = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        feed(buffer.subarray(0, n));
        if (n === buffer.length && n < MAX_READ) buffer = new Uint8Array(n * 2);
      }
    } catch (error) {
      if (!closing) handlers.onError(error);
      return;
    }
    if (!closing) handlers.onError(new Error("closed by the server"));
  })();
  let mode = 0;
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
  const choose = (message: Message) => {
    if (typeof message === "string") {
      mode = FRAMED_MODE;
      const reader = new FrameReader((m) => handlers.onMessage(m));
      feed = (chunk) => reader.push(chunk);
    } else {
      mode = ECHO_MODE;
      const splitter = new MessageSplitter(message.length, (m) => handlers.onMessage(m));
      feed = (chunk) => splitter.push(chunk);
    }
    queueBytes(Uint8Array.of(mode));
  };
  return {
    send(message) {
      if (mode === 0) choose(message);
      if (mode === FRAMED_MODE) return queueBytes(frame(message));
      if (typeof message === "string") throw new Error("text on a byte-stream connection");
      queueBytes(message);
    },
    async close() {
      closing = true;
      while (writing !== undefined) await writing;
      await conn.closeWrite().catch(() => {});
      await reading;
      conn.close();
    },
  };
};
