// Internal: what the web transport (web.ts) needs of the runtime's WebSocket API, so that it
// runs the same over `WebSocket` (_web_socket.ts) and `WebSocketStream` (_web_stream.ts): the
// checks, the heartbeat, the close timer and how an end is reported live in web.ts once.

import type { Written } from "./transport.ts";

/** Where the runtime's socket is opened. */
export interface ChannelParams {
  /** The URL without credentials (web.ts turns them into a header where it can). */
  readonly url: string;
  readonly protocols: readonly string[];
  /** Headers for runtimes whose WebSocket takes them; `undefined` for none. */
  readonly headers: Record<string, string> | undefined;
}

/** How the socket ended. */
export interface ChannelEnd {
  /** The close code (1006 when the connection was lost without a close frame). */
  readonly code: number;
  readonly reason: string;
  /** Whether the closing handshake completed. */
  readonly clean: boolean;
  /** What the runtime reported as an error, if anything (kept as the cause). */
  readonly error: unknown;
}

/** What a channel reports, in order: `open` at most once, `message`s, then `closed` once. */
export interface ChannelEvents {
  /** The handshake completed with this subprotocol and these extensions. */
  open(protocol: string, extensions: string): void;
  /** A message arrived. */
  message(data: string | Uint8Array): void;
  /** The socket is closed (before `open`: the handshake failed); nothing follows. */
  closed(end: ChannelEnd): void;
}

/** One socket of the runtime's. */
export interface WebChannel {
  /** Whether a message can be handed to the runtime now: open, and no close started or seen. */
  readonly writable: boolean;
  /**
   * Hands a message to the runtime. `written` hears once: without an argument when the runtime
   * took it, with an error when it never will.
   */
  send(data: string | Uint8Array, written?: Written): void;
  /** Starts the closing handshake (or abandons the handshake); `closed` follows. */
  close(code?: number, reason?: string): void;
  /** Stops reading; false when this runtime's API cannot. */
  pause(): boolean;
  /** Reads again after `pause()`. */
  resume(): void;
}
