/**
 * The HTTP `CONNECT` exchange that opens a tunnel through a proxy (RFC 9110 §9.3.6): the request
 * a client writes, and an incremental, size-bounded parser of the proxy's answer. Sans-I/O like
 * the rest of the protocol layer: the transport writes and reads the bytes.
 *
 * @module
 */

import { base64 } from "./sha1.ts";
import { headEnd, MAX_RESPONSE_HEAD } from "./handshake.ts";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces, tabs and obs-text; no CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.[01] ([1-5][0-9][0-9])(?: ([^\r\n\0]*))?$/;
const latin1 = new TextDecoder("latin1");

/**
 * The `Proxy-Authorization` value for a user name and password (already percent-decoded):
 * `Basic` with the UTF-8 bytes of `user:password` in base64.
 *
 * @example
 * ```ts
 * import { basicCredentials } from "./proxy_tunnel.ts";
 * basicCredentials("alice", "secret"); // "Basic YWxpY2U6c2VjcmV0"
 * ```
 */
export function basicCredentials(user: string, password: string): string {
  return `Basic ${base64(new TextEncoder().encode(`${user}:${password}`))}`;
}

/**
 * The `CONNECT` request for `authority` (`host:port`, an IPv6 address in brackets), with a
 * `Proxy-Authorization` header when `authorization` is given.
 *
 * @example
 * ```ts
 * import { connectRequest } from "./proxy_tunnel.ts";
 * connectRequest("example.com:443");
 * // "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
 * ```
 */
export function connectRequest(authority: string, authorization?: string): string {
  if (/[\s\0]/.test(authority) || (authorization !== undefined && /[\r\n\0]/.test(authorization))) {
    throw new TypeError("A CONNECT request cannot carry CR, LF, NUL or spaces in its authority");
  }
  let out = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (authorization !== undefined) out += `Proxy-Authorization: ${authorization}\r\n`;
  return out + "\r\n";
}

/** What the parser has concluded so far. */
export type TunnelResult =
  | { readonly kind: "more" }
  /** A 2xx answer: the tunnel is open; `rest` came after the answer and belongs to it. */
  | { readonly kind: "established"; readonly status: number; readonly rest: Uint8Array }
  /** A final answer other than 2xx: the proxy refused the tunnel. */
  | {
    readonly kind: "refused";
    readonly status: number;
    readonly reason: string;
    readonly headers: Headers;
  }
  /** Not an HTTP/1.x answer, a head over the bound, or the end before a complete head. */
  | { readonly kind: "malformed"; readonly why: string };

const MORE: TunnelResult = Object.freeze({ kind: "more" });

/**
 * Parses a proxy's answer to `CONNECT` as bytes arrive. Interim (1xx) answers are skipped; a
 * 2xx answer opens the tunnel (its `Content-Length` or `Transfer-Encoding` are ignored, as RFC
 * 9110 §9.3.6 says); any other is a refusal, whose body is not read.
 *
 * @example
 * ```ts
 * import { TunnelParser } from "./proxy_tunnel.ts";
 * const p = new TunnelParser();
 * const r = p.push(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
 * r.kind; // "established"
 * ```
 */
export class TunnelParser {
  #maxHead: number;
  #bytes: Uint8Array = new Uint8Array(0);
  #done = false;

  /** @param maxHead The bound on one answer's status line and headers, in bytes. */
  constructor(maxHead = MAX_RESPONSE_HEAD) {
    this.#maxHead = maxHead;
  }

  /** Feeds bytes of the answer. After a result other than "more", feeding is an error. */
  push(chunk: Uint8Array): TunnelResult {
    if (this.#done) throw new Error("The answer to CONNECT was already parsed");
    const all = new Uint8Array(this.#bytes.length + chunk.length);
    all.set(this.#bytes);
    all.set(chunk, this.#bytes.length);
    this.#bytes = all;
    let from = Math.max(0, all.length - chunk.length - 3);
    for (;;) {
      const end = headEnd(this.#bytes, from);
      if (end < 0 && this.#bytes.length <= this.#maxHead) return MORE;
      if (end < 0 || end > this.#maxHead) {
        return this.#fail(`its answer's head is larger than ${this.#maxHead} bytes`);
      }
      const result = this.#head(this.#bytes.subarray(0, end - 4), this.#bytes.subarray(end));
      if (result !== MORE) return result;
      // An interim answer: the final one follows.
      this.#bytes = this.#bytes.slice(end);
      from = 0;
    }
  }

  /** The connection ended; returns the final result. */
  end(): TunnelResult {
    if (this.#done) throw new Error("The answer to CONNECT was already parsed");
    return this.#fail(
      this.#bytes.length === 0
        ? "it closed the connection without answering CONNECT"
        : "it closed the connection in the middle of its answer to CONNECT",
    );
  }

  /** One answer's head; MORE for an interim one. */
  #head(head: Uint8Array, rest: Uint8Array): TunnelResult {
    const lines = latin1.decode(head).split("\r\n");
    const statusLine = STATUS_LINE.exec(lines[0]);
    if (statusLine === null) {
      return this.#fail(
        `its answer to CONNECT starts with ${JSON.stringify(lines[0].slice(0, 80))}, not HTTP/1.x`,
      );
    }
    const status = Number(statusLine[1]);
    const headers = new Headers();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon) : "";
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
        return this.#fail(
          `its answer to CONNECT has the malformed header line ${
            JSON.stringify(line.slice(0, 80))
          }`,
        );
      }
      headers.append(name, value);
    }
    if (status < 200) return MORE;
    this.#done = true;
    this.#bytes = new Uint8Array(0);
    if (status < 300) return { kind: "established", status, rest: rest.slice() };
    return { kind: "refused", status, reason: statusLine[2] ?? "", headers };
  }

  #fail(why: string): TunnelResult {
    this.#done = true;
    this.#bytes = new Uint8Array(0);
    return { kind: "malformed", why };
  }
}
