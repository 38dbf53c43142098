/**
 * The incremental frame decoder: bytes in, messages and control frames out. A restartable state
 * machine, so a frame split at any byte boundary decodes the same. Text is validated as its
 * bytes arrive; every violation is reported once, with the close code to fail with, and nothing
 * after it is decoded. Once permessage-deflate is agreed ({@linkcode FrameDecoder.useDeflate}),
 * compressed messages are inflated as their bytes arrive, and the message limits apply to what
 * they inflate to.
 *
 * @module
 */

import {
  INVALID_DATA,
  isValidCloseCode,
  NO_STATUS,
  PROTOCOL_ERROR,
  TOO_BIG,
} from "./close_codes.ts";
import type { ResolvedLimits } from "./limits.ts";
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT } from "./opcodes.ts";
import { type PerMessageDeflate, RSV1 } from "./permessage_deflate.ts";
import { ProtocolError } from "./protocol_error.ts";
import { Utf8Validator } from "./utf8.ts";
import { type Allocate, zeroFilled } from "./allocate.ts";

/**
 * Where decoded frames go. Payload arrays may be views into the chunks passed to
 * {@linkcode FrameDecoder.push}: callers must not reuse those chunks.
 */
export interface DecoderSink {
  /** A complete text message. */
  text(data: string): void;
  /** A complete binary message. */
  binary(data: Uint8Array): void;
  /** A ping (payload at most 125 bytes). */
  ping(data: Uint8Array): void;
  /** A pong. */
  pong(data: Uint8Array): void;
  /**
   * The server's close frame (a valid one); `code` is 1005 when it had no payload. Nothing is
   * decoded after it.
   */
  remoteClose(code: number, reason: string): void;
  /** A violation: fail the connection with `error.code`. Nothing is decoded after it. */
  error(error: ProtocolError): void;
}

const HEADER = 0;
const PAYLOAD = 1;
const DONE = 2;

const decoder = new TextDecoder();
const fatalDecoder = new TextDecoder("utf-8", { fatal: true });
const EMPTY = new Uint8Array(0);

/**
 * Decodes server frames.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./frame_decoder.ts";
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * const got: string[] = [];
 * const d = new FrameDecoder(DEFAULT_LIMITS, {
 *   text: (s) => got.push(s),
 *   binary() {},
 *   ping() {},
 *   pong() {},
 *   remoteClose() {},
 *   error() {},
 * });
 * d.push(new Uint8Array([0x81, 0x05, 0x48, 0x65]));
 * d.push(new Uint8Array([0x6c, 0x6c, 0x6f])); // got: ["Hello"]
 * ```
 */
export class FrameDecoder {
  #limits: ResolvedLimits;
  #sink: DecoderSink;
  #allocate: Allocate;
  #state = HEADER;
  // A header split across chunks (made the first time one is: most connections never need it).
  #head: Uint8Array | undefined;
  #headLen = 0;
  // The frame being read.
  #fin = false;
  #opcode = 0;
  #length = 0;
  #received = 0;
  /** Whether the frame's payload is text to validate as it arrives. */
  #text = false;
  // A control frame's payload split across chunks (at most 125 bytes).
  #control: Uint8Array | undefined;
  // The message being reassembled: views of the chunks its bytes arrived in, joined once at the
  // end (or, for a large one, see #message). Memory grows with what arrived, never with what a
  // header announces.
  #messageOpcode = 0;
  /** Undefined while there are none (an idle connection holds no array). */
  #parts: Uint8Array[] | undefined;
  #messageSize = 0;
  #fragmentCount = 0;
  /**
   * A large unfragmented message's own buffer, of the size its header announced, which its bytes
   * are copied into as they arrive (see DIRECT_FROM).
   */
  #message: Uint8Array | undefined;
  /** Checks text that arrives in pieces (made on first use: whole messages rarely need it). */
  #utf8: Utf8Validator | undefined;
  /** permessage-deflate, once agreed: RSV1 marks a compressed message. */
  #deflate: PerMessageDeflate | undefined;
  /** Whether the message being read is compressed (its bytes in #parts are inflated ones). */
  #compressed = false;

  /**
   * @param limits Receive limits (frame size, message size, fragment count).
   * @param sink Receives what is decoded.
   * @param allocate Where the buffer of a message that arrived in pieces comes from.
   */
  constructor(limits: ResolvedLimits, sink: DecoderSink, allocate: Allocate = zeroFilled) {
    this.#limits = limits;
    this.#sink = sink;
    this.#allocate = allocate;
  }

  /** Whether decoding ended, after a close frame or a violation. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Decodes compressed messages from now on (the handshake agreed on permessage-deflate): a
   * message whose first frame has RSV1 set is inflated through `deflate`.
   */
  useDeflate(deflate: PerMessageDeflate): void {
    this.#deflate = deflate;
  }

  /**
   * Where the next bytes of the stream may be read straight into, if anywhere: while a large
   * unfragmented message arrives into a buffer of its own (see DIRECT_FROM), the part of that
   * buffer its remaining bytes go to. A chunk read into the start of it and then pushed is taken
   * where it lies, without a copy. Reading no further than its end keeps the next frame's bytes
   * out of it; anything else may be read into it meanwhile only if it is not pushed.
   */
  readInto(): Uint8Array | undefined {
    const message = this.#message;
    if (message === undefined || this.#state !== PAYLOAD) return undefined;
    return message.subarray(this.#received, this.#length);
  }

  /** Decodes the bytes of `chunk`; calls the sink for everything complete. */
  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.#state === HEADER) {
        pos = this.#readHeader(chunk, pos);
        if (pos < 0) return;
      } else if (this.#state === PAYLOAD) {
        pos = this.#readPayload(chunk, pos);
        if (pos < 0) return;
      } else return;
    }
  }

  /** Reads a header from `chunk` at `pos`; returns the new position, or -1 on a violation. */
  #readHeader(chunk: Uint8Array, pos: number): number {
    let src = chunk;
    let at = pos;
    const avail = chunk.length - pos;
    if (this.#headLen > 0 || avail < 2 || avail < needed(chunk[pos + 1])) {
      pos = this.#gatherHeader(chunk, pos);
      // A violation, or a header still incomplete at the end of the chunk.
      if (pos < 0 || this.#headLen > 0) return pos;
      src = this.#head!;
      at = 0;
    } else {
      // The whole header is in the chunk: read it where it is.
      if (!this.#checkStart(chunk[pos], chunk[pos + 1])) return -1;
      pos += needed(chunk[pos + 1]);
    }
    let length = src[at + 1] & 0x7f;
    if (length >= 126) {
      length = this.#extendedLength(src, at, length);
      if (length < 0) return -1;
    }
    this.#length = length;
    this.#received = 0;
    const opcode = this.#opcode;
    if (opcode < 0x8) {
      // A data frame: it starts a message unless it continues one, within the limits. A
      // compressed message's size is what it inflates to, counted as it inflates.
      if (opcode !== CONTINUATION) this.#startMessage(opcode, (src[at] & RSV1) !== 0);
      const limits = this.#limits;
      if (
        length > limits.maxFrameSize ||
        (!this.#compressed && (this.#messageSize += length) > limits.maxMessageSize) ||
        ++this.#fragmentCount > limits.maxFragments
      ) return this.#overLimit(length);
      this.#text = this.#messageOpcode === TEXT;
    }
    if (length === 0) return this.#frameDone(EMPTY) ? pos : -1;
    this.#state = PAYLOAD;
    return pos;
  }

  /**
   * Gathers a header split across chunks in #head, its first two bytes checked as soon as they
   * are here. Returns the new position (#headLen is 0 once the header is complete, and counts
   * the bytes gathered so far otherwise), or -1 on a violation.
   */
  #gatherHeader(chunk: Uint8Array, pos: number): number {
    const head = this.#head ??= new Uint8Array(14);
    let n = this.#headLen;
    const had = n;
    while (n < 2 && pos < chunk.length) head[n++] = chunk[pos++];
    if (n < 2) {
      this.#headLen = n;
      return pos;
    }
    if (had < 2 && !this.#checkStart(head[0], head[1])) return -1;
    const want = needed(head[1]);
    while (n < want && pos < chunk.length) head[n++] = chunk[pos++];
    this.#headLen = n < want ? n : 0;
    return pos;
  }

  /**
   * The payload length a header gives in 16 bits (`short` 126) or 64 bits (127) after its first
   * two bytes in `src` at `at`, or -1 on a violation.
   */
  #extendedLength(src: Uint8Array, at: number, short: number): number {
    if (short === 126) {
      const length = (src[at + 2] << 8) | src[at + 3];
      if (length < 126) {
        return this.#fail(PROTOCOL_ERROR, `The server encoded a ${length}-byte length in 16 bits`);
      }
      return length;
    }
    const hi = ((src[at + 2] << 24) | (src[at + 3] << 16) | (src[at + 4] << 8) | src[at + 5]) >>>
      0;
    const lo = ((src[at + 6] << 24) | (src[at + 7] << 16) | (src[at + 8] << 8) | src[at + 9]) >>>
      0;
    if (hi >= 0x80000000) {
      return this.#fail(PROTOCOL_ERROR, "The server sent a frame length with the high bit set");
    }
    if (hi > 0x1fffff) {
      return this.#fail(TOO_BIG, "The server sent a frame larger than 2^53 bytes");
    }
    const length = hi * 0x100000000 + lo;
    if (length < 65536) {
      return this.#fail(PROTOCOL_ERROR, `The server encoded a ${length}-byte length in 64 bits`);
    }
    return length;
  }

  /** Starts a message with the data frame just read (`opcode` text or binary). */
  #startMessage(opcode: number, compressed: boolean): void {
    this.#messageOpcode = opcode;
    this.#messageSize = 0;
    this.#fragmentCount = 0;
    this.#compressed = compressed;
    this.#utf8?.reset();
  }

  /** Fails with the first limit a data frame of `length` bytes broke; returns -1. */
  #overLimit(length: number): number {
    const limits = this.#limits;
    return this.#fail(
      TOO_BIG,
      length > limits.maxFrameSize
        ? `The server sent a ${length}-byte frame, above maxFrameSize (${limits.maxFrameSize})`
        : this.#messageSize > limits.maxMessageSize
        ? `The server sent a message of more than ${limits.maxMessageSize} bytes (maxMessageSize)`
        : `The server split a message into more than ${limits.maxFragments} frames (maxFragments)`,
    );
  }

  /**
   * Checks what the first two header bytes alone decide: reserved bits, the mask bit, the
   * opcode, control frame rules, and whether a continuation fits the message state.
   */
  #checkStart(b0: number, b1: number): boolean {
    const opcode = b0 & 0x0f;
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = opcode;
    const rsv = b0 & 0x70;
    if (rsv !== 0) {
      // permessage-deflate gives RSV1 a meaning on the first frame of a data message only
      // (RFC 7692 §6.1); RSV2 and RSV3 have none.
      if (rsv !== RSV1 || this.#deflate === undefined) {
        this.#fail(PROTOCOL_ERROR, "The server set reserved bits (RSV) that no extension defines");
        return false;
      }
      if (opcode !== TEXT && opcode !== BINARY) {
        this.#fail(
          PROTOCOL_ERROR,
          opcode === CONTINUATION
            ? "The server set RSV1 (compressed) on a continuation frame"
            : `The server set RSV1 (compressed) on a ${
              opcode >= 0x8 ? "control frame" : "frame with a reserved opcode"
            }`,
        );
        return false;
      }
    }
    if ((b1 & 0x80) !== 0) {
      this.#fail(PROTOCOL_ERROR, "The server sent a masked frame, which servers must never do");
      return false;
    }
    if (opcode >= 0x8) {
      if (opcode !== CLOSE && opcode !== PING && opcode !== PONG) {
        this.#fail(PROTOCOL_ERROR, `The server used the reserved control opcode ${opcode}`);
        return false;
      }
      if (!this.#fin) {
        this.#fail(PROTOCOL_ERROR, "The server fragmented a control frame");
        return false;
      }
      if ((b1 & 0x7f) > 125) {
        this.#fail(PROTOCOL_ERROR, "The server sent a control frame longer than 125 bytes");
        return false;
      }
      return true;
    }
    if (opcode !== CONTINUATION && opcode !== TEXT && opcode !== BINARY) {
      this.#fail(PROTOCOL_ERROR, `The server used the reserved data opcode ${opcode}`);
      return false;
    }
    if (opcode === CONTINUATION && this.#messageOpcode === 0) {
      this.#fail(
        PROTOCOL_ERROR,
        "The server sent a continuation frame with no message to continue",
      );
      return false;
    }
    if (opcode !== CONTINUATION && this.#messageOpcode !== 0) {
      this.#fail(PROTOCOL_ERROR, "The server started a new message before finishing the last one");
      return false;
    }
    return true;
  }

  /** Reads payload bytes; returns the new position, or -1 when decoding ended. */
  #readPayload(chunk: Uint8Array, pos: number): number {
    const remaining = this.#length - this.#received;
    const avail = chunk.length - pos;
    const n = avail < remaining ? avail : remaining;
    const piece = n === chunk.length ? chunk : chunk.subarray(pos, pos + n);
    if (this.#opcode >= 0x8) {
      // A control payload split across reads: copy it (at most 125 bytes).
      if (this.#received === 0 && n === remaining) {
        this.#state = HEADER;
        return this.#frameDone(piece) ? pos + n : -1;
      }
      const control = this.#control ??= new Uint8Array(this.#length);
      control.set(piece, this.#received);
      this.#received += n;
      if (this.#received < this.#length) return pos + n;
      this.#control = undefined;
      this.#state = HEADER;
      return this.#frameDone(control) ? pos + n : -1;
    }
    if (n === this.#length && this.#fin && this.#opcode !== CONTINUATION && !this.#compressed) {
      // A whole message in this chunk (the common case): delivered as it is.
      this.#state = HEADER;
      return this.#whole(piece) ? pos + n : -1;
    }
    this.#received += n;
    if (this.#compressed) {
      if (!this.#inflate(piece)) return -1;
    } else {
      // Text fails as soon as an invalid byte arrives, not when the frame ends.
      if (this.#text && !(this.#utf8 ??= new Utf8Validator()).push(piece)) {
        return this.#fail(INVALID_DATA, INVALID_TEXT);
      }
      const message = this.#message;
      if (message !== undefined) {
        // Read straight into place (see readInto), or copied there.
        const at = this.#received - n;
        if (piece.buffer !== message.buffer || piece.byteOffset !== message.byteOffset + at) {
          message.set(piece, at);
        }
      } else {
        const parts = this.#parts ??= [];
        parts.push(piece);
        const length = this.#length;
        if (
          length >= DIRECT_FROM && this.#received < length &&
          this.#received * DIRECT_GROWTH >= length && this.#fin && this.#opcode !== CONTINUATION
        ) {
          // A large unfragmented message arriving in several chunks: once an eighth of it is
          // here, the rest goes into its own buffer as it comes (the chunks so far first),
          // rather than joined from views of the chunks at the end.
          this.#message = join(parts, this.#allocate(length));
          this.#parts = undefined;
        }
      }
    }
    if (this.#received < this.#length) return pos + n;
    this.#state = HEADER;
    return this.#frameDone(undefined) ? pos + n : -1;
  }

  /**
   * Handles a complete frame: `payload` for control frames; data frames' bytes are in #parts.
   * Returns false when decoding ended.
   */
  #frameDone(payload: Uint8Array | undefined): boolean {
    this.#state = HEADER;
    const sink = this.#sink;
    switch (this.#opcode) {
      case PING:
        sink.ping(payload!);
        return this.#state !== DONE;
      case PONG:
        sink.pong(payload!);
        return this.#state !== DONE;
      case CLOSE:
        return this.#close(payload!);
    }
    if (!this.#fin) return true;
    if (this.#compressed && !this.#inflate(undefined)) return false;
    const type = this.#messageOpcode;
    const parts = this.#parts;
    const message = this.#message;
    this.#message = undefined;
    const data = message !== undefined
      ? message
      : parts === undefined || parts.length === 0
      ? EMPTY
      : parts.length === 1
      ? parts[0]
      : join(parts, this.#allocate(this.#messageSize));
    this.#parts = undefined;
    this.#messageOpcode = 0;
    if (type === TEXT) {
      // (No validator yet: no piece of text arrived to check, so nothing is incomplete.)
      if (this.#utf8 !== undefined && !this.#utf8.complete) {
        this.#fail(INVALID_DATA, INCOMPLETE_TEXT);
        return false;
      }
      sink.text(decoder.decode(data));
    } else sink.binary(data);
    return this.#state !== DONE;
  }

  /**
   * Delivers a message whose one frame arrived whole in one chunk. Its text is checked as it is
   * decoded: without a U+FFFD in the result the decoder replaced nothing, so the bytes are valid
   * UTF-8 (faster than validating them first, in every runtime); with one, the validator decides.
   * Returns false when decoding ended.
   */
  #whole(data: Uint8Array): boolean {
    this.#messageOpcode = 0;
    if (this.#opcode === TEXT) {
      const text = decoder.decode(data);
      if (text.indexOf("\uFFFD") >= 0) {
        const utf8 = this.#utf8 ??= new Utf8Validator();
        const valid = utf8.push(data);
        if (!valid || !utf8.complete) {
          this.#fail(INVALID_DATA, valid ? INCOMPLETE_TEXT : INVALID_TEXT);
          return false;
        }
      }
      this.#sink.text(text);
    } else this.#sink.binary(data);
    return this.#state !== DONE;
  }

  /**
   * Inflates a piece of a compressed message's payload (or, for `undefined`, ends the message)
   * into #parts, counting what comes out against maxMessageSize and checking text as it comes;
   * returns false when decoding ended on a violation.
   */
  #inflate(piece: Uint8Array | undefined): boolean {
    const parts = this.#parts ??= [];
    const from = parts.length;
    const limit = this.#limits.maxMessageSize - this.#messageSize;
    let n: number;
    try {
      n = piece === undefined
        ? this.#deflate!.finish(limit, parts)
        : this.#deflate!.inflate(piece, limit, parts);
    } catch (error) {
      this.#fail(
        INVALID_DATA,
        `The server sent a compressed message that is not valid DEFLATE (${
          (error as Error).message
        })`,
        error,
      );
      return false;
    }
    if (n > limit) {
      this.#fail(
        TOO_BIG,
        `The server sent a compressed message that inflates to more than ${this.#limits.maxMessageSize} bytes (maxMessageSize)`,
      );
      return false;
    }
    this.#messageSize += n;
    if (this.#text) {
      for (let i = from; i < parts.length; i++) {
        if (!(this.#utf8 ??= new Utf8Validator()).push(parts[i])) {
          this.#fail(INVALID_DATA, INVALID_TEXT);
          return false;
        }
      }
    }
    return true;
  }

  #close(payload: Uint8Array): boolean {
    if (payload.length === 1) {
      this.#fail(PROTOCOL_ERROR, "The server sent a close frame with a 1-byte payload");
      return false;
    }
    let code = NO_STATUS;
    let reason = "";
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!isValidCloseCode(code)) {
        this.#fail(PROTOCOL_ERROR, `The server sent the close code ${code}, which may not be sent`);
        return false;
      }
      try {
        // (No reason, the usual case: no decoder call, which is an op on Deno.)
        reason = payload.length === 2 ? "" : fatalDecoder.decode(payload.subarray(2));
      } catch {
        this.#fail(INVALID_DATA, "The server's close reason is not valid UTF-8");
        return false;
      }
    }
    this.#state = DONE;
    this.#sink.remoteClose(code, reason);
    return false;
  }

  #fail(code: number, message: string, cause?: unknown): number {
    this.#state = DONE;
    this.#parts = undefined;
    this.#message = undefined;
    this.#control = undefined;
    this.#sink.error(
      new ProtocolError(code, message, cause === undefined ? undefined : { cause }),
    );
    return -1;
  }
}

const INVALID_TEXT = "The server sent text that is not valid UTF-8";
const INCOMPLETE_TEXT = "The server ended a text message in the middle of a UTF-8 sequence";

/**
 * An unfragmented message from this size on goes into a buffer of its own as it arrives, once
 * 1/DIRECT_GROWTH of it has: so memory grows with what arrived (at most DIRECT_GROWTH times it),
 * never with what a header announces alone.
 */
const DIRECT_FROM = 64 * 1024;
const DIRECT_GROWTH = 8;

/** The header length implied by the second header byte (servers send no mask key). */
function needed(b1: number): number {
  const len = b1 & 0x7f;
  return (len < 126 ? 2 : len === 126 ? 4 : 10) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

/** Copies `parts` into the start of `out`, which is at least as long as they are together. */
function join(parts: Uint8Array[], out: Uint8Array): Uint8Array {
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
