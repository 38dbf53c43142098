// Internal: option validation. Every check runs before anything starts.
import { describe, frameShapeError, frameSizeError } from "./_frame_check.ts";
import type { Frame } from "../vocabulary/frame.ts";
import { defaultLogger, type Logger, silentLogger } from "./logger.ts";
import type { ClientName, NameRegistry } from "./name.ts";
import type { AttemptFunction, ClientOptions, HeadersOption } from "./options.ts";
import { DEFAULT_LIMITS, type ResolvedLimits } from "../protocol/limits.ts";
import type { ResolvedHeartbeat } from "../transport/heartbeat.ts";
import { DEFAULT_DEFLATE, type DeflateSettings } from "../protocol/permessage_deflate.ts";
import type { ResolvedTls } from "../transport/tls.ts";
import { DEFAULT_PROXY, parseProxyUrl, PROXY_OFF, type ProxySetting } from "../transport/proxy.ts";
import { redactUrl } from "../vocabulary/redact.ts";

/** Options after validation, with defaults applied. */
export interface Config {
  /** The URL, or the function that gives it before each attempt. */
  readonly url: URL | AttemptFunction<string | URL>;
  readonly headers: ReadonlyArray<readonly [string, string]> | AttemptFunction<HeadersOption>;
  readonly subprotocols: readonly string[] | AttemptFunction<readonly string[]>;
  readonly connectTimeout: number;
  readonly closeTimeout: number;
  readonly reconnect: ReconnectPolicy | null;
  readonly maxQueuedFrames: number;
  readonly maxQueuedBytes: number;
  readonly logger: Logger;
  readonly signal: AbortSignal | undefined;
  readonly transport: "auto" | "web" | "socket";
  readonly name: ClientName | undefined;
  /** Receive limits, when given (the socket transport applies defaults otherwise). */
  readonly limits: ResolvedLimits | undefined;
  /** TLS settings, when given. */
  readonly tls: ResolvedTls | undefined;
  /**
   * The heartbeat: settings, off (`null`), or `undefined` for the default (on for the socket
   * transport, off for the web transport, which cannot ping).
   */
  readonly heartbeat: ResolvedHeartbeat | null | undefined;
  /** Bytes of received frames the application has not handled yet before reading pauses. */
  readonly receiveBuffer: number;
  /** The proxy setting (the socket transport's): the environment unless given. */
  readonly proxy: ProxySetting;
  /**
   * permessage-deflate to offer (socket transport), or undefined for none. `DEFAULT_DEFLATE`
   * itself unless settings were given.
   */
  readonly compression: DeflateSettings | undefined;
}

/** A reconnect policy with every field filled in. */
export interface ReconnectPolicy {
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly maxRetries: number;
  readonly random: () => number;
  /** Ms a connection must stay up before the retry count (and `maxElapsed`) starts afresh. */
  readonly minUptime: number;
  /** Ms of failed reconnecting after which the client gives up (Infinity: never). */
  readonly maxElapsed: number;
  /** The longest `Retry-After` delay honoured, in ms. */
  readonly maxRetryAfter: number;
  /** Whether failures that look permanent (401, 403, 1008...) are retried. */
  readonly retryPermanent: boolean;
}

/** Parley's default backoff, also used by a forced `reconnect` when the option is off. */
export const DEFAULT_RECONNECT: ReconnectPolicy = Object.freeze({
  baseDelay: 1000,
  maxDelay: 30_000,
  maxRetries: Infinity,
  random: Math.random,
  minUptime: 5_000,
  maxElapsed: Infinity,
  maxRetryAfter: 30_000,
  retryPermanent: true,
});

/** The heartbeat's defaults: a ping after 20 s of silence, 20 s for an answer. */
export const DEFAULT_HEARTBEAT: ResolvedHeartbeat = Object.freeze({
  interval: 20_000,
  timeout: 20_000,
  message: undefined,
});

/** The default receive buffer: 4 MiB of received frames waiting for the application. */
export const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;

const MAX_TIMER = 2 ** 31 - 1;

const KNOWN_KEYS = [
  "url",
  "name",
  "headers",
  "subprotocols",
  "connectTimeout",
  "closeTimeout",
  "reconnect",
  "maxQueuedFrames",
  "maxQueuedBytes",
  "logger",
  "signal",
  "transport",
  "transportOptions",
  "limits",
  "heartbeat",
  "receiveBuffer",
  "proxy",
  "compression",
];

const HINTS: Record<string, string> = {
  protocols: ' (WebSocket subprotocols are "subprotocols"; the HTTP version is always HTTP/1.1)',
  connect_timeout: ' (did you mean "connectTimeout"?)',
  timeout: ' (did you mean "connectTimeout"?)',
  transport_opts: ' (did you mean "transportOptions"?)',
  tls: ' (TLS settings go in "transportOptions": { tls: {...} })',
  maxMessageSize: ' (receive limits go in "limits": { maxMessageSize })',
  maxFrameSize: ' (receive limits go in "limits": { maxFrameSize })',
  maxPayload: ' (receive limits go in "limits": { maxMessageSize })',
  pingInterval: ' (pings are the "heartbeat": { interval, timeout })',
  keepalive: ' (pings are the "heartbeat": { interval, timeout })',
  keepAlive: ' (pings are the "heartbeat": { interval, timeout })',
  highWaterMark: ' (did you mean "receiveBuffer"?)',
  agent: ' (an HTTP(S) proxy is "proxy": "http://host:port")',
  perMessageDeflate: ' (did you mean "compression"?)',
  deflate: ' (did you mean "compression"?)',
};

/** Headers the client writes itself; setting them by hand would break the handshake. */
const RESERVED_HEADERS = new Set([
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The first own key of the options object `o` that is not `known`, or undefined: what every
 * options object (start's, its nested ones, a method's) is checked for. No array is made.
 */
export function unknownKey(o: object, known: readonly string[]): string | undefined {
  for (const key in o) {
    if (Object.hasOwn(o, key) && !known.includes(key)) return key;
  }
  return undefined;
}

/** The hint for `key` in `hints` (its own entries only), or `""`. */
export function hintFor(hints: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(hints, key) ? hints[key] : "";
}

/** Validates `options` and fills in defaults, throwing a built-in error on the first fault. */
export function parseOptions(options: unknown): Config {
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `Cannot start the client as options must be an object, got ${describe(options)}`,
    );
  }
  const o = options as Record<string, unknown>;
  const unknown = unknownKey(o, KNOWN_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(
      `Cannot start the client as the option "${unknown}" is unknown${hintFor(HINTS, unknown)}`,
    );
  }
  const opts = o as unknown as ClientOptions;
  return sharedConfig({
    url: typeof opts.url === "function" ? opts.url : parseUrl(opts.url),
    name: opts.name === undefined ? undefined : checkName(opts.name, "Cannot start the client as"),
    headers: typeof opts.headers === "function" ? opts.headers : shared(parseHeaders(opts.headers)),
    subprotocols: typeof opts.subprotocols === "function"
      ? opts.subprotocols
      : shared(parseSubprotocols(opts.subprotocols)),
    connectTimeout: duration("connectTimeout", opts.connectTimeout, 10_000, true),
    closeTimeout: duration("closeTimeout", opts.closeTimeout, 5_000, true),
    reconnect: parseReconnect(opts.reconnect),
    maxQueuedFrames: count("maxQueuedFrames", opts.maxQueuedFrames, 1024),
    maxQueuedBytes: count("maxQueuedBytes", opts.maxQueuedBytes, 16 * 1024 * 1024),
    logger: parseLogger(opts.logger),
    signal: parseSignal(opts.signal),
    transport: parseTransport(opts.transport),
    limits: parseLimits(opts.limits),
    tls: parseTransportOptions(opts.transportOptions),
    heartbeat: parseHeartbeat(opts.heartbeat),
    receiveBuffer: parseReceiveBuffer(opts.receiveBuffer),
    proxy: parseProxy(opts.proxy),
    compression: parseCompression(opts.compression),
  });
}

/**
 * The config parsed last: clients started with the same options (many clients of one server)
 * share one rather than hold one each (168 bytes on Node). A config is read only. Held weakly:
 * once no client uses it, what it refers to (a logger, a signal) is not kept alive here.
 */
let lastConfig: WeakRef<Config> | undefined;

/** `config`, or the last one parsed if every setting of it is the same. */
function sharedConfig(config: Config): Config {
  const last = lastConfig?.deref();
  if (last !== undefined) {
    let same = true;
    for (const key in config) {
      if (config[key as keyof Config] !== last[key as keyof Config]) {
        same = false;
        break;
      }
    }
    if (same) return last;
  }
  lastConfig = new WeakRef(config);
  return config;
}

/** One empty list for every client without headers or subprotocols (the config's are read-only). */
const NONE: readonly never[] = Object.freeze([]);

/** `list`, or the shared empty list in place of an empty one. */
function shared<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list;
}

/**
 * The URL parsed last, under the text it came from: clients started with the same URL (many
 * clients of one server) share one URL object rather than hold one each (about 200 bytes on Node).
 * Nothing changes a parsed URL: the config's is read only, and messages redact a copy.
 */
let lastParsed: { readonly text: string; readonly url: URL } | undefined;

/**
 * Where a checked URL, headers or subprotocols value came from, for messages: the option itself,
 * or what the option's function returned for an attempt.
 */
export interface Source {
  /** How the message begins: `Cannot start the client as` or `Cannot connect as`. */
  readonly lead: string;
  /** The value as a whole: `"headers"` or `the headers function's result`. */
  readonly whole: string;
  /** Said after one element of the value: `""` or ` from the headers function`. */
  readonly from: string;
}

/** The option `key` itself, checked at start. */
function optionSource(key: string): Source {
  return { lead: "Cannot start the client as", whole: `"${key}"`, from: "" };
}

/** What the function given as the option `key` returned for an attempt. */
export function functionSource(key: string): Source {
  return {
    lead: "Cannot connect as",
    whole: `the ${key} function's result`,
    from: ` from the ${key} function`,
  };
}

const URL_OPTION = optionSource("url");

/** A URL for a message: quoted, with its credentials, query values and fragment as `***`. */
function quoteUrl(value: string): string {
  return JSON.stringify(redactUrl(value));
}

/** Parses a WebSocket URL; anything but a valid ws:, wss:, http: or https: URL is a SyntaxError. */
export function parseUrl(value: unknown, source: Source = URL_OPTION): URL {
  if (typeof value === "string" && lastParsed?.text === value) return lastParsed.url;
  const { lead, whole } = source;
  if (value === undefined && source === URL_OPTION) {
    throw new TypeError(`${lead} the option "url" is required`);
  }
  if (typeof value !== "string" && !(value instanceof URL)) {
    throw new TypeError(`${lead} ${whole} must be a string or URL, got ${describe(value)}`);
  }
  const text = String(value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not the URL parser's error as the cause: its message may quote the URL, password and all.
    throw new SyntaxError(`${lead} ${whole} is not a valid URL: ${quoteUrl(text)}`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new SyntaxError(
      `${lead} ${whole} must use ws: or wss:, got ${url.protocol} in ${quoteUrl(text)}`,
    );
  }
  if (url.hash !== "" || text.includes("#")) {
    throw new SyntaxError(
      `${lead} ${whole} may not have a fragment, as WebSocket URLs have none: ${quoteUrl(text)}`,
    );
  }
  if (url.hostname === "") {
    throw new SyntaxError(`${lead} ${whole} has no host: ${quoteUrl(text)}`);
  }
  if (typeof value === "string") lastParsed = { text: value, url };
  return url;
}

const HEADERS_OPTION = optionSource("headers");

export function parseHeaders(
  value: unknown,
  source: Source = HEADERS_OPTION,
): Array<readonly [string, string]> {
  if (value === undefined) return [];
  const { lead, whole, from } = source;
  let entries: Iterable<unknown>;
  if (value instanceof Headers) entries = value.entries();
  else if (value !== null && typeof value === "object" && Symbol.iterator in value) {
    entries = value as Iterable<unknown>;
  } else if (value !== null && typeof value === "object") entries = Object.entries(value);
  else {
    throw new TypeError(
      `${lead} ${whole} must be an object, an iterable of pairs or Headers, got ${describe(value)}`,
    );
  }
  const out: Array<readonly [string, string]> = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new TypeError(
        `${lead} each header${from} must be a [name, value] pair, got ${describe(entry)}`,
      );
    }
    const [name, v] = entry;
    if (typeof name !== "string" || typeof v !== "string") {
      throw new TypeError(
        `${lead} header names and values${from} must be strings, got ${describe(name)}: ${
          describe(v)
        }`,
      );
    }
    if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(v)) {
      throw new TypeError(`${lead} the header ${describe(name)}${from} contains CR, LF or NUL`);
    }
    if (!TOKEN.test(name)) {
      throw new TypeError(`${lead} ${describe(name)}${from} is not a valid header name`);
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new TypeError(
        `${lead} the header "${name}"${from} is set by the client itself${
          name.toLowerCase() === "sec-websocket-protocol" ? ' (use the "subprotocols" option)' : ""
        }`,
      );
    }
    out.push([name, v.trim()]);
  }
  return out;
}

const SUBPROTOCOLS_OPTION = optionSource("subprotocols");

export function parseSubprotocols(
  value: unknown,
  source: Source = SUBPROTOCOLS_OPTION,
): string[] {
  if (value === undefined) return [];
  const { lead, whole, from } = source;
  if (!Array.isArray(value)) {
    throw new TypeError(`${lead} ${whole} must be an array of strings, got ${describe(value)}`);
  }
  const seen = new Set<string>();
  for (const p of value) {
    if (typeof p !== "string") {
      throw new TypeError(`${lead} each subprotocol${from} must be a string, got ${describe(p)}`);
    }
    if (!TOKEN.test(p)) {
      throw new SyntaxError(`${lead} ${describe(p)}${from} is not a valid subprotocol token`);
    }
    if (seen.has(p)) {
      throw new SyntaxError(`${lead} the subprotocol ${describe(p)}${from} is listed twice`);
    }
    seen.add(p);
  }
  return [...value];
}

function duration(key: string, value: unknown, fallback: number, allowInfinity: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot start the client as "${key}" must be a number of milliseconds, got ${
        describe(value)
      }`,
    );
  }
  if (value === Infinity && allowInfinity) return value;
  if (!(value > 0) || value > MAX_TIMER) {
    throw new RangeError(
      `Cannot start the client as "${key}" must be above 0 and at most ${MAX_TIMER} ms${
        allowInfinity ? " (or Infinity)" : ""
      }, got ${value}`,
    );
  }
  return value;
}

/** A whole number of `min` or more, or Infinity; one message states the whole rule. */
function count(key: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot start the client as "${key}" must be a number, got ${describe(value)}`,
    );
  }
  if (value !== Infinity && (!Number.isInteger(value) || value < min)) {
    throw new RangeError(
      `Cannot start the client as "${key}" must be a whole number of ${min} or more (or Infinity), got ${value}`,
    );
  }
  return value;
}

const HEARTBEAT_KEYS = ["interval", "timeout", "message"];
const LIMITS_KEYS = ["maxFrameSize", "maxMessageSize", "maxFragments"];
const TRANSPORT_OPTIONS_KEYS = ["tls"];

const RECONNECT_KEYS = [
  "baseDelay",
  "maxDelay",
  "maxRetries",
  "random",
  "minUptime",
  "maxElapsed",
  "maxRetryAfter",
  "retryPermanent",
];

function parseReconnect(value: unknown): ReconnectPolicy | null {
  if (value === undefined || value === false) return null;
  if (value === true) return DEFAULT_RECONNECT;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "reconnect" must be true, false or an object, got ${
        describe(value)
      }`,
    );
  }
  const r = value as Record<string, unknown>;
  const unknown = unknownKey(r, RECONNECT_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(`Cannot start the client as the reconnect option "${unknown}" is unknown`);
  }
  const baseDelay = delay("reconnect.baseDelay", r.baseDelay, DEFAULT_RECONNECT.baseDelay);
  const maxDelay = delay(
    "reconnect.maxDelay",
    r.maxDelay,
    Math.max(DEFAULT_RECONNECT.maxDelay, baseDelay),
  );
  if (maxDelay < baseDelay) {
    throw new RangeError(
      `Cannot start the client as "reconnect.maxDelay" (${maxDelay}) is below "reconnect.baseDelay" (${baseDelay})`,
    );
  }
  const maxRetries = count("reconnect.maxRetries", r.maxRetries, Infinity);
  if (r.random !== undefined && typeof r.random !== "function") {
    throw new TypeError(
      `Cannot start the client as "reconnect.random" must be a function, got ${describe(r.random)}`,
    );
  }
  const minUptime = delay("reconnect.minUptime", r.minUptime, DEFAULT_RECONNECT.minUptime);
  const maxElapsed = duration("reconnect.maxElapsed", r.maxElapsed, Infinity, true);
  const maxRetryAfter = delay("reconnect.maxRetryAfter", r.maxRetryAfter, maxDelay);
  const retryPermanent = r.retryPermanent ?? true;
  if (typeof retryPermanent !== "boolean") {
    throw new TypeError(
      `Cannot start the client as "reconnect.retryPermanent" must be a boolean, got ${
        describe(retryPermanent)
      }`,
    );
  }
  return Object.freeze({
    baseDelay,
    maxDelay,
    maxRetries,
    random: (r.random as (() => number) | undefined) ?? Math.random,
    minUptime,
    maxElapsed,
    maxRetryAfter,
    retryPermanent,
  });
}

/** `heartbeat`: `undefined` for the default, `null` when turned off. */
function parseHeartbeat(value: unknown): ResolvedHeartbeat | null | undefined {
  if (value === undefined) return undefined;
  if (value === false) return null;
  if (value === true) return DEFAULT_HEARTBEAT;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "heartbeat" must be true, false or an object, got ${
        describe(value)
      }`,
    );
  }
  const h = value as Record<string, unknown>;
  const unknown = unknownKey(h, HEARTBEAT_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(`Cannot start the client as the heartbeat option "${unknown}" is unknown`);
  }
  const interval = duration("heartbeat.interval", h.interval, DEFAULT_HEARTBEAT.interval, false);
  const timeout = duration("heartbeat.timeout", h.timeout, DEFAULT_HEARTBEAT.timeout, false);
  let message: ResolvedHeartbeat["message"];
  if (h.message !== undefined) {
    const problem = frameShapeError(h.message) ?? frameSizeError(h.message as Frame);
    const type = (h.message as { type?: unknown }).type;
    if (problem !== undefined || (type !== "text" && type !== "binary")) {
      throw new TypeError(
        `Cannot start the client as "heartbeat.message" must be a text or binary frame${
          problem ? `: ${problem}` : `, got ${describe(h.message)}`
        }`,
      );
    }
    message = h.message as ResolvedHeartbeat["message"];
  }
  return Object.freeze({ interval, timeout, message });
}

function parseReceiveBuffer(value: unknown): number {
  return count("receiveBuffer", value, DEFAULT_RECEIVE_BUFFER, 1024);
}

function delay(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot start the client as "${key}" must be a number of milliseconds, got ${
        describe(value)
      }`,
    );
  }
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER) {
    throw new RangeError(
      `Cannot start the client as "${key}" must be from 0 to ${MAX_TIMER} ms, got ${value}`,
    );
  }
  return value;
}

/**
 * Whether `logger` drops debug messages for certain (the default logger's and the silent one's
 * do): then they are not made, which costs microseconds on every connection.
 */
export function dropsDebug(logger: Logger): boolean {
  return logger.debug === defaultLogger.debug || logger.debug === silentLogger.debug;
}

function parseLogger(value: unknown): Logger {
  if (value === undefined) return defaultLogger;
  if (value === null || typeof value !== "object") {
    throw new TypeError(
      `Cannot start the client as "logger" must be an object with debug, info, warn and error methods, got ${
        describe(value)
      }`,
    );
  }
  for (const m of ["debug", "info", "warn", "error"]) {
    if (typeof (value as Record<string, unknown>)[m] !== "function") {
      throw new TypeError(`Cannot start the client as "logger" has no ${m} method`);
    }
  }
  return value as Logger;
}

function parseSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot start the client as "signal" must be an AbortSignal, got ${describe(value)}`,
    );
  }
  return value;
}

function parseTransport(value: unknown): "auto" | "web" | "socket" {
  if (value === undefined) return "auto";
  if (value === "auto" || value === "web" || value === "socket") return value;
  throw new TypeError(
    `Cannot start the client as "transport" must be "auto", "web" or "socket", got ${
      describe(value)
    }`,
  );
}

/** The `proxy` option: "env", a proxy URL (string or URL) or false. */
function parseProxy(value: unknown): ProxySetting {
  if (value === undefined) return DEFAULT_PROXY;
  if (value === false) return PROXY_OFF;
  if (value === "env") return { kind: "env", explicit: true };
  if ((typeof value === "string" && value.trim() !== "") || value instanceof URL) {
    try {
      return { kind: "url", proxy: parseProxyUrl(value, '"proxy"', true) };
    } catch (error) {
      throw new SyntaxError(`Cannot start the client as ${(error as Error).message}`);
    }
  }
  throw new TypeError(
    `Cannot start the client as "proxy" must be "env", a proxy URL (string or URL) or false, got ${
      typeof value === "string" ? "an empty string" : describe(value)
    }`,
  );
}

function parseLimits(value: unknown): ResolvedLimits | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "limits" must be an object, got ${describe(value)}`,
    );
  }
  const l = value as Record<string, unknown>;
  const unknown = unknownKey(l, LIMITS_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(`Cannot start the client as the limits option "${unknown}" is unknown`);
  }
  const positive = (key: string, v: unknown, fallback: number) =>
    count(`limits.${key}`, v, fallback, 1);
  const maxMessageSize = positive(
    "maxMessageSize",
    l.maxMessageSize,
    DEFAULT_LIMITS.maxMessageSize,
  );
  const maxFrameSize = positive(
    "maxFrameSize",
    l.maxFrameSize,
    l.maxMessageSize === undefined ? DEFAULT_LIMITS.maxFrameSize : maxMessageSize,
  );
  const maxFragments = positive("maxFragments", l.maxFragments, DEFAULT_LIMITS.maxFragments);
  return Object.freeze({ maxFrameSize, maxMessageSize, maxFragments });
}

const COMPRESSION_KEYS = [
  "serverNoContextTakeover",
  "clientNoContextTakeover",
  "serverMaxWindowBits",
  "clientMaxWindowBits",
  "threshold",
  "level",
];

/** Without the option, compression is offered with the defaults (see DEFAULT_DEFLATE). */
function parseCompression(value: unknown): DeflateSettings | undefined {
  if (value === undefined || value === true) return DEFAULT_DEFLATE;
  if (value === false) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "compression" must be true, false or an object, got ${
        describe(value)
      }`,
    );
  }
  const c = value as Record<string, unknown>;
  const unknown = unknownKey(c, COMPRESSION_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(
      `Cannot start the client as the compression option "${unknown}" is unknown${
        /window/i.test(unknown)
          ? ' (window sizes are "serverMaxWindowBits" and "clientMaxWindowBits")'
          : ""
      }`,
    );
  }
  const flag = (key: string, v: unknown, fallback: boolean) => {
    if (v === undefined) return fallback;
    if (typeof v !== "boolean") {
      throw new TypeError(
        `Cannot start the client as "compression.${key}" must be a boolean, got ${describe(v)}`,
      );
    }
    return v;
  };
  const integer = (key: string, v: unknown, min: number, max: number) => {
    if (v === undefined) return undefined;
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new TypeError(
        `Cannot start the client as "compression.${key}" must be a number, got ${describe(v)}`,
      );
    }
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(
        `Cannot start the client as "compression.${key}" must be a whole number from ${min} to ${max}, got ${v}`,
      );
    }
    return v;
  };
  const threshold = c.threshold === undefined
    ? DEFAULT_DEFLATE.threshold
    : count("compression.threshold", c.threshold, DEFAULT_DEFLATE.threshold);
  return Object.freeze({
    serverNoContextTakeover: flag(
      "serverNoContextTakeover",
      c.serverNoContextTakeover,
      DEFAULT_DEFLATE.serverNoContextTakeover,
    ),
    clientNoContextTakeover: flag(
      "clientNoContextTakeover",
      c.clientNoContextTakeover,
      DEFAULT_DEFLATE.clientNoContextTakeover,
    ),
    serverMaxWindowBits: integer("serverMaxWindowBits", c.serverMaxWindowBits, 8, 15),
    clientMaxWindowBits: integer("clientMaxWindowBits", c.clientMaxWindowBits, 8, 15),
    threshold,
    level: integer("level", c.level, 0, 9) ?? DEFAULT_DEFLATE.level,
  });
}

function parseTransportOptions(value: unknown): ResolvedTls | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "transportOptions" must be an object, got ${describe(value)}`,
    );
  }
  const o = value as Record<string, unknown>;
  const unknown = unknownKey(o, TRANSPORT_OPTIONS_KEYS);
  if (unknown !== undefined) {
    throw new TypeError(
      `Cannot start the client as the transportOptions option "${unknown}" is unknown${
        TLS_KEYS.includes(unknown) ? ` (TLS settings go in "transportOptions": { tls: {...} })` : ""
      }`,
    );
  }
  if (o.tls === undefined) return undefined;
  return parseTls(o.tls);
}

const TLS_KEYS = [
  "ca",
  "cert",
  "key",
  "serverName",
  "minVersion",
  "dangerouslyAcceptInvalidCertificates",
];

function parseTls(value: unknown): ResolvedTls {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls" must be an object, got ${describe(value)}`,
    );
  }
  const t = value as Record<string, unknown>;
  checkTlsKeys(t);
  const ca = parseCa(t.ca);
  const cert = pem("cert", t.cert);
  const key = pem("key", t.key);
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls" needs both "cert" and "key" for a client certificate, got only "${
        cert === undefined ? "key" : "cert"
      }"`,
    );
  }
  const serverName = parseServerName(t.serverName);
  const minVersion = t.minVersion ?? "TLSv1.2";
  if (minVersion !== "TLSv1.2" && minVersion !== "TLSv1.3") {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls.minVersion" must be "TLSv1.2" or "TLSv1.3", got ${
        describe(minVersion)
      }`,
    );
  }
  const insecure = t.dangerouslyAcceptInvalidCertificates ?? false;
  if (typeof insecure !== "boolean") {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls.dangerouslyAcceptInvalidCertificates" must be a boolean, got ${
        describe(insecure)
      }`,
    );
  }
  return Object.freeze({ ca, cert, key, serverName, minVersion, insecure });
}

/** Throws for a TLS option that does not exist, suggesting the one meant. */
function checkTlsKeys(t: Record<string, unknown>): void {
  const key = unknownKey(t, TLS_KEYS);
  if (key === undefined) return;
  throw new TypeError(
    `Cannot start the client as the TLS option "${key}" is unknown${
      key === "rejectUnauthorized" || key === "insecure"
        ? ' (did you mean "dangerouslyAcceptInvalidCertificates"?)'
        : key === "servername"
        ? ' (did you mean "serverName"?)'
        : ""
    }`,
  );
}

/** A PEM option's value (`key` names it for the message), or undefined when not given. */
function pem(key: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !v.includes("-----BEGIN ")) {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls.${key}" must be a PEM string, got ${
        describe(v)
      }`,
    );
  }
  return v;
}

/** The `ca` option: one PEM string or an array of them. */
function parseCa(value: unknown): string[] {
  const ca: string[] = [];
  if (value === undefined) return ca;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls.ca" must be a PEM string or an array of them, got ${
        describe(value)
      }`,
    );
  }
  for (const c of list) ca.push(pem("ca", c)!);
  return ca;
}

/** The `serverName` option: a host name, or undefined when not given. */
function parseServerName(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[A-Za-z0-9.-]+$/.test(value)) {
    throw new TypeError(
      `Cannot start the client as "transportOptions.tls.serverName" must be a host name, got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * Checks the shape of a name, throwing a TypeError for anything else; `lead` begins the message
 * (`Cannot start the client as` for the option, `Cannot look up a client as` for `whereis`).
 */
export function checkName(name: unknown, lead = "Cannot look up a client as"): ClientName {
  if (typeof name === "string") {
    if (name === "") throw new TypeError(`${lead} the name is an empty string`);
    return name;
  }
  if (typeof name === "symbol") return name;
  if (name !== null && typeof name === "object") {
    const n = name as Record<string, unknown>;
    if ("global" in n && Object.keys(n).length === 1) {
      if (typeof n.global === "string" && n.global !== "") return name as ClientName;
      throw new TypeError(
        `${lead} the global name must be a non-empty string, got ${describe(n.global)}`,
      );
    }
    if ("via" in n && "key" in n && Object.keys(n).length === 2) {
      const via = n.via as NameRegistry | null;
      if (
        via !== null && typeof via === "object" && typeof via.register === "function" &&
        typeof via.unregister === "function" && typeof via.whereis === "function"
      ) return name as ClientName;
      throw new TypeError(
        `${lead} the name's via registry lacks register, unregister or whereis`,
      );
    }
  }
  throw new TypeError(
    `${lead} the name must be a non-empty string, a symbol, { global: string } or { via: registry, key }, got ${
      describe(name)
    }`,
  );
}
