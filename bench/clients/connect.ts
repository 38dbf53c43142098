// The one interface every bench client implements (each file in this folder), so the scenarios
// (bench/scenarios.ts) run the same code over every client.

import type { Message } from "../raw_framing.ts";

/** What a connection does with what arrives. */
export interface Handlers {
  /** A message arrived (a binary message's bytes are only valid during the call). */
  onMessage(message: Message): void;
  /** The connection failed or closed unasked. */
  onError(error: unknown): void;
}

/** An open connection. */
export interface BenchConnection {
  /** Sends a message without waiting (each client's ordinary way to send). */
  send(message: Message): void;
  /** Closes, resolving once the client reports the connection closed. */
  close(): Promise<void>;
}

/** How to connect. */
export interface ConnectOptions {
  /**
   * Offer permessage-deflate (clients that can choose: Parley's socket transport, npm:ws);
   * undefined: the client's default.
   */
  readonly compression?: boolean;
}

/** Opens a connection to `url` (ws://... for WebSocket clients, tcp://... for the raw ones). */
export type Connect = (
  url: string,
  handlers: Handlers,
  options?: ConnectOptions,
) => Promise<BenchConnection>;
