import assert from "node:assert/strict";
import fc from "npm:fast-check@4.11.0";
import { base64, sha1 } from "../../src/protocol/sha1.ts";
import { acceptFor, handshakeKey } from "../../src/protocol/handshake.ts";
import { seededRandom, utf8 } from "./_helpers.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function toHex(data: Uint8Array): string {
  return [...data].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function subtleSha1(data: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", new Uint8Array(data))));
}

function btoaBytes(data: Uint8Array): string {
  let s = "";
  for (const b of data) s += String.fromCharCode(b);
  return btoa(s);
}

Deno.test("sha1: FIPS 180 test vectors", () => {
  assert.equal(toHex(sha1(new Uint8Array(0))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert.equal(toHex(sha1(utf8("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(
    toHex(sha1(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
  );
  assert.equal(
    toHex(sha1(new Uint8Array(1_000_000).fill(0x61))),
    "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
  );
});

Deno.test("sha1: matches crypto.subtle.digest for every length 0-200 (all padding boundaries)", async () => {
  const random = seededRandom(7);
  for (let n = 0; n <= 200; n++) {
    const data = new Uint8Array(n);
    random(data);
    assert.equal(toHex(sha1(data)), await subtleSha1(data), `length ${n}`);
  }
});

Deno.test("sha1: hashes a subarray view by its own bytes, not its buffer's", async () => {
  const buffer = new Uint8Array(100).map((_, i) => i);
  const view = buffer.subarray(10, 75);
  assert.equal(toHex(sha1(view)), await subtleSha1(view.slice()));
});

Deno.test("sha1 property: matches crypto.subtle.digest on random inputs", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (data) => {
      assert.equal(toHex(sha1(data)), await subtleSha1(data));
    }),
    { numRuns: 200 },
  );
});

Deno.test("base64: RFC 4648 test vectors", () => {
  const cases: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [input, output] of cases) assert.equal(base64(utf8(input)), output);
  assert.equal(base64(new Uint8Array([0xfb, 0xff, 0xbf])), "+/+/", "uses + and /");
  assert.equal(base64(new Uint8Array([0, 0, 0])), "AAAA");
});

Deno.test("base64: matches btoa for every length 0-100 and all byte values", () => {
  const random = seededRandom(11);
  for (let n = 0; n <= 100; n++) {
    const data = new Uint8Array(n);
    random(data);
    assert.equal(base64(data), btoaBytes(data), `length ${n}`);
  }
  const all = new Uint8Array(256).map((_, i) => i);
  assert.equal(base64(all), btoaBytes(all));
});

Deno.test("base64 property: matches btoa on random inputs", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => base64(data) === btoaBytes(data)),
    { numRuns: 500 },
  );
});

Deno.test("acceptFor: the RFC 6455 §1.3 example", () => {
  assert.equal(acceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("acceptFor property: base64(SHA-1(key + GUID)) as computed by crypto.subtle", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 16, maxLength: 16 }), async (raw) => {
      const key = btoaBytes(raw);
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID)),
      );
      assert.equal(acceptFor(key), btoaBytes(digest));
    }),
    { numRuns: 50 },
  );
});

Deno.test("handshakeKey: 16 bytes from the injected source, base64 (24 characters)", () => {
  let asked = 0;
  const key = handshakeKey((target) => {
    asked += target.length;
    target.fill(1);
  });
  assert.equal(asked, 16);
  assert.equal(key, "AQEBAQEBAQEBAQEBAQEBAQ==");
  const random = seededRandom(3);
  const expected = new Uint8Array(16);
  seededRandom(3)(expected);
  assert.equal(handshakeKey(random), btoaBytes(expected));
  assert.equal(atob(handshakeKey(seededRandom(5))).length, 16);
});
