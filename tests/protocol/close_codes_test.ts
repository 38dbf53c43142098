import assert from "node:assert/strict";
import {
  ABNORMAL,
  INVALID_DATA,
  isValidCloseCode,
  NO_STATUS,
  NORMAL,
  PROTOCOL_ERROR,
  TOO_BIG,
} from "../../src/protocol/close_codes.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "../../src/protocol/opcodes.ts";
import { ParleyError } from "../../src/vocabulary/parley_error.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import { INVALID_CLOSE_CODES, VALID_CLOSE_CODES } from "./_helpers.ts";

Deno.test("close codes: the named constants are RFC 6455 §7.4.1's", () => {
  assert.deepEqual(
    [NORMAL, PROTOCOL_ERROR, NO_STATUS, ABNORMAL, INVALID_DATA, TOO_BIG],
    [1000, 1002, 1005, 1006, 1007, 1009],
  );
});

Deno.test("isValidCloseCode: exactly 1000-1003, 1007-1014 and 3000-4999 over all 16-bit codes", () => {
  for (let code = 0; code <= 65535; code++) {
    const expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999);
    assert.equal(isValidCloseCode(code), expected, `code ${code}`);
  }
  for (const code of INVALID_CLOSE_CODES) {
    assert.equal(isValidCloseCode(code), false, `code ${code}`);
  }
  for (const code of VALID_CLOSE_CODES) {
    assert.equal(isValidCloseCode(code), true, `code ${code}`);
  }
});

Deno.test("opcodes: RFC 6455 §5.2's values", () => {
  assert.deepEqual([CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG], [0, 1, 2, 8, 9, 10]);
});

Deno.test("ProtocolError: carries the close code, its name, a message and a cause", () => {
  const cause = new Error("root");
  const e = new ProtocolError(1007, "bad text", { cause });
  assert.ok(e instanceof ProtocolError);
  assert.ok(e instanceof ParleyError);
  assert.ok(e instanceof Error);
  assert.equal(e.code, 1007);
  assert.equal(e.name, "ProtocolError");
  assert.equal(e.message, "bad text");
  assert.equal(e.cause, cause);
});
