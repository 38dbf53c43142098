// What the bench server does with one connection, whatever carries it (bench/server.ts): echo by
// default, and two modes a text command starts:
//
// - `sink <size> <ackEvery>` (the client->server flood): check and count each binary message
//   against bench/payload.ts's pool, send `ack <count>` every `ackEvery` messages; `end` answers
//   `done <count> <ok | what was wrong>` and goes back to echo.
// - `stream <size>` (the server->client flood): send pool messages in order as fast as the
//   connection takes them; `stop` stops and answers `done <count sent>`.
//
// Text that is not a command is echoed.

import { mismatch, pool, POOL_SIZE } from "./payload.ts";
import type { Message } from "./raw_framing.ts";

/** Where a session's messages go. */
export interface Outlet {
  /** Sends or queues; returns 0 if the message was dropped. */
  send(message: Message): number;
  /** Bytes queued for the connection, not yet taken by the kernel. */
  buffered(): number;
}

/** How the server checks, and the fault it injects on purpose (to test the checks). */
export interface SessionOptions {
  readonly fullCheck: boolean;
  readonly fault: "drop" | "corrupt" | undefined;
}

/** Messages the stream sends per turn of the event loop before letting commands in. */
const BURST = 256;
/** The stream waits while more than this is queued for the connection. */
const HIGH_WATER = 1024 * 1024;
/** Echoed messages, counted across connections, for the injected fault. */
let echoed = 0;

/** One connection's state. */
export class Session {
  readonly #out: Outlet;
  readonly #options: SessionOptions;
  #mode: "echo" | "sink" | "stream" = "echo";
  #size = 0;
  #count = 0;
  #ackEvery = 0;
  #error: string | undefined;
  #scheduled = false;

  constructor(out: Outlet, options: SessionOptions) {
    this.#out = out;
    this.#options = options;
  }

  /** Handles one message from the client. */
  receive(message: Message): void {
    if (typeof message === "string") return this.#command(message);
    if (this.#mode === "sink") return this.#sink(message);
    echoed++;
    if (this.#options.fault !== undefined && echoed === 500) {
      if (this.#options.fault === "drop") return;
      message = message.slice();
      message[message.length - 1] ^= 0xff;
    }
    this.#send(message);
  }

  /** The connection took what was queued. */
  drained(): void {
    if (this.#mode === "stream") this.#pump();
  }

  #send(message: Message): void {
    const result = this.#out.send(message);
    if (result === 0) this.#error ??= "the server dropped a message (Bun refused to queue it)";
  }

  #command(text: string): void {
    const [name, a, b] = text.split(" ");
    switch (name) {
      case "sink":
        this.#mode = "sink";
        this.#size = Number(a);
        this.#ackEvery = Number(b);
        this.#count = 0;
        this.#error = undefined;
        pool(this.#size);
        return;
      case "end":
        this.#mode = "echo";
        this.#send(`done ${this.#count} ${this.#error ?? "ok"}`);
        return;
      case "stream":
        this.#mode = "stream";
        this.#size = Number(a);
        this.#count = 0;
        this.#pump();
        return;
      case "stop":
        this.#mode = "echo";
        this.#send(`done ${this.#count} ${this.#error ?? "ok"}`);
        return;
      default:
        this.#send(text);
    }
  }

  #sink(message: Uint8Array): void {
    const wrong = mismatch(message, this.#count, this.#size, this.#options.fullCheck);
    if (wrong !== undefined) this.#error ??= wrong.replaceAll(" ", "_");
    this.#count++;
    if (this.#count % this.#ackEvery === 0) this.#send(`ack ${this.#count}`);
  }

  #pump(): void {
    const messages = pool(this.#size);
    let delay = 0;
    for (let n = 0; n < BURST && this.#mode === "stream"; n++) {
      // Bun 1.3.14's Bun.serve does not always call `drain` after a second backpressure (a few
      // hundred bytes stay queued until the next send): poll the queue instead of waiting for it.
      if (this.#out.buffered() > HIGH_WATER) {
        delay = 1;
        break;
      }
      this.#send(messages[this.#count % POOL_SIZE]);
      this.#count++;
    }
    // Go on after other connections' (and this one's `stop`) events.
    if (this.#mode !== "stream" || this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      if (this.#mode === "stream") this.#pump();
    }, delay);
  }
}
