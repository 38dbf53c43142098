// Internal: the byte stream a socket transport runs over, and how one is dialled.

import type { ResolvedTls } from "./tls.ts";

/** Where a byte stream reports. Each is called at most once, except `data`. */
export interface StreamEvents {
  /** Bytes arrived. The chunk is the transport's to keep: it is never reused. */
  data(chunk: Uint8Array): void;
  /** The peer ended its side (EOF). */
  end(): void;
  /** Reading or writing failed. */
  error(error: Error): void;
  /** Every resource of the stream is released. */
  closed(): void;
}

/** An open, bidirectional byte stream (TCP or TLS). */
export interface ByteStream {
  /** Writes the chunks in order, as one batch. */
  write(chunks: Uint8Array[]): void;
  /** Ends our side once everything written is flushed. */
  end(): void;
  /** Releases the stream at once. */
  destroy(): void;
  /** Bytes given to `write` that the operating system has not taken yet. */
  readonly buffered: number;
  /**
   * Resolves once `buffered` is at most `low` bytes, or the stream is gone (then the bytes still
   * buffered are lost, and the stream reports why through its events).
   */
  drained(low: number): Promise<void>;
}

/** Where to dial. */
export interface DialTarget {
  readonly hostname: string;
  readonly port: number;
  readonly tls: ResolvedTls | undefined;
}

/**
 * Opens a stream; rejects with an `Error` whose message says which step failed ("the TCP
 * connection failed: ...", "the TLS handshake failed: ..."). Once `signal` is aborted the dialer
 * releases what it opened and rejects promptly, so an abandoned attempt (a connect timeout, a
 * stop) holds no socket.
 */
export type Dialer = (
  target: DialTarget,
  events: StreamEvents,
  signal: AbortSignal,
) => Promise<ByteStream>;

/** An error for a failed dial step, keeping the runtime's error as the cause. */
export function stepError(step: string, cause: unknown): Error {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${step} failed: ${detail}`, { cause });
}

/** The rejection of a dial abandoned through its signal. */
export function abortedError(): Error {
  return new Error("the connection attempt was abandoned");
}
