// The CONNECT exchange (src/protocol/proxy_tunnel.ts): the request, and the parser of the proxy's
// answer, fed whole and byte by byte.
import assert from "node:assert/strict";
import {
  basicCredentials,
  connectRequest,
  TunnelParser,
  type TunnelResult,
} from "../../src/protocol/proxy_tunnel.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Feeds `text` one byte at a time; returns the first result other than "more". */
function byteByByte(text: string, parser = new TunnelParser()): TunnelResult {
  const bytes = enc(text);
  for (let i = 0; i < bytes.length; i++) {
    const r = parser.push(bytes.subarray(i, i + 1));
    if (r.kind !== "more") return r;
  }
  return { kind: "more" };
}

Deno.test("connectRequest: CONNECT host:port with a Host header, and Proxy-Authorization when given", () => {
  assert.equal(
    connectRequest("example.com:443"),
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
  );
  assert.equal(
    connectRequest("[::1]:8080", "Basic YTpi"),
    "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\nProxy-Authorization: Basic YTpi\r\n\r\n",
  );
  assert.throws(() => connectRequest("a b:1"), TypeError);
  assert.throws(() => connectRequest("a:1", "Basic x\r\nX-Evil: 1"), TypeError);
});

Deno.test("basicCredentials: user:password as UTF-8 in base64", () => {
  assert.equal(basicCredentials("alice", "secret"), "Basic YWxpY2U6c2VjcmV0");
  assert.equal(basicCredentials("", ""), "Basic Og==");
  // "ü:p@ss:w" in UTF-8: a colon in the password stays in it.
  assert.equal(basicCredentials("ü", "p@ss:w"), `Basic ${btoa("\xc3\xbc:p@ss:w")}`);
});

Deno.test("TunnelParser: a 200 answer opens the tunnel; the bytes after it belong to the tunnel", () => {
  const answer = "HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\n\r\n";
  const frame = [0x81, 0x02, 0x68, 0x69];
  const whole = new TunnelParser().push(new Uint8Array([...enc(answer), ...frame]));
  assert.ok(whole.kind === "established");
  assert.equal(whole.status, 200);
  assert.deepEqual([...whole.rest], frame);
  const split = byteByByte(answer);
  assert.ok(split.kind === "established");
  assert.equal(split.rest.length, 0);
});

Deno.test("TunnelParser: any 2xx opens the tunnel, and its Content-Length is ignored (RFC 9110 §9.3.6)", () => {
  const r = new TunnelParser().push(
    enc("HTTP/1.0 204 OK\r\nContent-Length: 5\r\n\r\nabc"),
  );
  assert.ok(r.kind === "established");
  assert.equal(r.status, 204);
  assert.equal(new TextDecoder().decode(r.rest), "abc");
});

Deno.test("TunnelParser: interim 1xx answers are skipped, the final one counts", () => {
  const text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n" +
    "HTTP/1.1 200 OK\r\n\r\n";
  assert.equal(new TunnelParser().push(enc(text)).kind, "established");
  assert.equal(byteByByte(text).kind, "established");
});

Deno.test("TunnelParser: a 407 is a refusal with its status, reason and headers; its body is not awaited", () => {
  const text = "HTTP/1.1 407 Proxy Authentication Required\r\n" +
    'Proxy-Authenticate: Basic realm="parley"\r\nContent-Length: 3000\r\n\r\n<html>';
  for (const r of [new TunnelParser().push(enc(text)), byteByByte(text)]) {
    assert.ok(r.kind === "refused", JSON.stringify(r));
    assert.equal(r.status, 407);
    assert.equal(r.reason, "Proxy Authentication Required");
    assert.equal(r.headers.get("proxy-authenticate"), 'Basic realm="parley"');
  }
  const bare = new TunnelParser().push(enc("HTTP/1.1 502\r\n\r\n"));
  assert.ok(bare.kind === "refused");
  assert.equal(bare.status, 502);
  assert.equal(bare.reason, "");
});

Deno.test("TunnelParser: what is not an HTTP/1.x answer is malformed", () => {
  for (
    const [text, pattern] of [
      ["SSH-2.0-OpenSSH_9.2\r\n\r\n", /starts with "SSH-2\.0-OpenSSH_9\.2", not HTTP\/1\.x/],
      ["HTTP/2 200\r\n\r\n", /not HTTP\/1\.x/],
      ["HTTP/1.1 200 OK\r\nbad header\r\n\r\n", /malformed header line "bad header"/],
      ["HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", /malformed header line/],
      ["HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", /malformed header line/],
    ] as const
  ) {
    const r = new TunnelParser().push(enc(text));
    assert.ok(r.kind === "malformed", `${JSON.stringify(text)}: ${JSON.stringify(r)}`);
    assert.match(r.why, pattern);
  }
});

Deno.test("TunnelParser: a head over the bound is malformed, whether or not it ends", () => {
  const long = "HTTP/1.1 200 OK\r\nX: " + "a".repeat(200);
  let r = new TunnelParser(128).push(enc(long));
  assert.ok(r.kind === "malformed");
  assert.match(r.why, /larger than 128 bytes/);
  r = new TunnelParser(128).push(enc(long + "\r\n\r\n"));
  assert.ok(r.kind === "malformed");
  assert.equal(new TunnelParser(128).push(enc("HTTP/1.1 200 OK\r\n\r\n")).kind, "established");
});

Deno.test("TunnelParser: the end before a complete answer says whether anything came", () => {
  let p = new TunnelParser();
  let r = p.end();
  assert.ok(r.kind === "malformed");
  assert.match(r.why, /closed the connection without answering CONNECT/);
  p = new TunnelParser();
  assert.equal(p.push(enc("HTTP/1.1 200")).kind, "more");
  r = p.end();
  assert.ok(r.kind === "malformed");
  assert.match(r.why, /in the middle of its answer/);
  assert.throws(() => p.push(enc("x")), /already parsed/);
});
