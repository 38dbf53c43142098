// NO_PROXY matching (src/transport/_no_proxy.ts): curl's rules, plus `*.domain` and host:port.
import assert from "node:assert/strict";
import { noProxyMatches, parseAddress } from "../../src/transport/_no_proxy.ts";

/** [NO_PROXY, URL, whether the URL's host and port are excluded]. */
const CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  // `*` alone, or as an entry, matches everything.
  ["*", "ws://example.com", true],
  ["*", "ws://127.0.0.1:9", true],
  ["foo.test, *", "ws://example.com", true],
  // A name matches itself and the names below it, with or without a leading dot.
  ["example.com", "ws://example.com", true],
  ["example.com", "ws://www.example.com", true],
  ["example.com", "ws://a.b.example.com", true],
  ["example.com", "ws://notexample.com", false],
  ["example.com", "ws://example.com.org", false],
  [".example.com", "ws://example.com", true],
  [".example.com", "ws://www.example.com", true],
  [".example.com", "ws://notexample.com", false],
  ["*.example.com", "ws://www.example.com", true],
  ["*.example.com", "ws://example.com", true],
  ["ample.com", "ws://example.com", false],
  // Case does not count; trailing dots are ignored on both sides.
  ["EXAMPLE.com", "ws://Example.COM", true],
  ["example.com.", "ws://www.example.com", true],
  ["example.com", "ws://www.example.com.", true],
  // Lists: commas and blanks separate entries, empty ones are skipped.
  ["foo.test,, example.com ,bar.test", "ws://example.com", true],
  ["foo.test bar.test", "ws://bar.test", true],
  ["foo.test,bar.test", "ws://baz.test", false],
  ["", "ws://example.com", false],
  [" , ", "ws://example.com", false],
  // A port makes the entry match that port only (the URL's default port counts).
  ["example.com:8080", "ws://example.com:8080", true],
  ["example.com:8080", "ws://example.com:8081", false],
  ["example.com:443", "wss://www.example.com", true],
  ["example.com:80", "ws://example.com", true],
  ["example.com:80", "wss://example.com", false],
  ["example.com:x", "ws://example.com", false],
  // IPv4 addresses: exact, CIDR, with a port; no name resolution either way.
  ["127.0.0.1", "ws://127.0.0.1:1234", true],
  ["127.0.0.1", "ws://127.0.0.2", false],
  ["127.0.0.0/8", "ws://127.200.0.9", true],
  ["10.0.0.0/8", "ws://11.0.0.1", false],
  ["192.168.0.0/16", "ws://192.168.44.1", true],
  ["192.168.0.0/17", "ws://192.168.200.1", false],
  ["0.0.0.0/0", "ws://8.8.8.8", true],
  ["127.0.0.1/33", "ws://127.0.0.1", false],
  ["127.0.0.1:9000", "ws://127.0.0.1:9000", true],
  ["127.0.0.1:9000", "ws://127.0.0.1:9001", false],
  ["localhost", "ws://127.0.0.1", false],
  ["127.0.0.1", "ws://localhost", false],
  ["127.0.0.1", "ws://127.0.0.1.example.com", false],
  // IPv6: with or without brackets, compressed or not, CIDR, bracketed with a port.
  ["::1", "ws://[::1]:80", true],
  ["[::1]", "ws://[::1]", true],
  ["0:0:0:0:0:0:0:1", "ws://[::1]", true],
  ["::2", "ws://[::1]", false],
  ["fd00::/8", "ws://[fd12:3456::1]", true],
  ["fd00::/8", "ws://[fe80::1]", false],
  ["2001:db8::/33", "ws://[2001:db8:7fff::1]", true],
  ["2001:db8::/33", "ws://[2001:db8:8000::1]", false],
  ["[::1]:9000", "ws://[::1]:9000", true],
  ["[::1]:9000", "ws://[::1]:9001", false],
  ["::ffff:127.0.0.1", "ws://[::ffff:7f00:1]", true],
  // IPv4 entries do not match IPv6 hosts and the other way round.
  ["127.0.0.1", "ws://[::ffff:127.0.0.1]", false],
  ["::/0", "ws://127.0.0.1", false],
];

for (const [list, url, expected] of CASES) {
  Deno.test(`NO_PROXY=${JSON.stringify(list)} ${expected ? "excludes" : "does not exclude"} ${url}`, () => {
    const u = new URL(url);
    const port = u.port === "" ? (u.protocol === "wss:" ? 443 : 80) : Number(u.port);
    assert.equal(noProxyMatches(list, u.hostname, port), expected);
  });
}

Deno.test("parseAddress: IPv4 and IPv6 addresses, nothing else", () => {
  assert.deepEqual([...parseAddress("10.1.2.3")!], [10, 1, 2, 3]);
  assert.deepEqual([...parseAddress("::1")!], [...new Array(15).fill(0), 1]);
  assert.deepEqual(
    [...parseAddress("1:2:3:4:5:6:1.2.3.4")!],
    [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4],
  );
  for (
    const bad of [
      "example.com",
      "1.2.3",
      "1.2.3.256",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "1:2:3:4:5:6:7:8::",
      "12345::",
      "g::1",
      "",
    ]
  ) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});
