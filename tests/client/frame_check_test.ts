// Frame validation and byte counting (what the queue bounds and push checks rely on).

import assert from "node:assert/strict";
import {
  frameByteLength,
  frameShapeError,
  frameSizeError,
  utf8Length,
} from "../../src/client/_frame_check.ts";

Deno.test("utf8Length matches TextEncoder, lone surrogates counting as U+FFFD", () => {
  const samples = [
    "",
    "abc",
    "é",
    "€",
    "😀",
    "a😀b€é",
    "\ud800",
    "\udc00",
    "\ud800a",
    "a\ud800",
    "\udc00\ud800",
    "\ud83d\ude00\ud83d",
    "x".repeat(1000) + "😀".repeat(100),
  ];
  const enc = new TextEncoder();
  for (const s of samples) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
  // Every code unit value, alone and in pairs with its neighbour.
  for (let c = 0; c < 0x10000; c += 7) {
    const s = String.fromCharCode(c) + String.fromCharCode((c * 31) & 0xffff);
    assert.equal(utf8Length(s), enc.encode(s).length, `code units ${c}`);
  }
});

Deno.test("frameByteLength counts payload bytes", () => {
  assert.equal(frameByteLength({ type: "text", data: "é😀" }), 6);
  assert.equal(frameByteLength({ type: "binary", data: new Uint8Array(5) }), 5);
  assert.equal(frameByteLength({ type: "ping" }), 0);
  assert.equal(frameByteLength({ type: "pong", data: new Uint8Array(3) }), 3);
});

Deno.test("frameShapeError accepts the four frame types and describes anything else", () => {
  assert.equal(frameShapeError({ type: "text", data: "" }), undefined);
  assert.equal(frameShapeError({ type: "binary", data: new Uint8Array() }), undefined);
  assert.equal(frameShapeError({ type: "ping" }), undefined);
  assert.equal(frameShapeError({ type: "pong", data: new Uint8Array(125) }), undefined);
  assert.match(frameShapeError(null)!, /expected a frame object .* got null/);
  assert.match(frameShapeError("text")!, /got "text"/);
  assert.match(
    frameShapeError({ type: "close" })!,
    /expected a frame type of text, binary, ping or pong, got "close"/,
  );
  assert.match(
    frameShapeError({ type: "text", data: 1 })!,
    /a text frame needs a string as data, got 1/,
  );
  assert.match(
    frameShapeError({ type: "binary", data: new ArrayBuffer(1) })!,
    /a binary frame needs a Uint8Array as data, got an? ArrayBuffer/,
  );
  assert.match(
    frameShapeError({ type: "ping", data: [1] })!,
    /a ping frame needs a Uint8Array or no data, got an array/,
  );
});

Deno.test("frameSizeError limits control payloads to 125 bytes", () => {
  assert.equal(frameSizeError({ type: "ping", data: new Uint8Array(125) }), undefined);
  assert.match(
    frameSizeError({ type: "pong", data: new Uint8Array(126) })!,
    /limited to 125 bytes, got 126/,
  );
  assert.equal(frameSizeError({ type: "binary", data: new Uint8Array(1 << 20) }), undefined);
});
