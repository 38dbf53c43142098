/**
 * The opening handshake (RFC 6455 §4): the upgrade request a client writes, and an incremental,
 * size-bounded parser of the server's response that verifies everything the client must.
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import {
  acceptDeflate,
  type DeflateAgreement,
  type DeflateSettings,
} from "./permessage_deflate.ts";
import { base64, sha1 } from "./sha1.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces, tabs and obs-text; no CR, LF, NUL or other controls.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5][0-9][0-9])(?: ([^\r\n\0]*))?$/;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** The default bound on the response's status line and headers, in bytes. */
export const MAX_RESPONSE_HEAD = 16 * 1024;
/** How much of a refusal's body is kept for the error. */
export const MAX_ERROR_BODY = 16 * 1024;

/**
 * The `Sec-WebSocket-Accept` value a server must answer `key` with.
 *
 * @example
 * ```ts
 * import { acceptFor } from "./handshake.ts";
 * acceptFor("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptFor(key: string): string {
  return base64(sha1(new TextEncoder().encode(key + GUID)));
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 random bytes, base64.
 *
 * @example
 * ```ts
 * import { handshakeKey } from "./handshake.ts";
 * handshakeKey((b) => b.fill(1)); // "AQEBAQEBAQEBAQEBAQEBAQ=="
 * ```
 */
export function handshakeKey(random: (target: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  random(bytes);
  return base64(bytes);
}

/** What the request is built from. Header names and values are already validated. */
export interface RequestParams {
  readonly url: URL;
  readonly key: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
  /** The `Sec-WebSocket-Extensions` offer, if any. */
  readonly extensions?: string;
}

/**
 * The upgrade request. `Host` comes from the URL unless the caller sets it; credentials in the
 * URL become `Authorization: Basic` unless the caller sets that header.
 *
 * @example
 * ```ts
 * import { buildRequest } from "./handshake.ts";
 * const text = buildRequest({
 *   url: new URL("ws://example.com/chat"),
 *   key: "dGhlIHNhbXBsZSBub25jZQ==",
 *   headers: [],
 *   subprotocols: ["chat"],
 * });
 * text.startsWith("GET /chat HTTP/1.1\r\nHost: example.com\r\n"); // true
 * ```
 */
export function buildRequest(params: RequestParams): string {
  const { url, key, headers, subprotocols, extensions } = params;
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  let out = `GET ${url.pathname || "/"}${url.search} HTTP/1.1\r\n`;
  if (!has("host")) out += `Host: ${url.host}\r\n`;
  out += "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (subprotocols.length > 0) out += `Sec-WebSocket-Protocol: ${subprotocols.join(", ")}\r\n`;
  if (extensions !== undefined) out += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if ((url.username !== "" || url.password !== "") && !has("authorization")) {
    const credentials = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
    out += `Authorization: Basic ${base64(new TextEncoder().encode(credentials))}\r\n`;
  }
  for (const [name, value] of headers) out += `${name}: ${value}\r\n`;
  return out + "\r\n";
}

/** Percent-decodes a URL's username or password; a malformed escape is sent as written. */
function decodeUserinfo(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** A successful upgrade. */
export interface Upgrade {
  /** Always 101. */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The subprotocol the server chose, or `""`. */
  readonly protocol: string;
  /** The extensions the server chose, as its `Sec-WebSocket-Extensions` header says, or `""`. */
  readonly extensions: string;
  /** What permessage-deflate agreed on, when the server accepted it. */
  readonly deflate: DeflateAgreement | undefined;
  /** Bytes that came after the response head: the server's first frames. */
  readonly rest: Uint8Array;
}

/** What the parser has concluded so far. */
export type ResponseResult =
  | { readonly kind: "more" }
  | { readonly kind: "upgraded"; readonly upgrade: Upgrade }
  | { readonly kind: "error"; readonly error: HandshakeError };

const MORE: ResponseResult = Object.freeze({ kind: "more" });

/**
 * Parses the server's answer to the upgrade request, as bytes arrive.
 *
 * @example
 * ```ts
 * import { acceptFor, ResponseParser } from "./handshake.ts";
 * const key = "dGhlIHNhbXBsZSBub25jZQ==";
 * const p = new ResponseParser(key, [], "ws://example.com/");
 * const r = p.push(new TextEncoder().encode(
 *   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
 *     `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
 * ));
 * r.kind; // "upgraded"
 * ```
 */
export class ResponseParser {
  #key: string;
  #offered: readonly string[];
  #deflate: DeflateSettings | undefined;
  #url: string;
  #maxHead: number;
  #bytes: Uint8Array = new Uint8Array(0);
  // Set once the head is parsed and the status is not 101: the body is being gathered.
  #refusal: { status: number; reason: string; headers: Headers; bodyLength: number } | undefined;
  #done = false;

  /**
   * @param key The `Sec-WebSocket-Key` that was sent.
   * @param offered The subprotocols that were offered.
   * @param url The URL, for messages.
   * @param maxHead The bound on the status line and headers.
   * @param deflate The permessage-deflate settings that were offered, if any.
   */
  constructor(
    key: string,
    offered: readonly string[],
    url: string,
    maxHead = MAX_RESPONSE_HEAD,
    deflate?: DeflateSettings,
  ) {
    this.#key = key;
    this.#offered = offered;
    this.#url = url;
    this.#maxHead = maxHead;
    this.#deflate = deflate;
  }

  /**
   * Whether a refusal's head is parsed and its body, which has no length, runs to the end of
   * the connection. A server may hold that open: the caller decides how long to wait before
   * calling {@linkcode ResponseParser.end}.
   */
  get awaitingBody(): boolean {
    return this.#refusal !== undefined && !this.#done;
  }

  /** Feeds response bytes. After a result other than "more", feeding is an error. */
  push(chunk: Uint8Array): ResponseResult {
    if (this.#done) throw new Error("The handshake response was already parsed");
    const all = new Uint8Array(this.#bytes.length + chunk.length);
    all.set(this.#bytes);
    all.set(chunk, this.#bytes.length);
    this.#bytes = all;
    if (this.#refusal !== undefined) return this.#gatherBody(false);
    const end = headEnd(all, Math.max(0, all.length - chunk.length - 3));
    if (end < 0) {
      if (all.length > this.#maxHead) {
        return this.#error(
          `the response head is larger than ${this.#maxHead} bytes`,
          undefined,
        );
      }
      return MORE;
    }
    if (end > this.#maxHead) {
      return this.#error(`the response head is larger than ${this.#maxHead} bytes`, undefined);
    }
    return this.#head(all.subarray(0, end - 4), all.subarray(end));
  }

  /** The connection ended; returns the final result. */
  end(): ResponseResult {
    if (this.#done) throw new Error("The handshake response was already parsed");
    if (this.#refusal !== undefined) return this.#gatherBody(true);
    return this.#error(
      this.#bytes.length === 0
        ? "the server closed the connection without a response"
        : "the server closed the connection in the middle of its response",
      undefined,
    );
  }

  /** Parses the response head; `rest` is what came after it. */
  #head(head: Uint8Array, rest: Uint8Array): ResponseResult {
    const lines = latin1.decode(head).split("\r\n");
    const statusLine = STATUS_LINE.exec(lines[0]);
    if (statusLine === null) {
      return this.#error(
        `the status line ${JSON.stringify(lines[0].slice(0, 80))} is not HTTP/1.x`,
      );
    }
    const status = Number(statusLine[2]);
    const headers = this.#headers(lines, status);
    if (!(headers instanceof Headers)) return headers;
    if (status !== 101) {
      this.#refusal = { status, reason: statusLine[3] ?? "", headers, bodyLength: 0 };
      this.#bytes = rest;
      return this.#gatherBody(false);
    }
    if (statusLine[1] !== "1") {
      return this.#error("a 101 response must be HTTP/1.1", status, headers);
    }
    const problem = this.#upgradeProblem(headers);
    if (problem !== undefined) return this.#error(problem, status, headers);
    const extensions = headers.get("sec-websocket-extensions")?.trim() ?? "";
    const deflate = acceptDeflate(this.#deflate, extensions);
    if (typeof deflate === "string") return this.#error(deflate, status, headers);
    this.#done = true;
    this.#bytes = new Uint8Array(0);
    return {
      kind: "upgraded",
      upgrade: {
        status,
        headers,
        protocol: headers.get("sec-websocket-protocol") ?? "",
        extensions: deflate === undefined ? "" : extensions,
        deflate,
        rest,
      },
    };
  }

  /** The header lines after the status line, or the error result for a malformed one. */
  #headers(lines: readonly string[], status: number): Headers | ResponseResult {
    const headers = new Headers();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(":");
      if (line.startsWith(" ") || line.startsWith("\t")) {
        return this.#error("a response header uses obsolete line folding", status);
      }
      const name = colon > 0 ? line.slice(0, colon) : "";
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      if (!TOKEN.test(name)) {
        return this.#error(
          `the response header line ${JSON.stringify(line.slice(0, 80))} is malformed`,
          status,
        );
      }
      if (!FIELD_VALUE.test(value)) {
        return this.#error(`the response header "${name}" contains control characters`, status);
      }
      headers.append(name, value);
    }
    return headers;
  }

  /** What is wrong with a 101 response's headers for a WebSocket upgrade, if anything. */
  #upgradeProblem(headers: Headers): string | undefined {
    // Upgrade must be exactly "websocket"; Connection is a token list that must hold "Upgrade".
    const upgrade = headers.get("upgrade");
    if (upgrade?.toLowerCase() !== "websocket") {
      return wrongHeader("Upgrade", upgrade, "websocket");
    }
    const connection = headers.get("connection");
    if (!connection?.split(",").some((t) => t.trim().toLowerCase() === "upgrade")) {
      return wrongHeader("Connection", connection, "Upgrade");
    }
    const accept = headers.get("sec-websocket-accept");
    if (accept !== acceptFor(this.#key)) {
      return accept === null
        ? "the response has no Sec-WebSocket-Accept header"
        : `the response's Sec-WebSocket-Accept ${
          JSON.stringify(accept)
        } does not match the key sent`;
    }
    const protocol = headers.get("sec-websocket-protocol") ?? "";
    if (protocol !== "" && !this.#offered.includes(protocol)) {
      return this.#offered.length === 0
        ? `the server chose the subprotocol ${JSON.stringify(protocol)} though none was offered`
        : `the server chose the subprotocol ${JSON.stringify(protocol)}, which was not offered`;
    }
    return undefined;
  }

  /**
   * Waits for the refusal's body (as far as its length is known and bounded): a chunked body
   * to its last chunk, a `Content-Length` body to that many bytes, any other to the end of the
   * stream (none for 1xx, 204 and 304); at most {@linkcode MAX_ERROR_BODY} bytes in any case.
   */
  #gatherBody(ended: boolean): ResponseResult {
    const r = this.#refusal!;
    const bytes = this.#bytes;
    const capped = ended || bytes.length >= MAX_ERROR_BODY;
    const transferEncoding = r.headers.get("transfer-encoding");
    const length = r.headers.get("content-length");
    let body: Uint8Array | undefined;
    if (transferEncoding !== null && /chunked/i.test(transferEncoding)) {
      // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3).
      const chunks = unchunk(bytes);
      if (chunks.complete || capped) body = chunks.data;
    } else if (length !== null && /^[0-9]+$/.test(length)) {
      // The length counts bytes: cut before decoding.
      if (capped || bytes.length >= Number(length)) body = bytes.subarray(0, Number(length));
    } else if (capped || r.status === 204 || r.status === 304 || r.status < 200) {
      // Without a length the body runs to the end of the connection (see `awaitingBody`).
      body = bytes;
    }
    if (body === undefined) return MORE;
    const text = utf8.decode(body.subarray(0, MAX_ERROR_BODY));
    const location = r.headers.get("location");
    const why = r.status >= 300 && r.status < 400
      ? `the server answered ${r.status} ${r.reason}`.trimEnd() +
        (location ? ` redirecting to ${location}, which is not followed` : "")
      : `the server answered ${r.status} ${r.reason}`.trimEnd() + " instead of 101";
    return this.#error(why, r.status, r.headers, text);
  }

  #error(why: string, status?: number, headers?: Headers, body?: string): ResponseResult {
    this.#done = true;
    return {
      kind: "error",
      error: new HandshakeError(`Cannot connect to ${this.#url} as ${why}`, {
        status,
        headers,
        body,
      }),
    };
  }
}

/** Says what is wrong with a required response header. */
function wrongHeader(name: string, value: string | null, expected: string): string {
  return `the response's ${name} header is ${
    value === null ? "missing" : JSON.stringify(value)
  }, not "${expected}"`;
}

/** The index just past the first CRLFCRLF at or after `from`, or -1. */
function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10
    ) return i + 4;
  }
  return -1;
}

/**
 * Decodes a chunked body (RFC 9112 §7.1) from its bytes, as far as it has arrived and is well
 * formed. `complete` once the last chunk and its trailer section (if any) are in, or at a
 * malformed size line (nothing more can be made of it). Chunk sizes count bytes, so this works on
 * bytes, not on decoded text.
 */
function unchunk(bytes: Uint8Array): { data: Uint8Array; complete: boolean } {
  const parts: Uint8Array[] = [];
  let size = 0;
  const done = (complete: boolean) => {
    const data = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { data, complete };
  };
  let at = 0;
  for (;;) {
    let eol = at;
    while (eol + 1 < bytes.length && !(bytes[eol] === 13 && bytes[eol + 1] === 10)) eol++;
    if (eol + 1 >= bytes.length) return done(false);
    // The size in hex, then optional extensions (";name=value"), which are ignored.
    const line = /^[0-9A-Fa-f]+/.exec(latin1.decode(bytes.subarray(at, eol)));
    if (line === null) return done(true);
    const n = parseInt(line[0], 16);
    if (n === 0) return done(headEnd(bytes, eol) >= 0); // the trailers end with an empty line
    const start = eol + 2;
    const stop = Math.min(bytes.length, start + n);
    parts.push(bytes.subarray(start, stop));
    size += stop - start;
    if (bytes.length < start + n + 2) return done(false);
    at = start + n + 2;
  }
}
