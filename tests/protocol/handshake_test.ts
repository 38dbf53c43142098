import assert from "node:assert/strict";
import fc from "npm:fast-check@4.11.0";
import { HandshakeError } from "../../src/vocabulary/handshake_error.ts";
import {
  acceptFor,
  buildRequest,
  MAX_RESPONSE_HEAD,
  type RequestParams,
  ResponseParser,
  type ResponseParser as Parser,
  type ResponseResult,
  type Upgrade,
} from "../../src/protocol/handshake.ts";
import { concat, hex, latin1, utf8 } from "./_helpers.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const URL_TEXT = "ws://example.com/chat";

function request(overrides: Partial<RequestParams> & { url?: URL } = {}): string {
  return buildRequest({
    url: new URL(URL_TEXT),
    key: KEY,
    headers: [],
    subprotocols: [],
    ...overrides,
  });
}

/** The request's header lines (after the request line), as [name, value] pairs. */
function requestHeaders(text: string): Array<[string, string]> {
  assert.ok(text.endsWith("\r\n\r\n"), "ends with an empty line");
  const lines = text.slice(0, -4).split("\r\n").slice(1);
  return lines.map((l) => {
    const i = l.indexOf(": ");
    return [l.slice(0, i), l.slice(i + 2)];
  });
}

function headerValues(text: string, name: string): string[] {
  return requestHeaders(text).filter(([k]) => k.toLowerCase() === name.toLowerCase()).map((
    [, v],
  ) => v);
}

// ---------------------------------------------------------------------------------------------
// buildRequest

Deno.test("buildRequest: the minimal request, exactly", () => {
  assert.equal(
    request(),
    "GET /chat HTTP/1.1\r\n" +
      "Host: example.com\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${KEY}\r\n` +
      "Sec-WebSocket-Version: 13\r\n" +
      "\r\n",
  );
});

Deno.test("buildRequest: Host carries a non-default port and drops a default one", () => {
  const host = (url: string) => headerValues(request({ url: new URL(url) }), "host");
  assert.deepEqual(host("ws://example.com:8080/"), ["example.com:8080"]);
  assert.deepEqual(host("wss://example.com:8443/x"), ["example.com:8443"]);
  assert.deepEqual(host("ws://example.com:80/"), ["example.com"]);
  assert.deepEqual(host("wss://example.com:443/"), ["example.com"]);
  assert.deepEqual(host("wss://example.com:80/"), ["example.com:80"]);
  assert.deepEqual(host("ws://[::1]:9000/"), ["[::1]:9000"]);
  assert.deepEqual(host("ws://127.0.0.1:1234/"), ["127.0.0.1:1234"]);
});

Deno.test("buildRequest: the request target is path and query, never the fragment", () => {
  const target = (url: string) => request({ url: new URL(url) }).split("\r\n")[0];
  assert.equal(target("ws://h/a/b?x=1&y=two"), "GET /a/b?x=1&y=two HTTP/1.1");
  assert.equal(target("ws://h"), "GET / HTTP/1.1");
  assert.equal(target("ws://h?q=1"), "GET /?q=1 HTTP/1.1");
  assert.equal(target("ws://h/p#frag"), "GET /p HTTP/1.1");
  assert.equal(target("ws://h/a%20b?c=%C3%A9"), "GET /a%20b?c=%C3%A9 HTTP/1.1");
  assert.equal(target("ws://h/é"), "GET /%C3%A9 HTTP/1.1", "percent-encoded by URL");
});

Deno.test("buildRequest: subprotocols in one comma-separated header, none when none are offered", () => {
  assert.deepEqual(
    headerValues(request({ subprotocols: ["chat", "superchat"] }), "sec-websocket-protocol"),
    [
      "chat, superchat",
    ],
  );
  assert.deepEqual(headerValues(request({ subprotocols: ["one"] }), "sec-websocket-protocol"), [
    "one",
  ]);
  assert.deepEqual(headerValues(request(), "sec-websocket-protocol"), []);
});

Deno.test("buildRequest: user headers come after the protocol headers, in order, as given", () => {
  const text = request({
    headers: [["X-Trace", "abc"], ["Cookie", "a=1"], ["x-trace", "def"]],
  });
  const headers = requestHeaders(text);
  assert.deepEqual(headers.slice(-3), [["X-Trace", "abc"], ["Cookie", "a=1"], ["x-trace", "def"]]);
  assert.deepEqual(headers.slice(0, 5).map(([k]) => k), [
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
  ]);
});

Deno.test("buildRequest: a user Host header replaces the URL's (any case)", () => {
  for (const name of ["Host", "host", "HOST"]) {
    const text = request({ url: new URL("ws://10.0.0.1:8080/"), headers: [[name, "api.example"]] });
    assert.deepEqual(headerValues(text, "host"), ["api.example"], name);
  }
});

Deno.test("buildRequest: URL credentials become Authorization: Basic, percent-decoded", () => {
  const auth = (url: string, headers: Array<[string, string]> = []) =>
    headerValues(request({ url: new URL(url), headers }), "authorization");
  assert.deepEqual(auth("ws://user:secret@h/"), [`Basic ${btoa("user:secret")}`]);
  assert.deepEqual(auth("ws://user:p%40ss%3Aword@h/"), [`Basic ${btoa("user:p@ss:word")}`]);
  assert.deepEqual(auth("ws://onlyuser@h/"), [`Basic ${btoa("onlyuser:")}`]);
  assert.deepEqual(auth("ws://:pw@h/"), [`Basic ${btoa(":pw")}`]);
  // Non-ASCII credentials are sent as UTF-8.
  const utf8Basic = String.fromCharCode(...utf8("jos\u00e9:\u20ac"));
  assert.deepEqual(auth("ws://jos%C3%A9:%E2%82%AC@h/"), [`Basic ${btoa(utf8Basic)}`]);
  // Credentials never leak into Host or the request line.
  const text = request({ url: new URL("ws://user:secret@h:81/p") });
  assert.equal(text.split("\r\n")[0], "GET /p HTTP/1.1");
  assert.deepEqual(headerValues(text, "host"), ["h:81"]);
  // No credentials: no Authorization.
  assert.deepEqual(auth("ws://h/"), []);
});

Deno.test("buildRequest: a user Authorization header wins over URL credentials", () => {
  const text = request({
    url: new URL("ws://user:secret@h/"),
    headers: [["authorization", "Bearer t0k3n"]],
  });
  assert.deepEqual(headerValues(text, "authorization"), ["Bearer t0k3n"]);
});

Deno.test("buildRequest: malformed percent-escapes in URL credentials are sent as written, not thrown", () => {
  const text = request({ url: new URL("ws://a%zz:b%@h/") });
  assert.deepEqual(headerValues(text, "authorization"), [`Basic ${btoa("a%zz:b%")}`]);
});

// ---------------------------------------------------------------------------------------------
// ResponseParser

const OK_HEAD = "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
  "\r\n";

/** A response head from a status line and header lines. */
function head(status: string, ...lines: string[]): Uint8Array {
  return latin1([status, ...lines].join("\r\n") + "\r\n\r\n");
}

/** The standard 101 headers, minus those named in `without`, plus `extra`. */
function upgradeHead(extra: string[] = [], without: string[] = []): Uint8Array {
  const base = ["Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${ACCEPT}`]
    .filter((l) => !without.some((w) => l.toLowerCase().startsWith(w.toLowerCase())));
  return head("HTTP/1.1 101 Switching Protocols", ...base, ...extra);
}

function parser(offered: string[] = []): Parser {
  return new ResponseParser(KEY, offered, URL_TEXT);
}

/** Feeds chunks until a result other than "more"; returns it and the chunks left unfed. */
function feed(
  p: Parser,
  chunks: readonly Uint8Array[],
): { result: ResponseResult; left: Uint8Array[] } {
  for (let i = 0; i < chunks.length; i++) {
    const result = p.push(chunks[i]);
    if (result.kind !== "more") return { result, left: chunks.slice(i + 1) };
  }
  return { result: { kind: "more" }, left: [] };
}

function upgraded(result: ResponseResult): Upgrade {
  if (result.kind !== "upgraded") {
    assert.fail(
      `expected an upgrade, got ${result.kind}${
        result.kind === "error" ? `: ${result.error.message}` : ""
      }`,
    );
  }
  return result.upgrade;
}

function failed(result: ResponseResult): HandshakeError {
  if (result.kind !== "error") assert.fail(`expected a failure, got ${result.kind}`);
  assert.ok(result.error instanceof HandshakeError);
  assert.ok(result.error.message.includes(URL_TEXT), "the message names the URL");
  return result.error;
}

function parseWhole(data: Uint8Array, offered: string[] = []): ResponseResult {
  return parser(offered).push(data);
}

Deno.test("ResponseParser: a valid 101 upgrades, with headers, no protocol, no extensions, no rest", () => {
  const u = upgraded(parseWhole(latin1(OK_HEAD)));
  assert.equal(u.status, 101);
  assert.equal(u.protocol, "");
  assert.equal(u.extensions, "");
  assert.equal(u.rest.length, 0);
  assert.equal(u.headers.get("upgrade"), "websocket");
  assert.equal(u.headers.get("sec-websocket-accept"), ACCEPT);
});

Deno.test("ResponseParser: a valid 101 split at every byte offset, and byte by byte, upgrades the same way", () => {
  const data = latin1(OK_HEAD);
  for (let i = 0; i <= data.length; i++) {
    const p = parser();
    const first = p.push(data.subarray(0, i));
    if (i < data.length) {
      assert.equal(first.kind, "more", `split at ${i}`);
      const u = upgraded(p.push(data.subarray(i)));
      assert.equal(u.rest.length, 0);
      assert.equal(u.headers.get("connection"), "Upgrade");
    } else {
      assert.equal(upgraded(first).rest.length, 0);
    }
  }
  const p = parser();
  for (let i = 0; i < data.length - 1; i++) {
    assert.equal(p.push(data.subarray(i, i + 1)).kind, "more", `byte ${i}`);
  }
  upgraded(p.push(data.subarray(data.length - 1)));
});

Deno.test("ResponseParser: frames in the same chunk as the 101 are in rest, at every split", () => {
  const frames = hex("81 05 48 65 6c 6c 6f 89 00");
  const data = concat(latin1(OK_HEAD), frames);
  for (let i = 0; i <= data.length; i++) {
    const { result, left } = feed(parser(), [data.subarray(0, i), data.subarray(i)]);
    const u = upgraded(result);
    // What the parser kept plus what it was never fed is exactly the frames.
    assert.deepEqual(concat(u.rest, ...left), frames, `split at ${i}`);
  }
  assert.deepEqual(upgraded(parseWhole(data)).rest, frames);
});

Deno.test("ResponseParser: header names are case-insensitive and values trimmed; Upgrade/Connection tokens too", () => {
  const data = head(
    "HTTP/1.1 101 Switching Protocols",
    "upgrade:   WebSocket  ",
    "CONNECTION:\tupgrade",
    `sec-websocket-accept: ${ACCEPT}`,
  );
  upgraded(parseWhole(data));
  // A status line without a reason phrase.
  upgraded(parseWhole(head(
    "HTTP/1.1 101",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${ACCEPT}`,
  )));
});

Deno.test("ResponseParser: the headers, and the values the upgrade is checked against, are what Headers makes of the lines, whatever their case, order, repetition and length", () => {
  const name = fc.constantFrom(
    "Upgrade",
    "CONNECTION",
    "sec-websocket-protocol",
    "Sec-WebSocket-Extensions",
    "Date",
    "X-Long",
    "x-long",
    "Server",
  );
  // Visible ASCII, obs-text (0x80-0x9f too, which windows-1252 would read as other characters;
  // 0xc3 and 0xa9, which make UTF-8's "é" when they meet) and inner spaces and tabs; short and
  // longer than 64 bytes.
  const chars = [
    "a",
    "Z",
    "0",
    " ",
    "\t",
    ",",
    "=",
    "\x80",
    "\x9f",
    "\xc3",
    "\xa9",
    "\xe9",
    "\xff",
    "~",
  ];
  const value = fc.array(fc.constantFrom(...chars), {
    maxLength: 90,
    size: "max",
  }).map((chars) => chars.join(""));
  fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (extra) => {
    const lines = extra.map(([n, v]) => `${n}: ${v}`);
    // A refusal keeps every header as it parsed them; the same lines in a 101 are checked.
    const refused = failed(
      parseWhole(head("HTTP/1.1 404 Not Found", "Content-Length: 0", ...lines)),
    );
    const expected = new Headers([
      ["Content-Length", "0"],
      ...extra.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, "")] as [string, string]),
    ]);
    assert.deepEqual([...refused.headers!], [...expected]);
    const result = parseWhole(upgradeHead(lines), ["a", "b"]);
    const reference = new Headers([
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Accept", ACCEPT],
      ...extra.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, "")] as [string, string]),
    ]);
    const upgrade = reference.get("upgrade")!;
    const connection = reference.get("connection")!;
    const protocol = reference.get("sec-websocket-protocol") ?? "";
    // A list's empty elements count for nothing (RFC 9110 §5.6.1): ", " offers no extension.
    const extensions = (reference.get("sec-websocket-extensions") ?? "").split(",")
      .filter((e) => e.trim() !== "").join(",");
    const acceptable = upgrade.toLowerCase() === "websocket" &&
      connection.split(",").some((t) => t.trim().toLowerCase() === "upgrade") &&
      (protocol === "" || protocol === "a" || protocol === "b") && extensions === "";
    if (!acceptable) {
      assert.equal(result.kind, "error");
      return;
    }
    const u = upgraded(result);
    assert.equal(u.protocol, protocol);
    assert.deepEqual([...u.headers], [...reference]);
  }));
});

Deno.test("ResponseParser: header bytes are read one character a byte, also where they would make UTF-8 ('é' as 0xc3 0xa9 reads 'Ã©')", () => {
  const u = upgraded(parseWhole(upgradeHead(["X-Name: caf\xc3\xa9 \xe9"])));
  assert.equal(u.headers.get("x-name"), "caf\xc3\xa9 \xe9");
});

Deno.test("ResponseParser: a wrong Sec-WebSocket-Accept is refused", () => {
  const err = failed(parseWhole(upgradeHead([`Sec-WebSocket-Accept: ${acceptFor("other")}`], [
    "sec-websocket-accept",
  ])));
  assert.match(err.message, /Sec-WebSocket-Accept/);
  assert.match(err.message, /does not match/);
  assert.equal(err.status, 101);
  assert.ok(err.headers instanceof Headers);
});

Deno.test("ResponseParser: prepareForResponse() before the response changes no verdict: the right Sec-WebSocket-Accept upgrades, a wrong or missing one is refused", () => {
  const prepared = (data: Uint8Array) => {
    const p = parser();
    p.prepareForResponse();
    p.prepareForResponse(); // twice: the same
    return p.push(data);
  };
  assert.equal(upgraded(prepared(latin1(OK_HEAD))).headers.get("sec-websocket-accept"), ACCEPT);
  const wrong = failed(prepared(upgradeHead([`Sec-WebSocket-Accept: ${acceptFor("other")}`], [
    "sec-websocket-accept",
  ])));
  assert.match(wrong.message, /does not match/);
  assert.match(failed(prepared(upgradeHead([], ["sec-websocket-accept"]))).message, /no Sec/);
});

Deno.test("ResponseParser: a missing Sec-WebSocket-Accept is refused", () => {
  const err = failed(parseWhole(upgradeHead([], ["sec-websocket-accept"])));
  assert.match(err.message, /no Sec-WebSocket-Accept/);
});

Deno.test("ResponseParser: two Sec-WebSocket-Accept headers are refused", () => {
  failed(parseWhole(upgradeHead([`Sec-WebSocket-Accept: ${ACCEPT}`])));
});

Deno.test("ResponseParser: a missing or wrong Upgrade header is refused", () => {
  assert.match(
    failed(parseWhole(upgradeHead([], ["upgrade"]))).message,
    /Upgrade header is missing/,
  );
  assert.match(
    failed(parseWhole(upgradeHead(["Upgrade: h2c"], ["upgrade"]))).message,
    /Upgrade header is "h2c"/,
  );
  failed(parseWhole(upgradeHead(["Upgrade: websocket2"], ["upgrade"])));
});

Deno.test("ResponseParser: a missing Connection header, or one without the upgrade token, is refused", () => {
  assert.match(
    failed(parseWhole(upgradeHead([], ["connection"]))).message,
    /Connection header is missing/,
  );
  failed(parseWhole(upgradeHead(["Connection: keep-alive"], ["connection"])));
  failed(parseWhole(upgradeHead(["Connection: upgraded"], ["connection"])));
});

Deno.test("ResponseParser: Connection with several tokens ('keep-alive, Upgrade') is accepted", () => {
  upgraded(parseWhole(upgradeHead(["Connection: keep-alive, Upgrade"], ["connection"])));
  upgraded(parseWhole(upgradeHead(["Connection: Upgrade, keep-alive"], ["connection"])));
  upgraded(parseWhole(upgradeHead(["Connection: keep-alive ,  upgrade "], ["connection"])));
  // Two Connection header lines combine into one list.
  upgraded(
    parseWhole(upgradeHead(["Connection: keep-alive", "Connection: Upgrade"], ["connection"])),
  );
});

Deno.test("ResponseParser: HTTP/1.0 101 is refused", () => {
  const err = failed(parseWhole(latin1(OK_HEAD.replace("HTTP/1.1", "HTTP/1.0"))));
  assert.match(err.message, /HTTP\/1\.1/);
  assert.equal(err.status, 101);
});

Deno.test("ResponseParser: a status line that is not HTTP/1.x is refused", () => {
  for (
    const line of [
      "HTTP/2 101 Switching Protocols",
      "HTTP/1.1 1010 Switching",
      "ICY 200 OK",
      "HTTP/1.1 10 Too short",
      "http/1.1 101 lower case",
      "HTTP/1.1  101 double space",
      "",
    ]
  ) {
    const err = failed(
      parseWhole(latin1(OK_HEAD.replace("HTTP/1.1 101 Switching Protocols", line))),
    );
    assert.equal(err.status, undefined, line);
  }
});

Deno.test("ResponseParser: a subprotocol the client offered is accepted and reported", () => {
  const u = upgraded(
    parseWhole(upgradeHead(["Sec-WebSocket-Protocol: chat"]), ["superchat", "chat"]),
  );
  assert.equal(u.protocol, "chat");
});

Deno.test("ResponseParser: a subprotocol the client did not offer is refused", () => {
  const err = failed(parseWhole(upgradeHead(["Sec-WebSocket-Protocol: other"]), ["chat"]));
  assert.match(err.message, /"other", which was not offered/);
  // Several values at once are not one offered protocol.
  failed(
    parseWhole(upgradeHead(["Sec-WebSocket-Protocol: chat, superchat"]), ["chat", "superchat"]),
  );
});

Deno.test("ResponseParser: a subprotocol when none was offered is refused", () => {
  const err = failed(parseWhole(upgradeHead(["Sec-WebSocket-Protocol: chat"])));
  assert.match(err.message, /though none was offered/);
});

Deno.test("ResponseParser: any extension is refused (the client offers none); an empty header is fine", () => {
  const err = failed(parseWhole(upgradeHead(["Sec-WebSocket-Extensions: permessage-deflate"])));
  assert.match(err.message, /permessage-deflate/);
  assert.match(err.message, /did not offer/);
  assert.equal(upgraded(parseWhole(upgradeHead(["Sec-WebSocket-Extensions: "]))).extensions, "");
});

Deno.test("ResponseParser: a refusal with Content-Length keeps status, headers and body", () => {
  const body = "forbidden, go away";
  const data = concat(
    head("HTTP/1.1 403 Forbidden", "Content-Type: text/plain", `Content-Length: ${body.length}`),
    latin1(body),
  );
  const err = failed(parseWhole(data));
  assert.equal(err.status, 403);
  assert.equal(err.headers?.get("content-type"), "text/plain");
  assert.equal(err.body, body);
  assert.match(err.message, /403 Forbidden instead of 101/);
  // Waits for the whole body, whatever the chunking.
  for (let i = 1; i < data.length; i++) {
    const p = parser();
    assert.equal(p.push(data.subarray(0, i)).kind, "more", `split at ${i}`);
    const e = failed(p.push(data.subarray(i)));
    assert.equal(e.body, body, `split at ${i}`);
    assert.equal(e.status, 403);
  }
});

Deno.test("ResponseParser: a Content-Length body is cut at its length in bytes, even with UTF-8 and bytes after it", () => {
  const body = utf8("héllo wörld"); // 13 bytes, 11 characters
  const data = concat(
    head("HTTP/1.1 400 Bad Request", `Content-Length: ${body.length}`),
    body,
    latin1("HTTP/1.1 trailing garbage"),
  );
  assert.equal(failed(parseWhole(data)).body, "héllo wörld");
});

Deno.test("ResponseParser: Content-Length: 0 fails at once with an empty body", () => {
  const err = failed(parseWhole(head("HTTP/1.1 401 Unauthorized", "Content-Length: 0")));
  assert.equal(err.status, 401);
  assert.equal(err.body, "");
});

Deno.test("ResponseParser: a chunked refusal body is de-chunked", () => {
  const chunked = "5\r\nHello\r\n6;ext=1\r\n World\r\n0\r\n\r\n";
  const data = concat(
    head("HTTP/1.1 500 Internal Server Error", "Transfer-Encoding: chunked"),
    latin1(chunked),
  );
  const err = failed(parseWhole(data));
  assert.equal(err.status, 500);
  assert.equal(err.body, "Hello World");
  for (let i = 1; i < data.length; i++) {
    const p = parser();
    assert.equal(p.push(data.subarray(0, i)).kind, "more", `split at ${i}`);
    assert.equal(failed(p.push(data.subarray(i))).body, "Hello World", `split at ${i}`);
  }
});

Deno.test("ResponseParser: chunk sizes count bytes, so a chunked UTF-8 body is de-chunked intact", () => {
  const a = utf8("héllo");
  const b = utf8("→ wörld");
  const data = concat(
    head("HTTP/1.1 503 Service Unavailable", "Transfer-Encoding: chunked"),
    latin1(`${a.length.toString(16)}\r\n`),
    a,
    latin1(`\r\n${b.length.toString(16)}\r\n`),
    b,
    latin1("\r\n0\r\n\r\n"),
  );
  assert.equal(failed(parseWhole(data)).body, "héllo→ wörld");
});

Deno.test("ResponseParser: a chunk whose data ends in '0\\r\\n' does not end the chunked body early", () => {
  const data1 = concat(
    head("HTTP/1.1 500 Oops", "Transfer-Encoding: chunked"),
    latin1("5\r\nab0\r\n\r\n"), // one 5-byte chunk "ab0\r\n": looks like the last chunk's end
  );
  const p = parser();
  assert.equal(p.push(data1).kind, "more");
  assert.equal(failed(p.push(latin1("3\r\nxyz\r\n0\r\n\r\n"))).body, "ab0\r\nxyz");
});

Deno.test("ResponseParser: a chunked body with trailers ends at the trailers' empty line", () => {
  const data = concat(
    head("HTTP/1.1 500 Oops", "Transfer-Encoding: chunked"),
    latin1("2\r\nhi\r\n0\r\nX-Trailer: 1\r\n\r\n"),
  );
  assert.equal(failed(parseWhole(data)).body, "hi");
});

Deno.test("ResponseParser: a refusal without a length waits for end() and keeps the body", () => {
  const p = parser();
  assert.equal(p.push(head("HTTP/1.1 400 Bad Request", "Content-Type: text/plain")).kind, "more");
  assert.equal(p.push(latin1("not a ")).kind, "more");
  assert.equal(p.push(latin1("websocket endpoint")).kind, "more");
  const err = failed(p.end());
  assert.equal(err.status, 400);
  assert.equal(err.body, "not a websocket endpoint");
  assert.match(err.message, /400 Bad Request instead of 101/);
});

Deno.test("ResponseParser: a body-less status (204, 304) fails at once", () => {
  assert.equal(failed(parseWhole(head("HTTP/1.1 204 No Content"))).status, 204);
  assert.equal(failed(parseWhole(head("HTTP/1.1 304 Not Modified"))).status, 304);
});

Deno.test("ResponseParser: a refusal body is kept only up to 16 KiB", () => {
  const p = parser();
  p.push(head("HTTP/1.1 500 Oops"));
  const result = p.push(latin1("x".repeat(20_000)));
  const err = failed(result);
  assert.equal(err.body?.length, 16 * 1024);
});

Deno.test("ResponseParser: a 3xx with Location says the redirect is not followed", () => {
  const err = failed(parseWhole(head(
    "HTTP/1.1 302 Found",
    "Location: wss://elsewhere.example/ws",
    "Content-Length: 0",
  )));
  assert.equal(err.status, 302);
  assert.equal(err.headers?.get("location"), "wss://elsewhere.example/ws");
  assert.match(err.message, /302 Found/);
  assert.match(err.message, /wss:\/\/elsewhere\.example\/ws/);
  assert.match(err.message, /not followed/);
  // Without Location the message is still about the status.
  assert.match(
    failed(parseWhole(head("HTTP/1.1 301 Moved Permanently", "Content-Length: 0"))).message,
    /301 Moved Permanently/,
  );
});

Deno.test("ResponseParser: a redirect's Location is quoted without its credentials or query values", () => {
  const err = failed(parseWhole(head(
    "HTTP/1.1 302 Found",
    "Location: wss://bob:hunter2@elsewhere.example/ws?token=s3cr3t",
    "Content-Length: 0",
  )));
  assert.match(err.message, /redirecting to wss:\/\/\*\*\*@elsewhere\.example\/ws\?token=\*\*\*,/);
  assert.doesNotMatch(err.message, /bob|hunter2|s3cr3t/);
  // A relative Location, which does not parse on its own, by the string rules.
  const relative = failed(parseWhole(head(
    "HTTP/1.1 302 Found",
    "Location: /login?next=%2Fws&session=s3cr3t",
    "Content-Length: 0",
  )));
  assert.match(relative.message, /redirecting to \/login\?next=\*\*\*&session=\*\*\*,/);
});

Deno.test("ResponseParser: a head larger than 16 KiB is refused, whole or in many small chunks", () => {
  const big = concat(
    latin1("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"),
    latin1(`X-Padding: ${"p".repeat(MAX_RESPONSE_HEAD)}\r\n`),
    latin1(`Connection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`),
  );
  assert.match(failed(parseWhole(big)).message, /larger than 16384 bytes/);
  // Never terminated: refused once 16 KiB have arrived, without waiting for more.
  const endless = latin1("HTTP/1.1 101 Switching Protocols\r\nX: " + "a".repeat(40_000));
  const p = parser();
  let fed = 0;
  let result: ResponseResult = { kind: "more" };
  for (let i = 0; i < endless.length && result.kind === "more"; i += 7) {
    result = p.push(endless.subarray(i, i + 7));
    fed = i + 7;
  }
  assert.match(failed(result).message, /larger than 16384 bytes/);
  assert.ok(fed > MAX_RESPONSE_HEAD && fed <= MAX_RESPONSE_HEAD + 7, `refused after ${fed} bytes`);
  // The same head, complete, in small chunks.
  const q = parser();
  let r: ResponseResult = { kind: "more" };
  for (let i = 0; i < big.length && r.kind === "more"; i += 100) {
    r = q.push(big.subarray(i, i + 100));
  }
  failed(r);
});

Deno.test("ResponseParser: a head just under the bound is accepted; maxHead is configurable", () => {
  const base = OK_HEAD.length + "X-Pad: \r\n".length;
  const padded = latin1(
    OK_HEAD.replace("\r\n\r\n", `\r\nX-Pad: ${"p".repeat(MAX_RESPONSE_HEAD - base)}\r\n\r\n`),
  );
  assert.equal(padded.length, MAX_RESPONSE_HEAD);
  upgraded(parseWhole(padded));
  const small = new ResponseParser(KEY, [], URL_TEXT, 64);
  assert.match(failed(small.push(latin1(OK_HEAD))).message, /larger than 64 bytes/);
});

Deno.test("ResponseParser: header injection is refused: a bare CR inside a value", () => {
  const err = failed(parseWhole(upgradeHead(["X-Evil: a\rInjected: b"])));
  assert.match(err.message, /control characters/);
});

Deno.test("ResponseParser: header injection is refused: a bare LF inside a value", () => {
  failed(parseWhole(upgradeHead(["X-Evil: a\nSec-WebSocket-Protocol: x"])));
});

Deno.test("ResponseParser: header injection is refused: NUL and other control bytes in a value", () => {
  failed(parseWhole(upgradeHead(["X-Evil: a\0b"])));
  failed(parseWhole(upgradeHead(["X-Evil: a\x01b"])));
  failed(parseWhole(upgradeHead(["X-Evil: a\x7fb"])));
  // Tabs and obs-text are allowed inside a value.
  upgraded(parseWhole(upgradeHead(["X-Fine: a\tb \xe9"])));
});

Deno.test("ResponseParser: header injection is refused: an obs-fold continuation line", () => {
  assert.match(
    failed(parseWhole(upgradeHead(["X-Folded: first", " continued"]))).message,
    /obsolete line folding/,
  );
  failed(parseWhole(upgradeHead(["X-Folded: first", "\tcontinued"])));
});

Deno.test("ResponseParser: header injection is refused: a line without a colon", () => {
  assert.match(failed(parseWhole(upgradeHead(["NoColonHere"]))).message, /is malformed/);
  failed(parseWhole(upgradeHead([": no name"])));
});

Deno.test("ResponseParser: header injection is refused: a header name with a space or separator", () => {
  failed(parseWhole(upgradeHead(["Bad Name: x"])));
  failed(parseWhole(upgradeHead(["Upgrade : websocket"])));
  failed(parseWhole(upgradeHead(["X(y): z"])));
  failed(parseWhole(upgradeHead(["X\u00e9: z"])));
});

Deno.test("ResponseParser: malformed headers in a refusal are refused too, with the status", () => {
  const err = failed(parseWhole(head("HTTP/1.1 403 Forbidden", "Bad Name: x")));
  assert.equal(err.status, 403);
});

Deno.test("ResponseParser: end() before any byte and in the middle of the head", () => {
  assert.match(failed(parser().end()).message, /without a response/);
  const p = parser();
  assert.equal(p.push(latin1(OK_HEAD.slice(0, 40))).kind, "more");
  const err = failed(p.end());
  assert.match(err.message, /in the middle of its response/);
  assert.equal(err.status, undefined);
});

Deno.test("ResponseParser: after a result, push and end throw", () => {
  const p = parser();
  upgraded(p.push(latin1(OK_HEAD)));
  assert.throws(() => p.push(new Uint8Array(1)), /already parsed/);
  assert.throws(() => p.end(), /already parsed/);
  const q = parser();
  failed(q.end());
  assert.throws(() => q.push(new Uint8Array(1)), /already parsed/);
});
