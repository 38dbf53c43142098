// A tiny Autobahn client on raw TCP (node:net), for the server's self-test: a correct echo
// client by default, with switches that break it in known ways, so the test can check that the
// server fails exactly the cases each breakage matters to. It validates UTF-8 a frame at a time
// (not octet by octet), which the 6.4.x chop cases show as NON-STRICT.

import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { isValidCloseCode } from "./case_connection.ts";
import {
  BINARY,
  bytesOf,
  CLOSE,
  closePayload,
  CONTINUATION,
  FrameReader,
  join,
  PING,
  PONG,
  TEXT,
} from "./wire.ts";

/** Ways to break the client. */
export interface Breakage {
  /** Never checks text for UTF-8 (echoes whatever came). */
  readonly noUtf8Check?: boolean;
  /** The close code sent for invalid UTF-8 (right: 1007). */
  readonly utf8Code?: number;
  /** Never answers pings. */
  readonly noPong?: boolean;
  /**
   * Takes a close frame of any length and answers it with the same code and reason, as Deno's
   * WebSocket does: its answer to case 7.3.6 is an oversized close frame itself.
   */
  readonly echoesOversizedClose?: boolean;
}

/** A masked client frame. */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out[2] = n >>> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const key = randomBytes(4);
  out.set(key, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ key[i & 3];
  return out;
}

/** Runs one connection to `url` as the echo client; resolves when TCP is closed. */
export function runRawCase(url: string, breakage: Breakage = {}): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(u.port), u.hostname);
    let upgraded = false;
    let head: Uint8Array = new Uint8Array(0);
    const reader = new FrameReader();
    let done = false; // a close was sent: nothing more is read or written
    let message: Uint8Array[] | undefined;
    let messageText = false;
    let decoder: TextDecoder | undefined;
    const send = (opcode: number, payload: Uint8Array) => {
      if (!socket.destroyed) socket.write(clientFrame(opcode, payload));
    };
    const fail = (code: number) => {
      if (done) return;
      done = true;
      send(CLOSE, closePayload(code));
      // The server closes TCP; if it does not, give up after a while.
      setTimeout(() => socket.destroy(), 2000).unref?.();
    };
    const onFrame = (
      f: { fin: boolean; rsv: number; opcode: number; masked: boolean; payload: Uint8Array },
    ) => {
      if (f.masked || f.rsv !== 0) return fail(1002);
      if (f.opcode >= 8) {
        const oversized = f.payload.length > 125 &&
          !(breakage.echoesOversizedClose && f.opcode === CLOSE);
        if (f.opcode > PONG || !f.fin || oversized) return fail(1002);
        if (f.opcode === PING) {
          if (!breakage.noPong) send(PONG, f.payload);
          return;
        }
        if (f.opcode === PONG) return;
        if (f.payload.length === 1) return fail(1002);
        if (f.payload.length >= 2) {
          const code = (f.payload[0] << 8) | f.payload[1];
          if (!isValidCloseCode(code)) return fail(1002);
          try {
            new TextDecoder("utf-8", { fatal: true }).decode(f.payload.subarray(2));
          } catch {
            return fail(1007);
          }
          done = true;
          send(CLOSE, breakage.echoesOversizedClose ? f.payload : closePayload(code));
        } else {
          done = true;
          send(CLOSE, new Uint8Array(0));
        }
        setTimeout(() => socket.destroy(), 2000).unref?.();
        return;
      }
      if (f.opcode > BINARY) return fail(1002);
      if (f.opcode === CONTINUATION) {
        if (!message) return fail(1002);
      } else {
        if (message) return fail(1002);
        message = [];
        messageText = f.opcode === TEXT;
        decoder = new TextDecoder("utf-8", { fatal: true });
      }
      message.push(f.payload);
      if (messageText && !breakage.noUtf8Check) {
        try {
          decoder!.decode(f.payload, { stream: !f.fin });
        } catch {
          return fail(breakage.utf8Code ?? 1007);
        }
      }
      if (!f.fin) return;
      const data = join(...message);
      message = undefined;
      send(messageText ? TEXT : BINARY, data);
    };
    socket.on("data", (chunk: Uint8Array) => {
      if (!upgraded) {
        head = join(head, chunk);
        const text = new TextDecoder().decode(head);
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        upgraded = true;
        chunk = head.subarray(bytesOf(text.slice(0, end + 4)).length);
      }
      reader.push(chunk);
      for (let f = reader.next(); f && !done; f = reader.next()) onFrame(f);
    });
    socket.on("error", () => {});
    socket.on("end", () => socket.destroy());
    socket.on("close", () => resolve());
    socket.on("connect", () => {
      const key = randomBytes(16).toString("base64");
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  });
}
