/**
 * permessage-deflate (RFC 7692): the client's offer, the server's answer checked against it
 * (§7.1), and the per-message compression both ways (§7.2) on an injected
 * {@linkcode DeflateCodec}.
 *
 * @module
 */

import type { DeflateCodec, Deflater, Inflater } from "./deflate_codec.ts";

/**
 * permessage-deflate settings, given as the `compression` option (socket transport). Every
 * field is optional.
 *
 * @example Less memory per connection: no context kept between messages, either way
 * ```ts
 * import type { CompressionOptions } from "@parley/client";
 * const compression: CompressionOptions = {
 *   serverNoContextTakeover: true,
 *   clientNoContextTakeover: true,
 * };
 * ```
 */
export interface CompressionOptions {
  /**
   * Asks the server to compress each message on its own (`server_no_context_takeover`): its
   * messages compress less, and the client frees its decompressor's memory (a 2^15-byte window
   * and more) after each one. Default `false`.
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Compresses each message the client sends on its own (`client_no_context_takeover`, also
   * obeyed when the server asks for it): they compress less, and the client frees its
   * compressor's memory after each one (making it again costs tens of microseconds a message;
   * when only the server asks, the compressor is kept and reset instead). Default `false`.
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Asks the server to use a window of at most 2^n bytes, n from 8 to 15
   * (`server_max_window_bits`): the client's decompressor then needs that much. A server that
   * cannot declines compression. Default: not asked.
   */
  readonly serverMaxWindowBits?: number;
  /**
   * The client compresses with a window of at most 2^n bytes, n from 8 to 15
   * (`client_max_window_bits=n`); the server may ask for less. The compressor takes about
   * 2^(n + 3) bytes (256 KiB for 15, 32 KiB for 12). Default 15.
   */
  readonly clientMaxWindowBits?: number;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024. */
  readonly threshold?: number;
  /**
   * zlib's compression level for what the client sends, 0 (none) to 9 (smallest, slowest).
   * Default 1: most of the bytes saved for a fraction of the time the higher levels take.
   */
  readonly level?: number;
}

/** {@linkcode CompressionOptions} with every field filled in. */
export interface DeflateSettings {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** Offered as `server_max_window_bits` when set. */
  readonly serverMaxWindowBits: number | undefined;
  /** Offered as `client_max_window_bits=n` when set, as a bare `client_max_window_bits` otherwise. */
  readonly clientMaxWindowBits: number | undefined;
  readonly threshold: number;
  readonly level: number;
}

/** The settings `compression: true` (and the default) stand for. */
export const DEFAULT_DEFLATE: DeflateSettings = Object.freeze({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: undefined,
  clientMaxWindowBits: undefined,
  threshold: 1024,
  level: 1,
});

/** What the handshake agreed (RFC 7692 §7.1), for the connection's life. */
export interface DeflateAgreement {
  /** The server compresses each message on its own. */
  readonly serverNoContextTakeover: boolean;
  /** The client must compress each message on its own. */
  readonly clientNoContextTakeover: boolean;
  /** The server's window is at most 2^n bytes (15 when the answer did not say). */
  readonly serverMaxWindowBits: number;
  /** The client's window may be at most 2^n bytes. */
  readonly clientMaxWindowBits: number;
}

/** The extension's name (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** The header bit that marks the first frame of a compressed message (RFC 7692 §6). */
export const RSV1 = 0x40;

/** The empty stored block a sync flush ends with, taken off a message and put back (§7.2). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * zlib's memory level for a deflater with a window of 2^windowBits bytes: 8 (zlib's default)
 * for 2^15, one less for each halving (5 for 2^12, as Python's websockets pairs them), so the
 * window size bounds the whole deflater's memory (zlib's own formula: 2^(windowBits + 2) +
 * 2^(memLevel + 9) bytes: 256 KiB for 2^15, 32 KiB for 2^12).
 */
function memLevel(windowBits: number): number {
  return Math.max(1, Math.min(8, windowBits - 7));
}

/**
 * The `Sec-WebSocket-Extensions` value that offers `settings`. It always carries
 * `client_max_window_bits`, so the server may shrink the client's window.
 *
 * @example
 * ```ts
 * import { DEFAULT_DEFLATE, deflateOffer } from "./permessage_deflate.ts";
 * deflateOffer(DEFAULT_DEFLATE); // "permessage-deflate; client_max_window_bits"
 * ```
 */
export function deflateOffer(settings: DeflateSettings): string {
  let offer = PERMESSAGE_DEFLATE;
  if (settings.serverNoContextTakeover) offer += "; server_no_context_takeover";
  if (settings.clientNoContextTakeover) offer += "; client_no_context_takeover";
  if (settings.serverMaxWindowBits !== undefined) {
    offer += `; server_max_window_bits=${settings.serverMaxWindowBits}`;
  }
  offer += "; client_max_window_bits";
  if (settings.clientMaxWindowBits !== undefined) offer += `=${settings.clientMaxWindowBits}`;
  return offer;
}

/** One extension of a `Sec-WebSocket-Extensions` value: its name and parameters, in order. */
interface Extension {
  readonly name: string;
  readonly params: Array<readonly [string, string | undefined]>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1: a list of extensions, each a token
 * with `; name[=value]` parameters, a value a token or a quoted string); undefined if malformed.
 * Empty list elements are skipped (RFC 9110 §5.6.1).
 */
function parseExtensions(value: string): Extension[] | undefined {
  const out: Extension[] = [];
  let i = 0;
  const n = value.length;
  const skipSpace = () => {
    while (i < n && (value[i] === " " || value[i] === "\t")) i++;
  };
  const token = (): string | undefined => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(value[i])) i++;
    return i > start ? value.slice(start, i) : undefined;
  };
  const quoted = (): string | undefined => {
    // value[i] is the opening quote.
    let text = "";
    for (i++; i < n; i++) {
      const c = value[i];
      if (c === '"') {
        i++;
        return text;
      }
      if (c === "\\") {
        if (++i >= n) return undefined;
        text += value[i];
      } else text += c;
    }
    return undefined;
  };
  for (;;) {
    skipSpace();
    if (i >= n) return out;
    if (value[i] === ",") {
      i++;
      continue;
    }
    const name = token();
    if (name === undefined) return undefined;
    const params: Array<readonly [string, string | undefined]> = [];
    for (;;) {
      skipSpace();
      if (i >= n || value[i] === ",") break;
      if (value[i] !== ";") return undefined;
      i++;
      skipSpace();
      const param = token();
      if (param === undefined) return undefined;
      skipSpace();
      let paramValue: string | undefined;
      if (value[i] === "=") {
        i++;
        skipSpace();
        paramValue = value[i] === '"' ? quoted() : token();
        if (paramValue === undefined) return undefined;
      }
      params.push([param.toLowerCase(), paramValue]);
    }
    out.push({ name: name.toLowerCase(), params });
  }
}

/** A window size parameter's value: 8-15 written without leading zeros, or undefined. */
function windowBits(value: string | undefined): number | undefined {
  if (value === undefined || !/^(?:8|9|1[0-5])$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Checks the server's `Sec-WebSocket-Extensions` answer against the offer made from `settings`
 * (`undefined`: nothing was offered) and returns what was agreed: `undefined` when the server
 * chose no extension, or a sentence saying what is wrong with the answer, which fails the
 * handshake (RFC 6455 §4.1, RFC 7692 §7.1): an extension the client did not offer, the
 * extension twice, a parameter that is unknown, repeated, has a value it may not have or lacks
 * one it needs, a window size outside 8-15 or above what the client offered or asked for,
 * `client_max_window_bits` though the client offered none, or a parameter the client asked for
 * left out (`server_no_context_takeover`, `server_max_window_bits`).
 *
 * @example
 * ```ts
 * import { acceptDeflate, DEFAULT_DEFLATE } from "./permessage_deflate.ts";
 * acceptDeflate(DEFAULT_DEFLATE, "permessage-deflate; client_max_window_bits=10");
 * // { serverNoContextTakeover: false, clientNoContextTakeover: false,
 * //   serverMaxWindowBits: 15, clientMaxWindowBits: 10 }
 * acceptDeflate(DEFAULT_DEFLATE, "x-webkit-deflate-frame");
 * // 'the server chose the extension "x-webkit-deflate-frame", which the client did not offer'
 * ```
 */
export function acceptDeflate(
  settings: DeflateSettings | undefined,
  header: string,
): DeflateAgreement | string | undefined {
  const extensions = parseExtensions(header);
  if (extensions === undefined) {
    return `the response's Sec-WebSocket-Extensions header ${
      JSON.stringify(header.slice(0, 200))
    } is malformed`;
  }
  if (extensions.length === 0) return undefined;
  const unoffered = extensions.find((e) => e.name !== PERMESSAGE_DEFLATE || settings === undefined);
  if (unoffered !== undefined || settings === undefined) {
    const name = (unoffered ?? extensions[0]).name;
    return `the server chose the extension ${JSON.stringify(name)}, which the client did not offer`;
  }
  if (extensions.length > 1) return `the server chose ${PERMESSAGE_DEFLATE} more than once`;
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverMaxWindowBits: number | undefined;
  let clientMaxWindowBits: number | undefined;
  const seen = new Set<string>();
  const answered = `the server answered ${PERMESSAGE_DEFLATE} with`;
  for (const [name, value] of extensions[0].params) {
    if (seen.has(name)) return `${answered} the parameter ${name} more than once`;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== undefined) return `${answered} ${name}=${value}, which takes no value`;
        if (name === "server_no_context_takeover") serverNoContextTakeover = true;
        else clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(value);
        if (bits === undefined) return `${answered} ${describe(name, value)}, not a number 8-15`;
        const asked = settings.serverMaxWindowBits;
        if (asked !== undefined && bits > asked) {
          return `${answered} ${name}=${bits}, above the ${asked} the client asked for`;
        }
        serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // The offer always carries client_max_window_bits: the server may answer it.
        const bits = windowBits(value);
        if (bits === undefined) return `${answered} ${describe(name, value)}, not a number 8-15`;
        const offered = settings.clientMaxWindowBits;
        if (offered !== undefined && bits > offered) {
          return `${answered} ${name}=${bits}, above the ${offered} the client offered`;
        }
        clientMaxWindowBits = bits;
        break;
      }
      default:
        return `${answered} the parameter ${JSON.stringify(name)}, which RFC 7692 does not define`;
    }
  }
  if (settings.serverNoContextTakeover && !serverNoContextTakeover) {
    return `${answered}out the server_no_context_takeover the client asked for`;
  }
  if (settings.serverMaxWindowBits !== undefined && serverMaxWindowBits === undefined) {
    return `${answered}out the server_max_window_bits the client asked for`;
  }
  return {
    serverNoContextTakeover,
    clientNoContextTakeover: clientNoContextTakeover || settings.clientNoContextTakeover,
    serverMaxWindowBits: serverMaxWindowBits ?? 15,
    clientMaxWindowBits: Math.min(
      clientMaxWindowBits ?? 15,
      settings.clientMaxWindowBits ?? 15,
    ),
  };
}

/** `name` or `name=value`, for messages. */
function describe(name: string, value: string | undefined): string {
  return value === undefined ? `${name} without a value` : `${name}=${JSON.stringify(value)}`;
}

/**
 * The compression of one connection, both ways, once the handshake agreed on it: whole
 * messages out, pieces of messages in. Its deflater and inflater are made on first use, so a
 * connection that never compresses a message (or never receives one) holds no zlib memory for
 * that direction. Without context takeover in a direction, the window is forgotten after each
 * message; when the client's own settings asked for it (to save memory, as RFC 7692 §7.1.1
 * intends), that direction's deflater or inflater is released instead, and made again for the
 * next message (when only the server asked, it is kept and reset: cheaper).
 *
 * @example
 * ```ts ignore
 * import { PerMessageDeflate, DEFAULT_DEFLATE } from "./permessage_deflate.ts";
 * declare const codec: import("./deflate_codec.ts").DeflateCodec;
 * const pmd = new PerMessageDeflate({
 *   serverNoContextTakeover: false, clientNoContextTakeover: false,
 *   serverMaxWindowBits: 15, clientMaxWindowBits: 15,
 * }, DEFAULT_DEFLATE, codec);
 * const payload = pmd.compress(new TextEncoder().encode("x".repeat(2000))); // send with RSV1
 * ```
 */
export class PerMessageDeflate {
  /** Messages shorter than this are sent uncompressed. */
  readonly threshold: number;
  #agreement: DeflateAgreement;
  #level: number;
  /** Release the deflater after each message (the client's own clientNoContextTakeover). */
  #releaseDeflater: boolean;
  /** Release the inflater after each message (the client asked serverNoContextTakeover). */
  #releaseInflater: boolean;
  #codec: DeflateCodec;
  #deflater: Deflater | undefined;
  #inflater: Inflater | undefined;
  /** Whether the message being inflated had payload bytes. */
  #inflating = false;
  #closed = false;

  /**
   * @param agreement What the handshake agreed.
   * @param settings The client's own settings (threshold, level).
   * @param codec Where the deflater and the inflater come from.
   */
  constructor(agreement: DeflateAgreement, settings: DeflateSettings, codec: DeflateCodec) {
    this.#agreement = agreement;
    this.threshold = settings.threshold;
    this.#level = settings.level;
    this.#codec = codec;
    this.#releaseDeflater = settings.clientNoContextTakeover;
    this.#releaseInflater = settings.serverNoContextTakeover;
  }

  /** What the handshake agreed. */
  get agreement(): DeflateAgreement {
    return this.#agreement;
  }

  /**
   * Compresses a whole message (RFC 7692 §7.2.1): deflate with a sync flush, minus the
   * trailing `00 00 ff ff`. The result is sent as the payload of a frame with RSV1 set; it may be
   * a view of a buffer the codec reuses, valid until the codec's next call.
   */
  compress(data: Uint8Array): Uint8Array {
    if (this.#closed) throw new Error("Cannot compress a message after the connection closed");
    const a = this.#agreement;
    // zlib cannot compress raw DEFLATE with a 256-byte window; a 512-byte one never reaches
    // back further than 250 bytes (its window less 262 bytes of lookahead), so it suits 8 too.
    const windowBits = Math.max(9, a.clientMaxWindowBits);
    const deflater = this.#deflater ??= this.#codec.deflater({
      windowBits,
      level: this.#level,
      memLevel: memLevel(windowBits),
    });
    const out = deflater.deflate(data);
    if (this.#releaseDeflater) {
      // The output is the codec's until its next call: the deflater's memory goes now.
      deflater.close();
      this.#deflater = undefined;
    } else if (a.clientNoContextTakeover) deflater.reset();
    const n = out.length;
    // A sync flush always ends with the empty stored block; without it, a final block ends the
    // data (not what zlib's sync flush does), and it is sent as it is (§7.2.1).
    if (
      n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff &&
      out[n - 1] === 0xff
    ) return out.subarray(0, n - 4);
    return out;
  }

  /**
   * Inflates the next piece of a compressed message's payload into `out` (pieces of its own);
   * returns how many bytes it added, more than `limit` when the message would exceed it (then
   * it stopped there). Throws an `Error` for data that is not valid DEFLATE.
   */
  inflate(data: Uint8Array, limit: number, out: Uint8Array[]): number {
    if (data.length === 0) return 0;
    const inflater = this.#inflater ??= this.#newInflater();
    this.#inflating = true;
    const n = inflater.inflate(data, limit, out);
    if (inflater.ended) throw new Error("data follows the final block of the message's stream");
    return n;
  }

  /**
   * Ends a compressed message (§7.2.2): puts back the `00 00 ff ff` the sender took off and
   * inflates what it releases into `out`; returns how many bytes it added (more than `limit`:
   * over it). Then forgets the window if the server compresses each message on its own, or if
   * its stream ended with a final block. A message without payload is an empty one: `00 00 ff
   * ff` alone is no whole block, so nothing is put back (an empty message compressed is `00`).
   */
  finish(limit: number, out: Uint8Array[]): number {
    if (!this.#inflating) return 0;
    this.#inflating = false;
    const inflater = this.#inflater!;
    // After a message that ended with a final block, the tail is left unread: the stream is over.
    const n = inflater.inflate(TAIL, limit, out);
    if (n > limit) return n;
    if (this.#releaseInflater) {
      inflater.close();
      this.#inflater = undefined;
    } else if (this.#agreement.serverNoContextTakeover || inflater.ended) inflater.reset();
    return n;
  }

  /** Releases the codec's memory; nothing is compressed or inflated afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflater?.close();
    this.#inflater?.close();
    this.#deflater = this.#inflater = undefined;
  }

  #newInflater(): Inflater {
    if (this.#closed) throw new Error("Cannot inflate a message after the connection closed");
    return this.#codec.inflater(Math.max(9, this.#agreement.serverMaxWindowBits));
  }
}
