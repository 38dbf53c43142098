// What a fuzzing case is made of: its verdicts, the events it records and compares, what it
// expects of the close, the steps of its script (what the fuzzing server sends, how, and when),
// and the operations the server performs on one connection to run it (the server's side of
// Autobahn's fuzzing protocol). The cases themselves are in cases.ts.

import type { DeflateData } from "./deflate_data.ts";
import type { DeflateAccept, DeflateParams } from "./deflate_negotiation.ts";
import type { FrameSpec } from "./wire.ts";

/** Autobahn's `behavior` verdicts. */
export type Behavior = "OK" | "NON-STRICT" | "INFORMATIONAL" | "FAILED" | "UNIMPLEMENTED";
/** Autobahn's `behaviorClose` verdicts (a server judging a client never gives FAILED BY CLIENT). */
export type BehaviorClose = "OK" | "FAILED" | "WRONG CODE" | "UNCLEAN" | "INFORMATIONAL";

/** What the server records of the client, in order: the case compares these lists. */
export type CaseEvent =
  | { readonly kind: "message"; readonly data: Uint8Array; readonly binary: boolean }
  | { readonly kind: "pong"; readonly data: Uint8Array }
  | { readonly kind: "timeout"; readonly tag: string };

/** What the case expects of the close (Autobahn's `expectedClose`). */
export interface ExpectedClose {
  /** Whether the server (true) or the client (false) must start the closing handshake. */
  readonly closedByMe: boolean;
  /** The close codes the client may send (no code at all is always accepted). */
  readonly closeCode: readonly number[];
  /** Whether the connection must end with a closing handshake (a close frame received). */
  readonly requireClean: boolean;
  /** If the wrong endpoint closed, `behavior` fails too (the UTF-8 cases). */
  readonly closedByWrongEndpointIsFatal?: boolean;
}

/** How far the run is scaled down (delays and group 9's sizes); `full` is the suite's own. */
export interface Scale {
  /** Multiplies every delay and timeout of the cases (1: Autobahn's). */
  readonly timeScale: number;
  /** Group 9 at its real sizes (16 MiB, 1000 round trips). */
  readonly full: boolean;
}

/** A frame to send, and how its octets go on the wire. */
export interface SendSpec extends FrameSpec {
  /** Writes the frame's octets in chops of this many bytes, each one a write of its own. */
  readonly chop?: number;
  /** Writes this frame on its own (not coalesced with what comes before or after). */
  readonly sync?: boolean;
}

/**
 * One step of a case's script, in order: a frame (`chop` and `sync` say how its octets go on the
 * wire), raw octets (part of a frame), the start of the closing handshake (only while open), a
 * wait (with `timeout`: the case goes on only while open, and records that timeout event first),
 * or the timer that ends the case (Autobahn's killAfter, which fails the connection, or
 * closeAfter, which sends a close without payload).
 */
export type Step =
  | { readonly kind: "frame"; readonly frame: SendSpec }
  | {
    readonly kind: "raw";
    readonly bytes: Uint8Array;
    readonly chop?: number;
    readonly sync?: boolean;
  }
  | { readonly kind: "close"; readonly code?: number; readonly reason?: Uint8Array | string }
  | { readonly kind: "wait"; readonly seconds: number; readonly timeout?: string }
  | { readonly kind: "killAfter"; readonly seconds: number }
  | { readonly kind: "closeAfter"; readonly seconds: number };

/** How a case's verdict is adjusted once the connection is gone (Autobahn's onConnectionLost). */
export type VerdictRule =
  /** Cases 7.x: a WRONG CODE close fails the case itself. */
  | "wrong code fails"
  /** The spec leaves the outcome open: reported, never judged. */
  | "informational";

/**
 * Where a strict client fails the connection, and with which close code: at server frame number
 * `frame` (0-based, in the order the script sends them), while that frame arrives; with `octet`,
 * exactly when payload octet number `octet` of that frame arrives (fail-fast UTF-8).
 */
export interface StrictFailure {
  readonly code: number;
  readonly frame: number;
  readonly octet?: number;
}

/** A case the server plays from a script and judges by the events it expects (all but group 9). */
export interface ScriptedCase {
  readonly kind: "script";
  /** "1.1.1" */
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  readonly script: readonly Step[];
  /** The event lists the case accepts, by the `behavior` they earn, in Autobahn's order. */
  readonly expected: Partial<Record<Behavior, CaseEvent[]>>;
  readonly close: ExpectedClose;
  /** The server does not start the closing handshake once the expected events arrived. */
  readonly suppressClose?: boolean;
  readonly verdict?: VerdictRule;
  /**
   * What a strict client does that the verdict does not pin down: where it fails the
   * connection and with which code (none: it does not fail, and answers every close it gets
   * with the same code). The sans-I/O replay (tests/protocol/autobahn_cases_test.ts) holds
   * ClientConnection to it; the fuzzing server does not read it.
   */
  readonly fails?: StrictFailure;
}

/**
 * A group 9 case: one large message echoed (or `roundTrips` small ones, each sent once the last
 * came back), judged on the echo's type and length and timed. Sizes are the suite's; the
 * fuzzing server scales them down unless it runs `full`.
 */
export interface EchoCase {
  readonly kind: "echo";
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  readonly binary: boolean;
  /** The payload's length in octets. */
  readonly length: number;
  /** The payload is this pattern repeated up to `length` (Autobahn's payload_len). */
  readonly pattern: Uint8Array;
  /** Sent as a message in frames of this many payload octets. */
  readonly fragmentSize?: number;
  /** Sent as one frame in chops of this many octets. */
  readonly chop?: number;
  /** This many messages, each sent once the previous one's echo came back. */
  readonly roundTrips?: number;
  /** The case's time limit (WAITSECS), in seconds. */
  readonly waitSeconds: number;
}

/**
 * A compression case (groups 12 and 13, case12_x_x.py): once permessage-deflate is agreed (by
 * the case's accept rule), `count` compressed messages of `length` bytes from a data set, each
 * sent once the last came back, judged on each echo's type, length and content and timed; without
 * compression, UNIMPLEMENTED. The fuzzing server sends 1/100 of `count` unless it runs `full`.
 */
export interface DeflateCase {
  readonly kind: "deflate";
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  /** The data set the messages are slices of (deflate_data.ts). */
  readonly data: DeflateData["name"];
  /** Each message's length in octets. */
  readonly length: number;
  readonly count: number;
  /** Each compressed message is sent in frames of this many octets (0: one frame). */
  readonly fragmentSize: number;
  /** How the server answers the client's offers. */
  readonly accept: DeflateAccept;
  /** The case's time limit (WAITSECS), in seconds. */
  readonly waitSeconds: number;
}

/** An Autobahn client case, as cases.ts defines it. */
export type AutobahnCase = ScriptedCase | EchoCase | DeflateCase;

/** What a case can do while it runs (the server side of one connection). */
export interface CaseApi {
  readonly scale: Scale;
  /** The case's expected event lists, by the `behavior` they earn. */
  expect(behavior: Behavior, events: CaseEvent[]): void;
  expectClose(close: ExpectedClose): void;
  /** Sends one frame, exactly as given. */
  sendFrame(spec: SendSpec): void;
  /** Sends a message, in frames of `fragmentSize` payload octets if given. */
  sendMessage(
    opcode: number,
    payload: Uint8Array | string,
    options?: { fragmentSize?: number; sync?: boolean },
  ): void;
  /** Sends raw octets (part of a frame, say). */
  sendRaw(bytes: Uint8Array, options?: { chop?: number; sync?: boolean }): void;
  /** Starts the closing handshake (a close frame with this payload); nothing if not open. */
  sendClose(code?: number, reason?: Uint8Array | string): void;
  /** Runs `fn` after `seconds` (scaled) if the connection is still there. */
  later(seconds: number, fn: () => void): void;
  /** Fails the connection (close 1001) after `seconds` (scaled) unless it ended. */
  killAfter(seconds: number): void;
  /** Sends a close without payload after `seconds` (scaled) unless the connection ended. */
  closeAfter(seconds: number): void;
  /** Whether the WebSocket is open (neither side has sent a close yet). */
  readonly isOpen: boolean;
  /** Records an event of the case's own (its timeouts). */
  record(event: CaseEvent): void;
  /** The events recorded so far. */
  readonly received: readonly CaseEvent[];
  /** Sets `behavior` and its explanation (cases that judge by themselves, like group 9). */
  judge(behavior: Behavior, result: string): void;
  /** Notes something for the report (a frame count, a content mismatch). */
  note(text: string): void;
  /** Replaces the default handling of messages (record, then close when done) for this run. */
  onMessage(handler: (data: Uint8Array, binary: boolean) => void): void;
  /** What permessage-deflate agreed on, if it did: messages from the client are inflated. */
  readonly deflate: DeflateParams | undefined;
  /**
   * Sends a message compressed (after whatever was sent before it), in frames of
   * `fragmentSize` octets of the compressed payload (0: one frame), RSV1 on the first.
   */
  sendCompressed(opcode: number, payload: Uint8Array, fragmentSize: number): void;
}

/** The verdict of a case, as Autobahn reports it. */
export interface Verdict {
  behavior: Behavior;
  behaviorClose: BehaviorClose;
  result: string;
  resultClose: string;
}

/** One fuzzing case as the server runs it (case_script.ts makes one from an AutobahnCase). */
export interface CaseDef {
  /** "1.1.1" */
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  /** Do not start the closing handshake when the expected events have arrived. */
  readonly suppressClose?: boolean;
  /** The duration is part of the result (group 9). */
  readonly reportTime?: boolean;
  /** How the server answers permessage-deflate offers (groups 12, 13); none without it. */
  readonly deflate?: DeflateAccept;
  /** Runs once the WebSocket is open. */
  open(api: CaseApi): void;
  /** Adjusts the verdict once the connection is gone. */
  adjust?(verdict: Verdict): void;
}
