// Option validation through the public `start`, and proof that a refused start starts nothing.

import assert from "node:assert/strict";
import { type ClientOptions, defineClient, whereis } from "../../mod.ts";
import { startClient } from "../../src/client/_start.ts";
import { ScriptedConnector, settle } from "../support/scripted.ts";
import { recordingLogger } from "../support/recorder.ts";
import { startWsServer } from "../support/servers.ts";

const URL_OK = "ws://127.0.0.1:9/ws";
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
type ErrorClass = new (...args: never[]) => Error;

/** A refusal: the option bag, the built-in error class and a message pattern. */
interface Refusal {
  readonly what: string;
  readonly options: (url: string) => unknown;
  readonly error: ErrorClass;
  readonly message: RegExp;
}

const quiet = recordingLogger();

const REFUSALS: Refusal[] = [
  {
    what: "options that are not an object",
    options: () => "ws://127.0.0.1/",
    error: TypeError,
    message: /options must be an object, got "ws:/,
  },
  {
    what: "undefined options",
    options: () => undefined,
    error: TypeError,
    message: /options must be an object, got undefined/,
  },
  {
    what: "a missing url",
    options: () => ({}),
    error: TypeError,
    message: /the option "url" is required/,
  },
  {
    what: "a url that is a number",
    options: () => ({ url: 42 }),
    error: TypeError,
    message: /"url" must be a string or URL, got 42/,
  },
  {
    what: 'an ftp: url ("ftp://x")',
    options: () => ({ url: "ftp://x" }),
    error: SyntaxError,
    message: /"url" must use ws: or wss:, got ftp:/,
  },
  {
    what: "a file: url as a URL object",
    options: () => ({ url: new URL("file:///tmp/x") }),
    error: SyntaxError,
    message: /must use ws: or wss:, got file:/,
  },
  {
    what: '"not a url"',
    options: () => ({ url: "not a url" }),
    error: SyntaxError,
    message: /"url" is not a valid URL: "not a url"/,
  },
  // A refused URL is quoted with its user info, query values and fragment as `***`, by string
  // rules when it does not parse: no password or token in the message, nor in a cause.
  {
    what: "an unparsable url with a password and a token",
    options: () => ({ url: "ws://bob:hunter2@[bad/?token=s3cr3t" }),
    error: SyntaxError,
    message:
      /^Cannot start the client as "url" is not a valid URL: "ws:\/\/\*\*\*@\[bad\/\?token=\*\*\*"$/,
  },
  {
    what: "a url with a password and a port out of range",
    options: () => ({ url: "ws://bob:hunter2@127.0.0.1:99999/" }),
    error: SyntaxError,
    message:
      /^Cannot start the client as "url" is not a valid URL: "ws:\/\/\*\*\*@127\.0\.0\.1:99999\/"$/,
  },
  {
    what: "an ftp: url with a password and a token",
    options: () => ({ url: "ftp://bob:hunter2@127.0.0.1/?token=s3cr3t" }),
    error: SyntaxError,
    message:
      /^Cannot start the client as "url" must use ws: or wss:, got ftp: in "ftp:\/\/\*\*\*@127\.0\.0\.1\/\?token=\*\*\*"$/,
  },
  {
    what: "a url with a password in a fragment",
    options: () => ({ url: "ws://127.0.0.1/ws#access_token=s3cr3t" }),
    error: SyntaxError,
    message:
      /^Cannot start the client as "url" may not have a fragment, .*"ws:\/\/127\.0\.0\.1\/ws#\*\*\*"$/,
  },
  {
    what: "a url with a fragment",
    options: (u) => ({ url: `${u}#frag` }),
    error: SyntaxError,
    message: /may not have a fragment/,
  },
  {
    what: "a url with an empty fragment",
    options: (u) => ({ url: `${u}#` }),
    error: SyntaxError,
    message: /may not have a fragment/,
  },
  {
    what: "headers that are a string",
    options: (u) => ({ url: u, headers: "x: y" }),
    error: TypeError,
    message: /"headers" must be an object, an iterable of pairs or Headers/,
  },
  {
    what: "a header pair of three",
    options: (u) => ({ url: u, headers: [["a", "b", "c"]] }),
    error: TypeError,
    message: /each header must be a \[name, value\] pair/,
  },
  {
    what: "a header value that is a number",
    options: (u) => ({ url: u, headers: { "x-n": 1 } }),
    error: TypeError,
    message: /header names and values must be strings/,
  },
  {
    what: "a header value with CR LF",
    options: (u) => ({ url: u, headers: { "x-a": "ok\r\nInjected: yes" } }),
    error: TypeError,
    message: /the header "x-a" contains CR, LF or NUL/,
  },
  {
    what: "a header value with a bare LF",
    options: (u) => ({ url: u, headers: [["x-a", "a\nb"]] }),
    error: TypeError,
    message: /contains CR, LF or NUL/,
  },
  {
    what: "a header name with CR",
    options: (u) => ({ url: u, headers: { "x-a\r": "v" } }),
    error: TypeError,
    message: /contains CR, LF or NUL/,
  },
  {
    what: "a header name with LF",
    options: (u) => ({ url: u, headers: [["x\nb", "v"]] }),
    error: TypeError,
    message: /contains CR, LF or NUL/,
  },
  {
    what: "a header value with NUL",
    options: (u) => ({ url: u, headers: { "x-a": "a\0b" } }),
    error: TypeError,
    message: /contains CR, LF or NUL/,
  },
  {
    what: "a header name with a space",
    options: (u) => ({ url: u, headers: { "x a": "v" } }),
    error: TypeError,
    message: /"x a" is not a valid header name/,
  },
  ...[
    "Sec-WebSocket-Key",
    "sec-websocket-version",
    "Connection",
    "upgrade",
    "SEC-WEBSOCKET-EXTENSIONS",
    "sec-websocket-accept",
  ]
    .map((name): Refusal => ({
      what: `the reserved header ${name}`,
      options: (u) => ({ url: u, headers: { [name]: "x" } }),
      error: TypeError,
      message: new RegExp(`the header "${name}" is set by the client itself$`),
    })),
  {
    what: "Sec-WebSocket-Protocol as a header (hint: subprotocols)",
    options: (u) => ({ url: u, headers: new Headers({ "Sec-WebSocket-Protocol": "chat" }) }),
    error: TypeError,
    message: /is set by the client itself \(use the "subprotocols" option\)/,
  },
  {
    what: "subprotocols that are a string",
    options: (u) => ({ url: u, subprotocols: "chat" }),
    error: TypeError,
    message: /"subprotocols" must be an array of strings/,
  },
  {
    what: "a subprotocol that is a number",
    options: (u) => ({ url: u, subprotocols: [1] }),
    error: TypeError,
    message: /each subprotocol must be a string, got 1/,
  },
  {
    what: "a subprotocol with a space",
    options: (u) => ({ url: u, subprotocols: ["a b"] }),
    error: SyntaxError,
    message: /"a b" is not a valid subprotocol token/,
  },
  {
    what: "an empty subprotocol",
    options: (u) => ({ url: u, subprotocols: [""] }),
    error: SyntaxError,
    message: /"" is not a valid subprotocol token/,
  },
  {
    what: "a subprotocol with a comma",
    options: (u) => ({ url: u, subprotocols: ["a,b"] }),
    error: SyntaxError,
    message: /not a valid subprotocol token/,
  },
  {
    what: "a duplicated subprotocol",
    options: (u) => ({ url: u, subprotocols: ["chat", "v2", "chat"] }),
    error: SyntaxError,
    message: /the subprotocol "chat" is listed twice/,
  },
  {
    what: "connectTimeout 0",
    options: (u) => ({ url: u, connectTimeout: 0 }),
    error: RangeError,
    message: /"connectTimeout" must be above 0 and at most 2147483647 ms \(or Infinity\), got 0/,
  },
  {
    what: "connectTimeout -1",
    options: (u) => ({ url: u, connectTimeout: -1 }),
    error: RangeError,
    message: /"connectTimeout" must be above 0.*got -1/,
  },
  {
    what: "connectTimeout -Infinity",
    options: (u) => ({ url: u, connectTimeout: -Infinity }),
    error: RangeError,
    message: /got -Infinity/,
  },
  {
    what: "connectTimeout above the timer limit",
    options: (u) => ({ url: u, connectTimeout: 2 ** 31 }),
    error: RangeError,
    message: /"connectTimeout" must be above 0 and at most 2147483647/,
  },
  {
    what: "connectTimeout NaN",
    options: (u) => ({ url: u, connectTimeout: NaN }),
    error: TypeError,
    message: /"connectTimeout" must be a number of milliseconds, got NaN/,
  },
  {
    what: 'connectTimeout "10"',
    options: (u) => ({ url: u, connectTimeout: "10" }),
    error: TypeError,
    message: /"connectTimeout" must be a number of milliseconds, got "10"/,
  },
  {
    what: "closeTimeout 0",
    options: (u) => ({ url: u, closeTimeout: 0 }),
    error: RangeError,
    message: /"closeTimeout" must be above 0/,
  },
  {
    what: "reconnect as a string",
    options: (u) => ({ url: u, reconnect: "yes" }),
    error: TypeError,
    message: /"reconnect" must be true, false or an object/,
  },
  {
    what: "reconnect as an array",
    options: (u) => ({ url: u, reconnect: [] }),
    error: TypeError,
    message: /"reconnect" must be true, false or an object, got an array/,
  },
  {
    what: "reconnect { baseDelay: -1 }",
    options: (u) => ({ url: u, reconnect: { baseDelay: -1 } }),
    error: RangeError,
    message: /"reconnect.baseDelay" must be from 0 to 2147483647 ms, got -1/,
  },
  {
    what: "reconnect { baseDelay: Infinity }",
    options: (u) => ({ url: u, reconnect: { baseDelay: Infinity } }),
    error: RangeError,
    message: /"reconnect.baseDelay" must be from 0/,
  },
  {
    what: 'reconnect { baseDelay: "1" }',
    options: (u) => ({ url: u, reconnect: { baseDelay: "1" } }),
    error: TypeError,
    message: /"reconnect.baseDelay" must be a number of milliseconds/,
  },
  {
    what: "reconnect maxDelay below baseDelay",
    options: (u) => ({ url: u, reconnect: { baseDelay: 2000, maxDelay: 1000 } }),
    error: RangeError,
    message: /"reconnect.maxDelay" \(1000\) is below "reconnect.baseDelay" \(2000\)/,
  },
  {
    what: "reconnect { maxRetries: 1.5 }",
    options: (u) => ({ url: u, reconnect: { maxRetries: 1.5 } }),
    error: RangeError,
    message: /"reconnect.maxRetries" must be a whole number of 0 or more \(or Infinity\), got 1.5/,
  },
  {
    what: "reconnect { maxRetries: -1 }",
    options: (u) => ({ url: u, reconnect: { maxRetries: -1 } }),
    error: RangeError,
    message: /"reconnect.maxRetries" must be a whole number/,
  },
  {
    what: "reconnect { random: 0.5 }",
    options: (u) => ({ url: u, reconnect: { random: 0.5 } }),
    error: TypeError,
    message: /"reconnect.random" must be a function/,
  },
  {
    what: "an unknown reconnect key",
    options: (u) => ({ url: u, reconnect: { base_delay: 10 } }),
    error: TypeError,
    message: /the reconnect option "base_delay" is unknown/,
  },
  {
    what: "maxQueuedFrames 1.5",
    options: (u) => ({ url: u, maxQueuedFrames: 1.5 }),
    error: RangeError,
    message: /"maxQueuedFrames" must be a whole number/,
  },
  {
    what: "maxQueuedBytes -1",
    options: (u) => ({ url: u, maxQueuedBytes: -1 }),
    error: RangeError,
    message: /"maxQueuedBytes" must be a whole number/,
  },
  {
    what: 'maxQueuedBytes "1"',
    options: (u) => ({ url: u, maxQueuedBytes: "1" }),
    error: TypeError,
    message: /"maxQueuedBytes" must be a number/,
  },
  {
    what: "an unknown key",
    options: (u) => ({ url: u, retries: 3 }),
    error: TypeError,
    message: /the option "retries" is unknown$/,
  },
  {
    what: 'an unknown key named like an object property ("constructor"): no hint',
    options: (u) => ({ url: u, constructor: 1 }),
    error: TypeError,
    message: /the option "constructor" is unknown$/,
  },
  {
    what: 'the unknown key "protocols" (with its hint)',
    options: (u) => ({ url: u, protocols: ["chat"] }),
    error: TypeError,
    message:
      /the option "protocols" is unknown \(WebSocket subprotocols are "subprotocols"; the HTTP version is always HTTP\/1\.1\)/,
  },
  {
    what: 'the unknown key "connect_timeout" (with its hint)',
    options: (u) => ({ url: u, connect_timeout: 10 }),
    error: TypeError,
    message: /the option "connect_timeout" is unknown \(did you mean "connectTimeout"\?\)/,
  },
  {
    what: "a logger that is a function",
    options: (u) => ({ url: u, logger: () => {} }),
    error: TypeError,
    message: /"logger" must be an object with debug, info, warn and error methods/,
  },
  {
    what: "a logger without error",
    options: (u) => ({ url: u, logger: { debug() {}, info() {}, warn() {} } }),
    error: TypeError,
    message: /"logger" has no error method/,
  },
  {
    what: "a logger without debug",
    options: (u) => ({ url: u, logger: { info() {}, warn() {}, error() {} } }),
    error: TypeError,
    message: /"logger" has no debug method/,
  },
  {
    what: "a signal that is not an AbortSignal",
    options: (u) => ({ url: u, signal: { aborted: false, addEventListener() {} } }),
    error: TypeError,
    message: /"signal" must be an AbortSignal, got an object/,
  },
  {
    what: 'transport "tcp" (no such transport)',
    options: (u) => ({ url: u, transport: "tcp" }),
    error: TypeError,
    message: /"transport" must be "auto", "web" or "socket", got "tcp"/,
  },
  {
    what: "limits that are not an object",
    options: (u) => ({ url: u, limits: 1024 }),
    error: TypeError,
    message: /"limits" must be an object, got 1024/,
  },
  {
    what: "an unknown limits key",
    options: (u) => ({ url: u, limits: { maxPayload: 10 } }),
    error: TypeError,
    message: /the limits option "maxPayload" is unknown/,
  },
  {
    what: "limits.maxMessageSize 0",
    options: (u) => ({ url: u, limits: { maxMessageSize: 0 } }),
    error: RangeError,
    message:
      /^Cannot start the client as "limits.maxMessageSize" must be a whole number of 1 or more \(or Infinity\), got 0$/,
  },
  {
    what: "limits.maxFrameSize 1.5",
    options: (u) => ({ url: u, limits: { maxFrameSize: 1.5 } }),
    error: RangeError,
    message: /"limits.maxFrameSize" must be a whole number/,
  },
  {
    what: 'limits.maxFragments "10"',
    options: (u) => ({ url: u, limits: { maxFragments: "10" } }),
    error: TypeError,
    message: /"limits.maxFragments" must be a number, got "10"/,
  },
  {
    what: "top-level maxMessageSize (with a hint to limits)",
    options: (u) => ({ url: u, maxMessageSize: 10 }),
    error: TypeError,
    message: /"maxMessageSize" is unknown \(receive limits go in "limits"/,
  },
  {
    what: "transportOptions that are not an object",
    options: (u) => ({ url: u, transportOptions: true }),
    error: TypeError,
    message: /"transportOptions" must be an object, got true/,
  },
  {
    what: "a TLS key directly in transportOptions (with a hint to tls)",
    options: (u) => ({ url: u, transportOptions: { ca: PEM } }),
    error: TypeError,
    message: /transportOptions option "ca" is unknown \(TLS settings go in/,
  },
  {
    what: "transportOptions.tls that is not an object",
    options: (u) => ({ url: u, transportOptions: { tls: "on" } }),
    error: TypeError,
    message: /"transportOptions.tls" must be an object, got "on"/,
  },
  {
    what: "rejectUnauthorized (with a hint to the loud name)",
    options: (u) => ({ url: u, transportOptions: { tls: { rejectUnauthorized: false } } }),
    error: TypeError,
    message:
      /"rejectUnauthorized" is unknown \(did you mean "dangerouslyAcceptInvalidCertificates"/,
  },
  {
    what: "a ca that is not PEM",
    options: (u) => ({ url: u, transportOptions: { tls: { ca: "not a cert" } } }),
    error: TypeError,
    message: /"transportOptions.tls.ca" must be a PEM string/,
  },
  {
    what: "a ca list with a number",
    options: (u) => ({ url: u, transportOptions: { tls: { ca: [PEM, 42] } } }),
    error: TypeError,
    message: /"transportOptions.tls.ca" must be a PEM string, got 42/,
  },
  {
    what: "a client cert without its key",
    options: (u) => ({ url: u, transportOptions: { tls: { cert: PEM } } }),
    error: TypeError,
    message: /needs both "cert" and "key"/,
  },
  {
    what: 'minVersion "TLSv1.1"',
    options: (u) => ({ url: u, transportOptions: { tls: { minVersion: "TLSv1.1" } } }),
    error: TypeError,
    message: /"transportOptions.tls.minVersion" must be "TLSv1.2" or "TLSv1.3", got "TLSv1.1"/,
  },
  {
    what: "a serverName with a space",
    options: (u) => ({ url: u, transportOptions: { tls: { serverName: "a b" } } }),
    error: TypeError,
    message: /"transportOptions.tls.serverName" must be a host name/,
  },
  {
    what: 'dangerouslyAcceptInvalidCertificates "yes"',
    options: (u) => ({
      url: u,
      transportOptions: { tls: { dangerouslyAcceptInvalidCertificates: "yes" } },
    }),
    error: TypeError,
    message: /"transportOptions.tls.dangerouslyAcceptInvalidCertificates" must be a boolean/,
  },
  ...([["42", 42], ["null", null], ["{}", {}], ["true", true], ["{ name: 'x' }", {
    name: "x",
  }]] as const)
    .map(([label, name]): Refusal => ({
      what: `the name ${label}`,
      options: (u) => ({ url: u, name }),
      error: TypeError,
      message:
        /^Cannot start the client as the name must be a non-empty string, a symbol, \{ global: string \} or \{ via: registry, key \}, got /,
    })),
  {
    what: 'compression "yes"',
    options: (u) => ({ url: u, compression: "yes" }),
    error: TypeError,
    message: /"compression" must be true, false or an object, got "yes"/,
  },
  {
    what: "compression null",
    options: (u) => ({ url: u, compression: null }),
    error: TypeError,
    message: /"compression" must be true, false or an object, got null/,
  },
  {
    what: "an unknown compression option",
    options: (u) => ({ url: u, compression: { memLevel: 9 } }),
    error: TypeError,
    message: /the compression option "memLevel" is unknown/,
  },
  {
    what: "a misspelt window size",
    options: (u) => ({ url: u, compression: { maxWindowBits: 10 } }),
    error: TypeError,
    message:
      /"maxWindowBits" is unknown \(window sizes are "serverMaxWindowBits" and "clientMaxWindowBits"\)/,
  },
  {
    what: "the perMessageDeflate option of npm:ws",
    options: (u) => ({ url: u, perMessageDeflate: true }),
    error: TypeError,
    message: /the option "perMessageDeflate" is unknown \(did you mean "compression"\?\)/,
  },
  ...(["serverNoContextTakeover", "clientNoContextTakeover"] as const).map((key): Refusal => ({
    what: `compression.${key} 1`,
    options: (u) => ({ url: u, compression: { [key]: 1 } }),
    error: TypeError,
    message: new RegExp(`"compression\\.${key}" must be a boolean, got 1`),
  })),
  ...([
    ["serverMaxWindowBits", 7],
    ["serverMaxWindowBits", 16],
    ["clientMaxWindowBits", 9.5],
    ["clientMaxWindowBits", 0],
    ["level", -1],
    ["level", 10],
  ] as const).map(([key, value]): Refusal => ({
    what: `compression.${key} ${value}`,
    options: (u) => ({ url: u, compression: { [key]: value } }),
    error: RangeError,
    message: new RegExp(
      `"compression\\.${key}" must be a whole number from \\d+ to \\d+, got ${value}`,
    ),
  })),
  ...([["clientMaxWindowBits", "15"], ["level", NaN]] as const).map(([key, value]): Refusal => ({
    what: `compression.${key} ${String(value)}`,
    options: (u) => ({ url: u, compression: { [key]: value } }),
    error: TypeError,
    message: new RegExp(`"compression\\.${key}" must be a number`),
  })),
  {
    what: "a negative compression threshold",
    options: (u) => ({ url: u, compression: { threshold: -1 } }),
    error: RangeError,
    message: /"compression\.threshold" must be a whole number of 0 or more/,
  },
  {
    what: "a compression threshold that is a string",
    options: (u) => ({ url: u, compression: { threshold: "1k" } }),
    error: TypeError,
    message: /"compression\.threshold" must be a number, got "1k"/,
  },
  {
    what: 'heartbeat "on"',
    options: (u) => ({ url: u, heartbeat: "on" }),
    error: TypeError,
    message: /"heartbeat" must be true, false or an object, got "on"/,
  },
  {
    what: "a heartbeat interval of 0",
    options: (u) => ({ url: u, heartbeat: { interval: 0 } }),
    error: RangeError,
    message: /"heartbeat.interval" must be above 0/,
  },
  {
    what: "a heartbeat timeout that is a string",
    options: (u) => ({ url: u, heartbeat: { timeout: "5s" } }),
    error: TypeError,
    message: /"heartbeat.timeout" must be a number of milliseconds, got "5s"/,
  },
  {
    what: "an infinite heartbeat interval",
    options: (u) => ({ url: u, heartbeat: { interval: Infinity } }),
    error: RangeError,
    message: /"heartbeat.interval" must be above 0 and at most/,
  },
  {
    what: "an unknown heartbeat key",
    options: (u) => ({ url: u, heartbeat: { every: 1000 } }),
    error: TypeError,
    message: /the heartbeat option "every" is unknown/,
  },
  {
    what: "a heartbeat message that is a ping frame",
    options: (u) => ({ url: u, heartbeat: { message: { type: "ping" } } }),
    error: TypeError,
    message: /"heartbeat.message" must be a text or binary frame/,
  },
  {
    what: "a heartbeat message that is a string",
    options: (u) => ({ url: u, heartbeat: { message: "ping" } }),
    error: TypeError,
    message: /"heartbeat.message" must be a text or binary frame/,
  },
  {
    what: "pingInterval (a hint to heartbeat)",
    options: (u) => ({ url: u, pingInterval: 1000 }),
    error: TypeError,
    message: /the option "pingInterval" is unknown \(pings are the "heartbeat"/,
  },
  {
    what: "receiveBuffer of 100 bytes",
    options: (u) => ({ url: u, receiveBuffer: 100 }),
    error: RangeError,
    message:
      /^Cannot start the client as "receiveBuffer" must be a whole number of 1024 or more \(or Infinity\), got 100$/,
  },
  {
    what: "receiveBuffer of -1 (the same message as for 100: the whole rule)",
    options: (u) => ({ url: u, receiveBuffer: -1 }),
    error: RangeError,
    message:
      /^Cannot start the client as "receiveBuffer" must be a whole number of 1024 or more \(or Infinity\), got -1$/,
  },
  {
    what: "receiveBuffer that is a string",
    options: (u) => ({ url: u, receiveBuffer: "4MiB" }),
    error: TypeError,
    message: /"receiveBuffer" must be a number/,
  },
  {
    what: "a negative reconnect.minUptime",
    options: (u) => ({ url: u, reconnect: { minUptime: -1 } }),
    error: RangeError,
    message: /"reconnect.minUptime" must be from 0 to/,
  },
  {
    what: "a reconnect.maxElapsed of 0",
    options: (u) => ({ url: u, reconnect: { maxElapsed: 0 } }),
    error: RangeError,
    message: /"reconnect.maxElapsed" must be above 0/,
  },
  {
    what: "a reconnect.maxRetryAfter that is a string",
    options: (u) => ({ url: u, reconnect: { maxRetryAfter: "1m" } }),
    error: TypeError,
    message: /"reconnect.maxRetryAfter" must be a number of milliseconds/,
  },
  {
    what: 'reconnect.retryPermanent "no"',
    options: (u) => ({ url: u, reconnect: { retryPermanent: "no" } }),
    error: TypeError,
    message: /"reconnect.retryPermanent" must be a boolean, got "no"/,
  },
  {
    what: 'the name ""',
    options: (u) => ({ url: u, name: "" }),
    error: TypeError,
    message: /^Cannot start the client as the name is an empty string$/,
  },
  {
    what: "a global name that is not a string",
    options: (u) => ({ url: u, name: { global: 1 } }),
    error: TypeError,
    message: /^Cannot start the client as the global name must be a non-empty string, got 1$/,
  },
  {
    what: "a via name whose registry lacks whereis",
    options: (u) => ({ url: u, name: { via: { register() {}, unregister() {} }, key: "k" } }),
    error: TypeError,
    message:
      /^Cannot start the client as the name's via registry lacks register, unregister or whereis$/,
  },
];

/** Asserts the public start rejects; stops a client that started by mistake. */
async function publicRefuses(r: Refusal, url: string): Promise<void> {
  const def = defineClient({});
  let started: Awaited<ReturnType<typeof def.start>> | undefined;
  await assert.rejects(
    async () => {
      started = await def.start(null, r.options(url) as ClientOptions);
    },
    (e: unknown) => {
      assert.ok(e instanceof r.error, `expected ${r.error.name}, got ${String(e)}`);
      assert.equal((e as Error).constructor, r.error, `exactly ${r.error.name}`);
      assert.match((e as Error).message, r.message);
      for (let c: unknown = e; c instanceof Error; c = c.cause) {
        assert.doesNotMatch(`${c.message}\n${c.stack}`, /hunter2|s3cr3t/, "no secret in it");
      }
      return true;
    },
  );
  if (started !== undefined) await started.stop();
}

for (const r of REFUSALS) {
  Deno.test(`options: start refuses ${r.what} with ${r.error.name}, before connecting`, async () => {
    await publicRefuses(r, URL_OK);
    // The same options through the internal entry point with a scripted connector: no connect.
    const connector = new ScriptedConnector();
    await assert.rejects(() => startClient({}, null, r.options(URL_OK), { connector }), r.error);
    await settle(1);
    assert.equal(connector.connections.length, 0);
  });
}

Deno.test("options: refused starts never reach a real server (its requests list stays empty)", async () => {
  await using server = await startWsServer();
  for (const r of REFUSALS) await publicRefuses(r, server.url("/ws"));
  await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(server.requests, []);
  // The probe works: a valid start does reach it.
  await using _conn = await defineClient({}).start(null, { url: server.url("/ws"), logger: quiet });
  for (let i = 0; i < 100 && server.requests.length === 0; i++) {
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal(server.requests.length, 1);
});

Deno.test("options: an already-aborted signal rejects with its reason and starts nothing", async () => {
  const reason = new Error("cancelled before start");
  const signal = AbortSignal.abort(reason);
  await assert.rejects(
    () => defineClient({}).start(null, { url: URL_OK, signal, name: "aborted-early" }),
    (e) => e === reason,
  );
  assert.equal(whereis("aborted-early"), undefined);
  const connector = new ScriptedConnector();
  let initRan = false;
  await assert.rejects(
    () =>
      startClient({ init: (a: unknown) => (initRan = true, { action: "ok", state: a }) }, null, {
        url: URL_OK,
        signal,
      }, { connector }),
    (e) => e === reason,
  );
  await settle(1);
  assert.equal(connector.connections.length, 0);
  assert.equal(initRan, false);
});

Deno.test("options: a signal aborted while init runs rejects with its reason and starts nothing", async () => {
  const ac = new AbortController();
  const connector = new ScriptedConnector();
  const reason = new Error("late");
  await assert.rejects(
    () =>
      startClient(
        {
          init: (a: unknown) => {
            ac.abort(reason);
            return { action: "ok", state: a };
          },
        },
        null,
        { url: URL_OK, signal: ac.signal, name: "aborted-in-init", logger: quiet },
        {
          connector,
        },
      ),
    (e) => e === reason,
  );
  await settle(1);
  assert.equal(connector.connections.length, 0);
  assert.equal(whereis("aborted-in-init"), undefined);
});

// --- accepted options, seen by the connector ---

async function paramsFor(options: Record<string, unknown>) {
  const connector = new ScriptedConnector();
  await using _conn = await startClient({}, null, { logger: quiet, ...options }, { connector });
  return (await connector.connection(1)).params;
}

Deno.test("options: http: and https: are accepted and mapped to ws: and wss:", async () => {
  assert.equal(
    (await paramsFor({ url: "http://example.com/a?b=1" })).url.href,
    "ws://example.com/a?b=1",
  );
  assert.equal((await paramsFor({ url: "https://example.com/a" })).url.href, "wss://example.com/a");
  assert.equal(
    (await paramsFor({ url: new URL("wss://example.com:8443/") })).url.href,
    "wss://example.com:8443/",
  );
  // End to end: an http: URL reaches a WebSocket server.
  await using server = await startWsServer();
  const opened = Promise.withResolvers<void>();
  await using _conn = await defineClient({ handleConnect: () => opened.resolve() }).start(null, {
    url: server.url("/ws").replace(/^ws:/, "http:"),
    logger: quiet,
  });
  await opened.promise;
  assert.equal(server.requests.length, 1);
});

Deno.test("options: headers as a record, pairs or Headers reach the transport", async () => {
  assert.deepEqual(
    (await paramsFor({ url: URL_OK, headers: { authorization: "Bearer x" } })).headers,
    [
      ["authorization", "Bearer x"],
    ],
  );
  assert.deepEqual(
    (await paramsFor({ url: URL_OK, headers: [["x-a", "1"], ["x-a", "2"]] })).headers,
    [["x-a", "1"], ["x-a", "2"]],
  );
  assert.deepEqual(
    (await paramsFor({ url: URL_OK, headers: new Headers({ "X-B": "v" }) })).headers,
    [["x-b", "v"]],
  );
});

Deno.test("options: subprotocols and closeTimeout reach the transport; Infinity timeouts are accepted", async () => {
  const p = await paramsFor({
    url: URL_OK,
    subprotocols: ["chat", "v2.json"],
    closeTimeout: 1234,
    connectTimeout: Infinity,
  });
  assert.deepEqual(p.subprotocols, ["chat", "v2.json"]);
  assert.equal(p.closeTimeout, 1234);
  assert.equal((await paramsFor({ url: URL_OK, closeTimeout: Infinity })).closeTimeout, Infinity);
});

Deno.test("options: compression reaches the transport: on by default and with true, off with false, settings filled in", async () => {
  const defaults = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
    threshold: 1024,
    level: 1,
  };
  assert.deepEqual((await paramsFor({ url: URL_OK })).compression, defaults);
  assert.deepEqual((await paramsFor({ url: URL_OK, compression: true })).compression, defaults);
  assert.equal((await paramsFor({ url: URL_OK, compression: false })).compression, undefined);
  assert.deepEqual((await paramsFor({ url: URL_OK, compression: {} })).compression, defaults);
  const all = {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 8,
    clientMaxWindowBits: 15,
    threshold: 0,
    level: 9,
  };
  assert.deepEqual((await paramsFor({ url: URL_OK, compression: all })).compression, all);
  assert.deepEqual(
    (await paramsFor({ url: URL_OK, compression: { threshold: Infinity, level: 0 } })).compression,
    { ...defaults, threshold: Infinity, level: 0 },
  );
});

Deno.test("options: defaults and boundary values are accepted", async () => {
  for (
    const extra of [
      { reconnect: true },
      { reconnect: false },
      { reconnect: {} },
      { reconnect: { baseDelay: 0, maxDelay: 0, maxRetries: 0 } },
      { reconnect: { maxRetries: Infinity, random: () => 0.5 } },
      { maxQueuedFrames: 0, maxQueuedBytes: 0 },
      { maxQueuedFrames: Infinity, maxQueuedBytes: Infinity },
      { connectTimeout: 2 ** 31 - 1 },
      { transport: "web" },
      { transport: "auto" },
      { name: Symbol("s") },
      { heartbeat: true },
      { heartbeat: false },
      { heartbeat: { interval: 1, timeout: 2 ** 31 - 1 } },
      { heartbeat: { message: { type: "binary", data: new Uint8Array(3) } } },
      { receiveBuffer: 1024 },
      { receiveBuffer: Infinity },
      {
        reconnect: { minUptime: 0, maxElapsed: Infinity, maxRetryAfter: 0, retryPermanent: false },
      },
      { reconnect: { maxElapsed: 60_000 } },
    ]
  ) {
    await paramsFor({ url: URL_OK, ...extra });
  }
});

Deno.test("options: clients started with the same options share one parsed config (and URL); any difference gets its own", async () => {
  const { parseOptions } = await import("../../src/client/_options.ts");
  const logger = recordingLogger();
  const a = parseOptions({ url: "ws://example.com/a", connectTimeout: 1000, logger });
  const b = parseOptions({ url: "ws://example.com/a", connectTimeout: 1000, logger });
  assert.equal(a, b, "the same settings: one config");
  assert.equal(a.url, b.url);
  const c = parseOptions({ url: "ws://example.com/a", connectTimeout: 2000, logger });
  assert.notEqual(c, a, "another connect timeout");
  assert.equal(c.connectTimeout, 2000);
  assert.equal(c.url, a.url, "the same URL text: one URL");
  const d = parseOptions({ url: "ws://example.com/b", connectTimeout: 2000, logger });
  assert.notEqual(d, c, "another URL");
  assert.equal((d.url as URL).pathname, "/b");
  const e = parseOptions({ url: "ws://example.com/b", connectTimeout: 2000 });
  assert.notEqual(e, d, "another logger (the default)");
  assert.notEqual(e.logger, logger);
});

Deno.test("options: debug lines are made only for a logger that may print them (not the default or the silent one)", async () => {
  const { dropsDebug } = await import("../../src/client/_options.ts");
  const { defaultLogger, silentLogger } = await import("../../src/client/logger.ts");
  assert.equal(dropsDebug(defaultLogger), true);
  assert.equal(dropsDebug(silentLogger), true);
  assert.equal(dropsDebug({ ...defaultLogger }), true, "a copy keeps the default's debug");
  assert.equal(dropsDebug(console), false);
  const logger = recordingLogger();
  assert.equal(dropsDebug(logger), false);
  // A client with a logger that prints debug lines still gets them.
  await using server = await startWsServer();
  const Client = defineClient({});
  const conn = await Client.start(null, { url: server.url(), transport: "socket", logger });
  await conn.ready();
  await conn.stop();
  assert.ok(
    logger.messages.some((l) => l.level === "debug" && /reached without a proxy/.test(l.message)),
  );
  assert.ok(logger.messages.some((l) => l.level === "debug" && /stopped: /.test(l.message)));
});
