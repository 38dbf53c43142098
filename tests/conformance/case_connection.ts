// The server's end of one fuzzing connection, after the upgrade: it runs a case (sends what the
// case says, how it says), reads the client's frames the way Autobahn's server protocol does
// (masking, reserved bits and opcodes, fragmentation, UTF-8, close codes), keeps the facts the
// verdict rests on (who closed first, whether a close frame came back, the client's close code,
// who dropped TCP), and judges the case with the suite's rules once TCP is gone. Once
// permessage-deflate is agreed, it compresses what the case sends compressed and inflates what
// the client sends compressed (RSV1 on a message's first frame), in order, with node:zlib's
// streams (deflate_peer.ts).

import type { Socket } from "node:net";
import { setImmediate } from "node:timers";
import type {
  Behavior,
  CaseApi,
  CaseDef,
  CaseEvent,
  ExpectedClose,
  Scale,
  SendSpec,
  Verdict,
} from "./case_types.ts";
import type { DeflateParams } from "./deflate_negotiation.ts";
import { PeerCompressor, PeerDecompressor } from "./deflate_peer.ts";
import {
  BINARY,
  bytesOf,
  type ClientFrame,
  CLOSE,
  closePayload,
  CONTINUATION,
  encodeFrame,
  FrameReader,
  PING,
  PONG,
  TEXT,
  toHex,
} from "./wire.ts";

const GOING_AWAY = 1001;
const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
/** Autobahn waits this long (seconds, scaled) for the answer to its close frame. */
const CLOSE_HANDSHAKE_TIMEOUT = 1;

/**
 * The close codes a peer may send, as autobahn-python's `onCloseFrame` checks them: 3000-4999,
 * and in 1000-2999 only its CLOSE_STATUS_CODES_ALLOWED (1000-1003, 1007-1013; not 1014).
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function validUtf8(b: Uint8Array): boolean {
  try {
    strictUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** An event as the report shows it (Autobahn's tuples; payloads cut at 256 octets). */
export function renderEvent(e: CaseEvent): unknown[] {
  if (e.kind === "timeout") return ["timeout", e.tag];
  const shown = e.data.length > 256 ? e.data.subarray(0, 256) : e.data;
  const more = e.data.length > 256 ? ` ... (${e.data.length} octets)` : "";
  const text = e.kind === "message" && !e.binary && validUtf8(shown)
    ? strictUtf8.decode(shown)
    : `0x${toHex(shown)}`;
  return e.kind === "message" ? ["message", text + more, e.binary] : ["pong", text + more];
}

function sameEvents(a: readonly CaseEvent[], b: readonly CaseEvent[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.kind !== y.kind) return false;
    if (x.kind === "timeout" && y.kind === "timeout") {
      if (x.tag !== y.tag) return false;
      continue;
    }
    if (x.kind === "message" && y.kind === "message" && x.binary !== y.binary) return false;
    const dx = (x as { data: Uint8Array }).data;
    const dy = (y as { data: Uint8Array }).data;
    if (dx.length !== dy.length) return false;
    for (let j = 0; j < dx.length; j++) if (dx[j] !== dy[j]) return false;
  }
  return true;
}

/** The full record of one case run (the per-case report). */
export interface CaseResult extends Verdict {
  readonly agent: string;
  readonly case: number;
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  readonly started: string;
  /** ms from the open to the end of TCP */
  readonly duration: number;
  readonly reportTime: boolean;
  readonly expected: Record<string, unknown[]>;
  readonly expectedClose: ExpectedClose | Record<string, never>;
  readonly received: unknown[];
  readonly closedByMe: boolean;
  readonly failedByMe: boolean;
  readonly droppedByMe: boolean;
  readonly wasClean: boolean;
  readonly wasNotCleanReason: string | null;
  readonly localCloseCode: number | null;
  readonly localCloseReason: string | null;
  readonly remoteCloseCode: number | null;
  readonly remoteCloseReason: string | null;
  readonly isServer: true;
  readonly notes: string[];
}

type State = "open" | "closing" | "closed";
interface Pending {
  readonly bytes: Uint8Array;
  readonly chop?: number;
  readonly sync?: boolean;
}

/** Runs `def` on an upgraded socket; `done` gets the result once TCP is closed. */
export class CaseConnection implements CaseApi {
  readonly scale: Scale;
  readonly #socket: Socket;
  readonly #def: CaseDef;
  readonly #agent: string;
  readonly #number: number;
  readonly #done: (result: CaseResult) => void;
  readonly deflate: DeflateParams | undefined;
  #compressor: PeerCompressor | undefined;
  #decompressor: PeerDecompressor | undefined;
  /** Compressed messages to send, in order, each once compressed. */
  #outbound: Promise<void> = Promise.resolve();
  /** Messages from the client, handled in order, each once inflated. */
  #inbound: Promise<void> = Promise.resolve();
  /** Whether the message being reassembled is compressed. */
  #fragmentCompressed = false;
  #reader = new FrameReader();
  readonly #expected = new Map<Behavior, CaseEvent[]>();
  #expectedClose: ExpectedClose | undefined;
  readonly #received: CaseEvent[] = [];
  readonly #notes: string[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #messageHandler: ((data: Uint8Array, binary: boolean) => void) | undefined;
  #state: State = "open";
  #judged: { behavior: Behavior; result: string } | undefined;
  // The facts the verdict rests on (Autobahn's protocol attributes of the same names).
  #closedByMe = false;
  #failedByMe = false;
  #droppedByMe = false;
  #wasClean = false;
  #wasNotCleanReason: string | null = null;
  #localCloseCode: number | null = null;
  #localCloseReason: string | null = null;
  #remoteCloseCode: number | null = null;
  #remoteCloseReason: string | null = null;
  // The message being reassembled.
  #fragments: Uint8Array[] | undefined;
  #fragmentBinary = false;
  // Writes, in order; chopped and sync ones each wait for the previous write to go out.
  readonly #queue: Pending[] = [];
  #pumping: Promise<void> | undefined;
  #startedAt = 0;
  #startedIso = "";
  #finished = false;

  constructor(
    socket: Socket,
    def: CaseDef,
    options: {
      scale: Scale;
      agent: string;
      number: number;
      done: (r: CaseResult) => void;
      /** What permessage-deflate agreed on, if it did. */
      deflate?: DeflateParams;
    },
  ) {
    this.#socket = socket;
    this.#def = def;
    this.scale = options.scale;
    this.#agent = options.agent;
    this.#number = options.number;
    this.#done = options.done;
    this.deflate = options.deflate;
  }

  /** Starts the case; `early` are bytes the client sent right behind its upgrade request. */
  start(early: Uint8Array): void {
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", () => {/* the close event follows */});
    socket.on("end", () => {
      // The client closed its side: autobahn's connectionLost follows at once.
      if (this.#state !== "closed") {
        this.#state = "closed";
        socket.destroy();
      }
    });
    socket.on("close", () => this.#finish());
    this.#startedAt = performance.now();
    this.#startedIso = new Date().toISOString();
    try {
      this.#def.open(this);
    } catch (error) {
      this.note(`the case threw: ${error}`);
      this.#fail(GOING_AWAY, "Going Away");
    }
    if (early.length > 0) this.#onData(early);
  }

  // -- CaseApi ----------------------------------------------------------------------------------

  get isOpen(): boolean {
    return this.#state === "open";
  }

  get received(): readonly CaseEvent[] {
    return this.#received;
  }

  expect(behavior: Behavior, events: CaseEvent[]): void {
    this.#expected.set(behavior, events);
  }

  expectClose(close: ExpectedClose): void {
    this.#expectedClose = close;
  }

  sendFrame(spec: SendSpec): void {
    this.#enqueue({ bytes: encodeFrame(spec), chop: spec.chop, sync: spec.sync });
  }

  sendMessage(
    opcode: number,
    payload: Uint8Array | string,
    options: { fragmentSize?: number; sync?: boolean } = {},
  ): void {
    const data = bytesOf(payload);
    const size = options.fragmentSize;
    if (size === undefined || size >= data.length) {
      this.sendFrame({ opcode, payload: data, sync: options.sync });
      return;
    }
    for (let at = 0; at < data.length; at += size) {
      const part = data.subarray(at, at + size);
      const last = at + size >= data.length;
      this.sendFrame({
        opcode: at === 0 ? opcode : CONTINUATION,
        payload: part,
        fin: last,
        sync: options.sync,
      });
    }
  }

  sendRaw(bytes: Uint8Array, options: { chop?: number; sync?: boolean } = {}): void {
    this.#enqueue({ bytes, chop: options.chop, sync: options.sync });
  }

  sendClose(code?: number, reason?: Uint8Array | string): void {
    this.#sendCloseFrame(code, reason, false);
  }

  later(seconds: number, fn: () => void): void {
    this.#after(seconds, () => {
      if (this.#state !== "closed") fn();
    });
  }

  killAfter(seconds: number): void {
    this.#after(seconds, () => {
      if (this.#state !== "closed") this.#fail(GOING_AWAY, "Going Away");
    });
  }

  closeAfter(seconds: number): void {
    this.#after(seconds, () => {
      if (this.#state !== "closed") this.sendClose();
    });
  }

  record(event: CaseEvent): void {
    this.#received.push(event);
  }

  judge(behavior: Behavior, result: string): void {
    this.#judged = { behavior, result };
  }

  note(text: string): void {
    this.#notes.push(text);
  }

  onMessage(handler: (data: Uint8Array, binary: boolean) => void): void {
    this.#messageHandler = handler;
  }

  sendCompressed(opcode: number, payload: Uint8Array, fragmentSize: number): void {
    const d = this.deflate;
    if (d === undefined) throw new Error("permessage-deflate was not agreed");
    this.#compressor ??= new PeerCompressor(d.serverMaxWindowBits, d.serverNoContextTakeover);
    // Compressions queue up in the compressor; their frames go out in the same order.
    const compressed = this.#compressor.compress(payload);
    compressed.catch(() => {});
    this.#outbound = this.#outbound.then(async () => {
      let bytes: Uint8Array;
      try {
        bytes = await compressed;
      } catch (error) {
        this.note(`compressing a message failed: ${error}`);
        this.#fail(GOING_AWAY, "Going Away");
        return;
      }
      if (this.#state !== "open") return;
      // autobahn-python's sendMessage: the compressed payload, auto-fragmented, RSV1 first.
      if (fragmentSize <= 0 || bytes.length <= fragmentSize) {
        this.sendFrame({ opcode, payload: bytes, rsv: 4 });
        return;
      }
      for (let at = 0; at < bytes.length; at += fragmentSize) {
        this.sendFrame({
          opcode: at === 0 ? opcode : CONTINUATION,
          payload: bytes.subarray(at, at + fragmentSize),
          fin: at + fragmentSize >= bytes.length,
          rsv: at === 0 ? 4 : 0,
        });
      }
    });
  }

  // -- Writing ----------------------------------------------------------------------------------

  #after(seconds: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // Data that arrived while the loop was busy is read first (timers run before I/O).
      setImmediate(() => {
        if (!this.#finished) fn();
      });
    }, Math.round(seconds * 1000 * this.scale.timeScale));
    this.#timers.add(timer);
  }

  #enqueue(p: Pending): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    if (this.#pumping === undefined && !p.sync && p.chop === undefined) {
      this.#socket.write(p.bytes);
      return;
    }
    this.#queue.push(p);
    this.#pumping ??= this.#pump();
  }

  /** Calls `fn` once everything queued has been handed to the socket. */
  #whenWritten(fn: () => void): void {
    if (this.#pumping) this.#pumping.then(() => this.#whenWritten(fn));
    else fn();
  }

  async #pump(): Promise<void> {
    // A turn first, so that #pumping is set before the loop can finish.
    await null;
    try {
      while (this.#queue.length > 0 && !this.#socket.destroyed) {
        const p = this.#queue.shift()!;
        if (p.chop !== undefined && p.chop < p.bytes.length) {
          for (let at = 0; at < p.bytes.length && !this.#socket.destroyed; at += p.chop) {
            await this.#writeAlone(p.bytes.subarray(at, at + p.chop));
          }
        } else if (p.sync || p.chop !== undefined) await this.#writeAlone(p.bytes);
        else this.#socket.write(p.bytes);
      }
    } finally {
      this.#pumping = undefined;
    }
  }

  /** Writes `bytes` and waits until they are out and a turn has passed (a segment of its own). */
  #writeAlone(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.#socket.write(bytes, () => setImmediate(resolve));
    });
  }

  #sendCloseFrame(
    code: number | undefined,
    reason: Uint8Array | string | undefined,
    reply: boolean,
  ) {
    if (this.#state !== "open") return;
    this.#enqueue({ bytes: encodeFrame({ opcode: CLOSE, payload: closePayload(code, reason) }) });
    this.#localCloseCode = code ?? null;
    this.#localCloseReason = reason === undefined ? null : showReason(bytesOf(reason));
    this.#state = "closing";
    this.#closedByMe = !reply;
    if (!reply) {
      this.#after(CLOSE_HANDSHAKE_TIMEOUT, () => {
        if (this.#finished || this.#droppedByMe) return;
        this.#wasClean = false;
        this.#wasNotCleanReason = "peer did not respond (in time) in closing handshake";
        this.#drop(true);
      });
    }
  }

  /** Autobahn's failConnection: a close frame with `code` (or a drop if closing already). */
  #fail(code: number, reason: string): void {
    if (this.#state === "closed") return;
    this.#failedByMe = true;
    if (this.#state === "open") this.#sendCloseFrame(code, reason, false);
    else this.#drop(false);
  }

  #drop(abort: boolean): void {
    if (this.#state === "closed" && this.#droppedByMe) return;
    this.#droppedByMe = true;
    this.#state = "closed";
    const socket = this.#socket;
    if (abort) {
      this.#queue.length = 0;
      socket.destroy();
    } else {
      // Our close reply goes out first; then FIN, and a reset if the client never closes.
      const timer = setTimeout(() => socket.destroy(), 2000);
      socket.once("close", () => clearTimeout(timer));
      this.#whenWritten(() => socket.end());
    }
  }

  // -- Reading ----------------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    if (this.#state === "closed") return;
    this.#reader.push(chunk);
    for (;;) {
      if (this.#finished || this.#droppedByMe) return;
      const frame = this.#reader.next();
      if (frame === undefined) return;
      // Autobahn's server runs with failByDrop = False: a violation starts the closing handshake
      // and the parser goes on (its _protocol_violation returns False), so the client's close
      // reply in the same read still counts.
      this.#onFrame(frame);
    }
  }

  /**
   * Handles one client frame the way autobahn-python's processData does with failByDrop = False:
   * each header check that fails fails the connection (1002), and the frame is still processed
   * while the server is only closing; data only reaches the case while the server has not failed
   * the connection. A violation while the server is already closing drops the connection, and
   * then, like Autobahn (whose consumeData reads nothing more once the state is closed, not even
   * the rest of that frame), the server reads nothing more: an oversized close frame's code is
   * never seen.
   */
  #onFrame(f: ClientFrame): void {
    if (f.rsv !== 0) {
      // permessage-deflate: RSV1 on the first frame of a data message only.
      const deflate = this.deflate !== undefined && f.rsv === 4;
      if (!deflate || (f.opcode !== TEXT && f.opcode !== BINARY)) {
        this.#violation(
          deflate
            ? `compressed flag (RSV1) on a frame with opcode ${f.opcode}`
            : `RSV = ${f.rsv} and no extension negotiated`,
        );
      }
    }
    if (!f.masked) this.#violation("unmasked client to server frame");
    if (f.opcode >= 8) {
      if (!f.fin) this.#violation("fragmented control frame");
      if (f.payload.length > 125) this.#violation("control frame with payload > 125");
      if (f.opcode > PONG) this.#violation(`reserved control opcode ${f.opcode}`);
      if (f.opcode === CLOSE && f.payload.length === 1) this.#violation("close payload of 1 octet");
      if (this.#state === "closed") return;
      if (f.opcode === PING) {
        if (this.#state === "open") this.sendFrame({ opcode: PONG, payload: f.payload });
      } else if (f.opcode === PONG) {
        // Autobahn hands pongs to the case whatever the state.
        this.#received.push({ kind: "pong", data: f.payload });
        this.#finishWhenDone();
      } else if (f.opcode === CLOSE) this.#onClose(f.payload);
      return;
    }
    if (f.opcode > BINARY) this.#violation(`reserved data opcode ${f.opcode}`);
    if (f.opcode === CONTINUATION && this.#fragments === undefined) {
      this.#violation("continuation with nothing to continue");
    } else if (f.opcode !== CONTINUATION && this.#fragments !== undefined) {
      this.#violation("data frame inside a fragmented message");
    }
    if (this.#state === "closed") return;
    if (this.#fragments === undefined) {
      this.#fragments = [];
      this.#fragmentBinary = f.opcode !== TEXT;
      this.#fragmentCompressed = f.rsv === 4 && this.deflate !== undefined;
    }
    if (!this.#failedByMe) this.#fragments.push(f.payload);
    if (!f.fin) return;
    const parts = this.#fragments;
    this.#fragments = undefined;
    if (this.#failedByMe) return;
    const data = parts.length === 1 ? parts[0] : joinAll(parts);
    const binary = this.#fragmentBinary;
    const d = this.deflate;
    if (d === undefined) {
      this.#onMessage(data, binary);
      return;
    }
    // With compression, messages are handled in order, each once inflated.
    let inflated: Promise<Uint8Array> | undefined;
    if (this.#fragmentCompressed) {
      this.#decompressor ??= new PeerDecompressor(d.clientMaxWindowBits, d.clientNoContextTakeover);
      inflated = this.#decompressor.decompress(data);
      inflated.catch(() => {});
    }
    this.#inbound = this.#inbound.then(async () => {
      let message = data;
      if (inflated !== undefined) {
        try {
          message = await inflated;
        } catch (error) {
          this.note(`the client sent a compressed message that does not inflate: ${error}`);
          this.#fail(INVALID_PAYLOAD, "invalid compressed message");
          return;
        }
      }
      if (!this.#finished && !this.#failedByMe) this.#onMessage(message, binary);
    });
  }

  /** A whole message from the client (inflated). */
  #onMessage(data: Uint8Array, binary: boolean): void {
    if (!binary && !validUtf8(data)) {
      this.#fail(INVALID_PAYLOAD, "invalid UTF-8 in text message");
      return;
    }
    if (this.#messageHandler) this.#messageHandler(data, binary);
    else {
      this.#received.push({ kind: "message", data, binary });
      this.#finishWhenDone();
    }
  }

  #violation(reason: string): void {
    this.note(`protocol violation by the client: ${reason}`);
    this.#fail(PROTOCOL_ERROR, "Protocol Error");
  }

  /** autobahn-python's onCloseFrame (server side). */
  #onClose(payload: Uint8Array): void {
    let code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : null;
    if (code !== null && !isValidCloseCode(code)) {
      this.#violation(`invalid close code ${code}`);
      // Autobahn then goes on as if the code were 1000.
      code = 1000;
    }
    this.#remoteCloseCode = code;
    this.#remoteCloseReason = null;
    const reason = payload.length > 2 ? payload.subarray(2) : undefined;
    if (reason !== undefined) {
      if (validUtf8(reason)) this.#remoteCloseReason = strictUtf8.decode(reason);
      else this.#fail(INVALID_PAYLOAD, "invalid close reason (non-UTF8 payload)");
    }
    if (this.#state === "closing") {
      this.#wasClean = true;
      this.#drop(true);
    } else if (this.#state === "open") {
      this.#wasClean = true;
      this.#sendCloseFrame(1000, undefined, true);
      this.#drop(false);
    }
  }

  /** Autobahn's finishWhenDone: once every expected list matches, the server closes. */
  #finishWhenDone(): void {
    for (const events of this.#expected.values()) {
      if (!sameEvents(this.#received, events)) return;
    }
    const close = this.#expectedClose;
    if (close?.closedByMe && !this.#def.suppressClose) this.sendClose(close.closeCode[0]);
  }

  // -- Judging ----------------------------------------------------------------------------------

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#state = "closed";
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#compressor?.close();
    this.#decompressor?.close();
    if (!this.#wasClean && this.#wasNotCleanReason === null && !this.#droppedByMe) {
      this.#wasNotCleanReason = "peer dropped the TCP connection without previous WebSocket " +
        "closing handshake";
    }
    const duration = Math.round(performance.now() - this.#startedAt);
    const verdict = this.#judge();
    const expected: Record<string, unknown[]> = {};
    for (const [b, events] of this.#expected) expected[b] = events.map(renderEvent);
    this.#done({
      agent: this.#agent,
      case: this.#number,
      id: this.#def.id,
      description: this.#def.description,
      expectation: this.#def.expectation,
      started: this.#startedIso,
      duration,
      reportTime: this.#def.reportTime ?? false,
      ...verdict,
      expected,
      expectedClose: this.#expectedClose ?? {},
      received: this.#received.map(renderEvent),
      closedByMe: this.#closedByMe,
      failedByMe: this.#failedByMe,
      droppedByMe: this.#droppedByMe,
      wasClean: this.#wasClean,
      wasNotCleanReason: this.#wasNotCleanReason,
      localCloseCode: this.#localCloseCode,
      localCloseReason: this.#localCloseReason,
      remoteCloseCode: this.#remoteCloseCode,
      remoteCloseReason: this.#remoteCloseReason,
      isServer: true,
      notes: this.#notes,
    });
  }

  /** Autobahn's Case.onConnectionLost, then the case's own adjustment. */
  #judge(): Verdict {
    const v: Verdict = {
      behavior: this.#judged?.behavior ?? "FAILED",
      behaviorClose: "FAILED",
      result: this.#judged?.result ?? "Actual events differ from any expected.",
      resultClose: "TCP connection was dropped without close handshake",
    };
    for (const [behavior, events] of this.#expected) {
      if (sameEvents(this.#received, events)) {
        v.behavior = behavior;
        v.result = "Actual events match at least one expected.";
        break;
      }
    }
    const close = this.#expectedClose;
    if (close === undefined) {
      v.resultClose = "The case set no close expectation";
    } else if (close.closedByMe !== this.#closedByMe) {
      v.behaviorClose = "FAILED";
      v.resultClose = "The connection was failed by the wrong endpoint";
    } else if (close.requireClean && !this.#wasClean) {
      v.behaviorClose = "UNCLEAN";
      v.resultClose = "The spec requires the connection to be failed cleanly here";
    } else if (this.#remoteCloseCode !== null && !close.closeCode.includes(this.#remoteCloseCode)) {
      v.behaviorClose = "WRONG CODE";
      v.resultClose = `The close code should have been ${close.closeCode.join(",")} or empty`;
    } else {
      v.behaviorClose = "OK";
      v.resultClose = "Connection was properly closed";
    }
    if (close?.closedByWrongEndpointIsFatal && close.closedByMe !== this.#closedByMe) {
      v.behavior = "FAILED";
    }
    this.#def.adjust?.(v);
    return v;
  }
}

function joinAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function showReason(b: Uint8Array): string {
  return validUtf8(b) ? strictUtf8.decode(b) : `0x${toHex(b)}`;
}

// Re-exported for the server's service routes.
export { TEXT };
