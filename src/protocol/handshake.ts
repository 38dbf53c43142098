/**
 * The opening handshake (RFC 6455 §4): the upgrade request a client writes, and an incremental,
 * size-bounded parser of the server's response that verifies everything the client must.
 *
 * @module
 */

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { redactUrl } from "../vocabulary/redact.ts";
import {
  acceptDeflate,
  type DeflateAgreement,
  type DeflateSettings,
} from "./permessage_deflate.ts";
import { base64, sha1, sha1Ascii } from "./sha1.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const utf8 = new TextDecoder();

/** Which bytes may make up a header name (an RFC 9110 token): 1 for those. */
const TOKEN_BYTES = (() => {
  const table = new Uint8Array(256);
  for (const c of "!#$%&'*+-.^_`|~0123456789") table[c.charCodeAt(0)] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = table[c + 0x20] = 1;
  return table;
})();

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
  const text = key + GUID;
  // Keys are base64 (ASCII): their bytes are their character codes, with no encoder needed.
  return base64(
    /[\u0080-\uffff]/.test(text) ? sha1(new TextEncoder().encode(text)) : sha1Ascii(text),
  );
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
const EMPTY = new Uint8Array(0);

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
  #url: URL | string;
  #maxHead: number;
  #bytes: Uint8Array = EMPTY;
  // Set once the head is parsed and the status is not 101: the body is being gathered.
  #refusal: { status: number; reason: string; headers: Headers; bodyLength: number } | undefined;
  #done = false;
  /** The `Sec-WebSocket-Accept` the response must carry, once computed. */
  #accept: string | undefined;

  /**
   * @param key The `Sec-WebSocket-Key` that was sent.
   * @param offered The subprotocols that were offered.
   * @param url The URL, for messages, which quote it redacted (see `redactUrl`).
   * @param maxHead The bound on the status line and headers.
   * @param deflate The permessage-deflate settings that were offered, if any.
   */
  constructor(
    key: string,
    offered: readonly string[],
    url: URL | string,
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

  /**
   * Computes now the `Sec-WebSocket-Accept` value the response must carry, which is otherwise
   * computed when the response arrives: a caller calls it once the request is sent, so that the
   * work is done while the server answers. The response is checked the same either way.
   */
  prepareForResponse(): void {
    this.#accept ??= acceptFor(this.#key);
  }

  /** Feeds response bytes. After a result other than "more", feeding is an error. */
  push(chunk: Uint8Array): ResponseResult {
    if (this.#done) throw new Error("The handshake response was already parsed");
    const had = this.#bytes.length;
    // Chunks are never reused by whoever feeds them: the first is kept as it is.
    let all = chunk;
    if (had > 0) {
      all = new Uint8Array(had + chunk.length);
      all.set(this.#bytes);
      all.set(chunk, had);
    }
    this.#bytes = all;
    if (this.#refusal !== undefined) return this.#gatherBody(false);
    const end = headEnd(all, Math.max(0, had - 3));
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

  /**
   * Parses the response head (its bytes, without the empty line that ends it); `rest` is what
   * came after it. The head is read as bytes: strings are made only of the values the upgrade
   * needs, and the `Headers` only when asked for (see `Fields`).
   */
  #head(head: Uint8Array, rest: Uint8Array): ResponseResult {
    const n = head.length;
    let eol = lineEnd(head, 0);
    const status = statusOf(head, eol);
    if (status < 0) {
      const line = latin1Text(head.subarray(0, eol));
      return this.#error(`the status line ${JSON.stringify(line.slice(0, 80))} is not HTTP/1.x`);
    }
    // Four offsets per field: name start and end, value start and end.
    const offsets: number[] = [];
    for (let at = eol + 2; at < n; at = eol + 2) {
      eol = lineEnd(head, at);
      const problem = fieldProblem(head, at, eol, offsets);
      if (problem !== undefined) return this.#error(problem, status);
    }
    // A string, not a copy of the bytes: it is smaller, and its values are slices of it.
    const fields = new Fields(latin1Text(head), offsets);
    if (status !== 101) {
      // The reason phrase, after "HTTP/1.x NNN ", up to the end of the status line.
      const statusEnd = lineEnd(head, 0);
      const reason = statusEnd > 13 ? latin1Text(head.subarray(13, statusEnd)) : "";
      this.#refusal = { status, reason, headers: fields.headers, bodyLength: 0 };
      this.#bytes = rest;
      return this.#gatherBody(false);
    }
    if (head[7] !== 0x31) {
      return this.#error("a 101 response must be HTTP/1.1", status, fields.headers);
    }
    const problem = this.#upgradeProblem(fields);
    if (problem !== undefined) return this.#error(problem, status, fields.headers);
    const extensions = fields.get("sec-websocket-extensions")?.trim() ?? "";
    const deflate = acceptDeflate(this.#deflate, extensions);
    if (typeof deflate === "string") return this.#error(deflate, status, fields.headers);
    this.#done = true;
    this.#bytes = EMPTY;
    const agreed = deflate === undefined ? "" : extensions;
    return { kind: "upgraded", upgrade: new Upgraded(fields, agreed, deflate, rest) };
  }

  /** What is wrong with a 101 response's headers for a WebSocket upgrade, if anything. */
  #upgradeProblem(fields: Fields): string | undefined {
    // Upgrade must be exactly "websocket"; Connection is a token list that must hold "Upgrade".
    const upgrade = fields.get("upgrade");
    if (upgrade?.toLowerCase() !== "websocket") {
      return wrongHeader("Upgrade", upgrade, "websocket");
    }
    const connection = fields.get("connection");
    if (!connection?.split(",").some((t) => t.trim().toLowerCase() === "upgrade")) {
      return wrongHeader("Connection", connection, "Upgrade");
    }
    const accept = fields.get("sec-websocket-accept");
    if (accept !== (this.#accept ??= acceptFor(this.#key))) {
      return accept === null
        ? "the response has no Sec-WebSocket-Accept header"
        : `the response's Sec-WebSocket-Accept ${
          JSON.stringify(accept)
        } does not match the key sent`;
    }
    const protocol = fields.get("sec-websocket-protocol") ?? "";
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
        (location ? ` redirecting to ${redactUrl(location)}, which is not followed` : "")
      : `the server answered ${r.status} ${r.reason}`.trimEnd() + " instead of 101";
    return this.#error(why, r.status, r.headers, text);
  }

  #error(why: string, status?: number, headers?: Headers, body?: string): ResponseResult {
    this.#done = true;
    return {
      kind: "error",
      error: new HandshakeError(`Cannot connect to ${redactUrl(this.#url)} as ${why}`, {
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

/**
 * The index just past the first CRLFCRLF (the end of an HTTP head) at or after `from`, or -1.
 *
 * @example
 * ```ts
 * import { headEnd } from "./handshake.ts";
 * headEnd(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\nbody"), 0); // 19
 * ```
 */
export function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10
    ) return i + 4;
  }
  return -1;
}

/** The index of the first CRLF at or after `from`, or the end of `bytes` if there is none. */
function lineEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return bytes.length;
}

/**
 * The status code of the status line `head[0, end)` (`HTTP/1.0` or `HTTP/1.1`, a code from 100
 * to 599, then nothing, or a space and a reason without CR, LF or NUL), or -1 when it is not one.
 */
function statusOf(head: Uint8Array, end: number): number {
  if (end < 12 || (end > 12 && head[12] !== 0x20)) return -1;
  for (let i = 0; i < 7; i++) if (head[i] !== HTTP_1[i]) return -1;
  const minor = head[7], d1 = head[9] - 0x30, d2 = head[10] - 0x30, d3 = head[11] - 0x30;
  if ((minor !== 0x30 && minor !== 0x31) || head[8] !== 0x20) return -1;
  if (d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return -1;
  for (let i = 13; i < end; i++) {
    const b = head[i];
    if (b === 13 || b === 10 || b === 0) return -1;
  }
  return d1 * 100 + d2 * 10 + d3;
}

/** "HTTP/1." */
const HTTP_1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e];

/**
 * Checks the header line `head[start, end)` and adds its name's and (trimmed) value's offsets
 * to `offsets`; returns what is wrong with it instead, if anything.
 */
function fieldProblem(
  head: Uint8Array,
  start: number,
  end: number,
  offsets: number[],
): string | undefined {
  const first = head[start];
  if (first === 0x20 || first === 0x09) return "a response header uses obsolete line folding";
  let colon = start;
  while (colon < end && head[colon] !== 0x3a) colon++;
  let token = colon > start && colon < end;
  for (let i = start; token && i < colon; i++) token = TOKEN_BYTES[head[i]] === 1;
  if (!token) {
    const line = latin1Text(head.subarray(start, end));
    return `the response header line ${JSON.stringify(line.slice(0, 80))} is malformed`;
  }
  let from = colon + 1;
  let to = end;
  while (from < to && (head[from] === 0x20 || head[from] === 0x09)) from++;
  while (to > from && (head[to - 1] === 0x20 || head[to - 1] === 0x09)) to--;
  // Field values: visible characters, spaces, tabs and obs-text; no CR, LF, NUL or other controls.
  for (let i = from; i < to; i++) {
    const b = head[i];
    if ((b < 0x20 && b !== 0x09) || b === 0x7f) {
      const name = latin1Text(head.subarray(start, colon));
      return `the response header "${name}" contains control characters`;
    }
  }
  offsets.push(start, colon, from, to);
  return undefined;
}

/**
 * A response's header fields, checked, as offsets into its head read as a Latin-1 string (one
 * character per byte). `get` reads a field's value as `Headers` would give it; the `Headers`
 * object is made on first use, so an upgrade that nobody asks the headers of never makes one.
 */
class Fields {
  #head: string;
  #offsets: readonly number[];
  #headers: Headers | undefined;

  constructor(head: string, offsets: readonly number[]) {
    this.#head = head;
    this.#offsets = offsets;
  }

  /** The fields as `Headers`, in the order they came. */
  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers();
      const head = this.#head;
      const o = this.#offsets;
      for (let i = 0; i < o.length; i += 4) {
        headers.append(head.slice(o[i], o[i + 1]), head.slice(o[i + 2], o[i + 3]));
      }
      this.#headers = headers;
    }
    return this.#headers;
  }

  /**
   * The value of the field `name` (lowercase), as `Headers.get` gives it: the values of every
   * field of that name, in order, joined by ", "; null if there is none.
   */
  get(name: string): string | null {
    const head = this.#head;
    const o = this.#offsets;
    let value: string | null = null;
    for (let i = 0; i < o.length; i += 4) {
      if (!named(head, o[i], o[i + 1], name)) continue;
      const text = head.slice(o[i + 2], o[i + 3]);
      value = value === null ? text : `${value}, ${text}`;
    }
    return value;
  }
}

/** Whether the name at `head[start, end)` is `name` (lowercase), in any case. */
function named(head: string, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    const c = head.charCodeAt(start + i);
    // ASCII letters fold to lowercase; names are tokens, so nothing else maps onto a letter.
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * `bytes` as a string, one character per byte: Latin-1, as `Headers` reads field bytes (not
 * `TextDecoder("latin1")`, which is windows-1252 and reads 0x80-0x9f otherwise). Made in
 * JavaScript: where a connection's cycle runs it, a UTF-8 decoder call for an ASCII head costs
 * twice as much on Deno and Node (it is faster only on Bun, and in a tight loop).
 */
function latin1Text(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return text;
}

/** A successful upgrade, as the parser reports it (`headers` made on first use). */
class Upgraded implements Upgrade {
  readonly status = 101;
  readonly protocol: string;
  readonly extensions: string;
  readonly deflate: DeflateAgreement | undefined;
  readonly rest: Uint8Array;
  #fields: Fields;

  constructor(
    fields: Fields,
    extensions: string,
    deflate: DeflateAgreement | undefined,
    rest: Uint8Array,
  ) {
    this.#fields = fields;
    this.protocol = fields.get("sec-websocket-protocol") ?? "";
    this.extensions = extensions;
    this.deflate = deflate;
    this.rest = rest;
  }

  get headers(): Headers {
    return this.#fields.headers;
  }
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
    const line = /^[0-9A-Fa-f]+/.exec(latin1Text(bytes.subarray(at, eol)));
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
