// Internal: the byte stream a socket transport runs over, and how one is dialled.

import type { ResolvedTls } from "./tls.ts";

/**
 * Where a byte stream reports. Each is called at most once, except `data` and `written`; `done`
 * last.
 */
export interface StreamEvents {
  /** Bytes arrived. The chunk is the transport's to keep: it is never reused. */
  data(chunk: Uint8Array): void;
  /**
   * The operating system has taken the first `total` bytes given to `write` (counted over the
   * stream's life): called as writes complete, with a larger total each time. Bytes dropped
   * because the stream ended first are never counted.
   */
  written(total: number): void;
  /**
   * Where the next read may put its bytes, if the transport has a place for them (a large
   * message's own buffer): read at most its length into it and pass `subarray(0, n)` to `data`
   * next. Streams that are handed their chunks ignore it.
   */
  readInto?(): Uint8Array | undefined;
  /** The peer ended its side (EOF). */
  end(): void;
  /** Reading or writing failed. */
  error(error: Error): void;
  /** Every resource of the stream is released. */
  done(): void;
}

/** An open, bidirectional byte stream (TCP or TLS). */
export interface ByteStream {
  /** Writes the chunks in order, as one batch; `written` reports when the OS took them. */
  write(chunks: Uint8Array[]): void;
  /** Ends our side once everything written is flushed. */
  end(): void;
  /** Releases the stream at once: what was not written yet never will be. */
  destroy(): void;
  /**
   * Stops reading from the network until `resume()`: the peer's data waits in the kernel, and
   * TCP's window slows the peer. A read already under way may still report its chunk. Returns
   * false, and changes nothing, where the stream cannot stop reading (see `NodeStream`).
   */
  pause(): boolean;
  /** Reads from the network again. */
  resume(): void;
}

/** Where to dial. */
export interface DialTarget {
  readonly hostname: string;
  readonly port: number;
  readonly tls: ResolvedTls | undefined;
  /** The proxy to reach the target through, with a CONNECT tunnel (see _tunnel.ts). */
  readonly proxy?: DialProxy;
}

/** An HTTP(S) proxy on the way to a dial target. */
export interface DialProxy {
  readonly hostname: string;
  readonly port: number;
  /** TLS to the proxy itself (an https: proxy). */
  readonly tls: ResolvedTls | undefined;
  /** The `Proxy-Authorization` value, if any: never part of a message. */
  readonly authorization: string | undefined;
  /** How messages name the proxy: `http://host:port`, without credentials. */
  readonly label: string;
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

/**
 * Chunks under this size that are written together are copied into one buffer (on Deno and Bun,
 * which have no vectored write). From about 8 KiB on, a write of its own costs less than the copy
 * (bench/micro/stream_write.ts: 16 KiB frames, CPU per MB written, Deno and Bun alike).
 */
export const SMALL_CHUNK = 8 * 1024;
/** The largest buffer such a run of small chunks is copied into. */
export const COALESCE_LIMIT = 256 * 1024;

/**
 * The next write from `chunks`, starting at `from`: a large chunk as it is (never copied), or
 * the run of small chunks (under `small` bytes) that starts there, copied into one buffer of up
 * to `limit` bytes, so that a burst of small frames costs one syscall (neither Deno nor Bun has a
 * vectored write). `end` is the index after the chunks taken.
 */
export function coalesce(
  chunks: readonly Uint8Array[],
  from: number,
  small: number = SMALL_CHUNK,
  limit: number = COALESCE_LIMIT,
): { bytes: Uint8Array; end: number } {
  const first = chunks[from];
  let end = from + 1;
  if (first.length >= small) return { bytes: first, end };
  let size = first.length;
  while (
    end < chunks.length && chunks[end].length < small &&
    size + chunks[end].length <= limit
  ) {
    size += chunks[end].length;
    end++;
  }
  if (end - from === 1) return { bytes: first, end };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (let i = from; i < end; i++) {
    bytes.set(chunks[i], at);
    at += chunks[i].length;
  }
  return { bytes, end };
}
