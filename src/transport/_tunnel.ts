// Internal: the CONNECT leg of a dial through a proxy, shared by the dialers (which do the
// reading and writing): the request, the proxy's answer, and the errors each outcome becomes.
// Messages name the proxy by its label (scheme, host and port), never with its credentials.

import { connectRequest, TunnelParser } from "../protocol/proxy_tunnel.ts";
import type { DialProxy, DialTarget } from "./_stream.ts";

/**
 * The proxy failed to open the tunnel: it refused it (`status` is its answer's), or answered
 * with something that is not HTTP, or closed the connection first. The socket transport makes
 * it a HandshakeError with the same status and headers.
 */
export class TunnelError extends Error {
  /** The proxy's status, when it refused the tunnel. */
  readonly status: number | undefined;
  /** The headers of the proxy's refusal. */
  readonly headers: Headers | undefined;

  constructor(message: string, status?: number, headers?: Headers) {
    super(message);
    this.name = "TunnelError";
    this.status = status;
    this.headers = headers;
  }
}

/** The CONNECT exchange of one dial: write `request`, then push what the proxy sends. */
export class Tunnel {
  /** The CONNECT request, with the credentials. */
  readonly request: Uint8Array;
  #proxy: DialProxy;
  #authority: string;
  #parser = new TunnelParser();

  constructor(target: DialTarget, proxy: DialProxy) {
    this.#proxy = proxy;
    // The URL's host: an IPv6 address stays in brackets, as the authority form wants it.
    this.#authority = `${target.hostname}:${target.port}`;
    this.request = new TextEncoder().encode(
      connectRequest(this.#authority, proxy.authorization),
    );
  }

  /**
   * Feeds what the proxy sent. Returns undefined until its answer is complete, then the bytes
   * that came after the answer (the tunnel's first, usually none); throws a TunnelError when the
   * proxy refused the tunnel or its answer is not HTTP/1.x.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const r = this.#parser.push(chunk);
    switch (r.kind) {
      case "more":
        return undefined;
      case "established":
        return r.rest;
      case "refused":
        throw new TunnelError(
          `the proxy ${this.#proxy.label} refused to open a tunnel to ${this.#authority}: ${
            `${r.status} ${r.reason}`.trimEnd()
          }`,
          r.status,
          r.headers,
        );
      case "malformed":
        throw this.#failed(r.why);
    }
  }

  /** The proxy ended the connection before its answer was complete: throws a TunnelError. */
  end(): never {
    const r = this.#parser.end();
    throw this.#failed(r.kind === "malformed" ? r.why : "it closed the connection");
  }

  /** The error for a read or write on the connection to the proxy that failed. */
  ioError(cause: unknown): Error {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new Error(`the connection to the proxy ${this.#proxy.label} failed: ${detail}`, {
      cause,
    });
  }

  /**
   * The error for bytes the proxy passed on after its answer, before the client began TLS in
   * the tunnel: a server speaks TLS only after the client's hello.
   */
  earlyBytes(count: number): Error {
    return new TunnelError(
      `the tunnel through the proxy ${this.#proxy.label} carried ${count} bytes before the TLS handshake began`,
    );
  }

  #failed(why: string): TunnelError {
    return new TunnelError(`the proxy ${this.#proxy.label} failed to open a tunnel: ${why}`);
  }
}

/** The name of a dial step on the way to the proxy, for stepError. */
export function proxyStep(step: "tcp" | "tls", proxy: DialProxy): string {
  return step === "tcp"
    ? `the TCP connection to the proxy ${proxy.label}`
    : `the TLS handshake with the proxy ${proxy.label}`;
}
