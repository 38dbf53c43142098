// The Autobahn|Testsuite client cases of groups 1-7, 9, 10, 12 and 13, in the suite's order,
// written once from the suite's case sources (autobahntestsuite/case/*.py), RFC 6455 and RFC 7692:
// what the fuzzing
// server sends, how it chops it and when, which events and close it expects, and (`fails`) where
// a strict client fails the connection. Two drivers read them: the fuzzing server
// (case_script.ts, against real clients over TCP) and the sans-I/O replay against
// ClientConnection (tests/protocol/autobahn_cases_test.ts). The numbering is the suite's.

import type {
  AutobahnCase,
  Behavior,
  CaseEvent,
  DeflateCase,
  EchoCase,
  ExpectedClose,
  ScriptedCase,
  SendSpec,
  Step,
  StrictFailure,
  VerdictRule,
} from "./case_types.ts";
import { KOSME, utf8TestSequences } from "./utf8_sequences.ts";
import type { DeflateData } from "./deflate_data.ts";
import type { DeflateAccept } from "./deflate_negotiation.ts";
import { BINARY, bytesOf, CLOSE, CONTINUATION, hex, join, PING, PONG, TEXT } from "./wire.ts";

export { KOSME };

const NORMAL = 1000;
const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;

// ---------------------------------------------------------------------------------------------
// Events, closes and steps

const message = (data: Uint8Array | string, binary = false): CaseEvent => ({
  kind: "message",
  data: bytesOf(data),
  binary,
});
const pong = (data: Uint8Array | string = ""): CaseEvent => ({ kind: "pong", data: bytesOf(data) });
const timeout = (tag: string): CaseEvent => ({ kind: "timeout", tag });

/** The server closes with 1000 once the events match, cleanly. */
const CLOSES_NORMALLY: ExpectedClose = {
  closedByMe: true,
  closeCode: [NORMAL],
  requireClean: true,
};
/** The client must fail the connection with `code` (an unclean end is accepted). */
const clientFails = (code: number, utf8 = false): ExpectedClose => ({
  closedByMe: false,
  closeCode: [code],
  requireClean: false,
  ...(utf8 ? { closedByWrongEndpointIsFatal: true } : {}),
});

/** A frame (`options` may set fin, rsv, chop, sync). */
const frame = (
  opcode: number,
  payload?: Uint8Array | string,
  options: Omit<SendSpec, "opcode" | "payload"> = {},
): Step => ({
  kind: "frame",
  frame: { opcode, ...(payload === undefined ? {} : { payload }), ...options },
});

/** A message: one frame, or frames of `fragmentSize` payload octets (Autobahn's sendMessage). */
function fragments(opcode: number, payload: Uint8Array | string, fragmentSize?: number): Step[] {
  const data = bytesOf(payload);
  if (fragmentSize === undefined || fragmentSize >= data.length) return [frame(opcode, data)];
  const steps: Step[] = [];
  for (let at = 0; at < data.length; at += fragmentSize) {
    steps.push(frame(at === 0 ? opcode : CONTINUATION, data.subarray(at, at + fragmentSize), {
      fin: at + fragmentSize >= data.length,
    }));
  }
  return steps;
}

const raw = (bytes: Uint8Array): Step => ({ kind: "raw", bytes });
/** The server starts the closing handshake (a close frame with this payload). */
const serverClose = (code?: number, reason?: Uint8Array | string): Step => ({
  kind: "close",
  ...(code === undefined ? {} : { code }),
  ...(reason === undefined ? {} : { reason }),
});
/** Waits `seconds`; with `tag`, goes on only while open and records ["timeout", tag] first. */
const wait = (seconds: number, tag?: string): Step => ({
  kind: "wait",
  seconds,
  ...(tag === undefined ? {} : { timeout: tag }),
});
const killAfter = (seconds: number): Step => ({ kind: "killAfter", seconds });
const closeAfter = (seconds: number): Step => ({ kind: "closeAfter", seconds });

/** A strict client fails with `code` at server frame `frame` (at payload `octet` if given). */
const failsAt = (code: number, frame: number, octet?: number): StrictFailure => ({
  code,
  frame,
  ...(octet === undefined ? {} : { octet }),
});

interface Shape {
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  readonly script: readonly Step[];
  readonly expected: Partial<Record<Behavior, CaseEvent[]>>;
  readonly close: ExpectedClose;
  readonly suppressClose?: boolean;
  readonly verdict?: VerdictRule;
  readonly fails?: StrictFailure;
}

const cases: AutobahnCase[] = [];
const add = (s: Shape) => cases.push({ kind: "script", ...s } satisfies ScriptedCase);

// ---------------------------------------------------------------------------------------------
// 1 Framing

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];
for (const [group, opcode, binary] of [["1.1", TEXT, false], ["1.2", BINARY, true]] as const) {
  const kind = binary ? "binary" : "text";
  const make = (n: number) => binary ? new Uint8Array(n).fill(0xfe) : "*".repeat(n);
  for (const [i, n] of LENGTHS.entries()) {
    add({
      id: `${group}.${i + 1}`,
      description: `Send ${kind} message with payload of length ${n}.`,
      expectation:
        `Receive echo'ed ${kind} message (with payload as sent). Clean close with normal code.`,
      // case1_1_6.py / case1_1_7.py: killAfter(10) for the 64 KiB sizes, killAfter(1) below.
      script: [frame(opcode, make(n)), killAfter(n >= 65535 ? 10 : 1)],
      expected: { OK: [message(make(n), binary)] },
      close: CLOSES_NORMALLY,
    });
  }
  add({
    id: `${group}.8`,
    description:
      `Send ${kind} message with payload of length 65536, sent out in chops of 997 octets.`,
    expectation:
      `Receive echo'ed ${kind} message (with payload as sent). Clean close with normal code.`,
    script: [frame(opcode, make(65536), { chop: 997 }), killAfter(10)],
    expected: { OK: [message(make(65536), binary)] },
    close: CLOSES_NORMALLY,
  });
}

// ---------------------------------------------------------------------------------------------
// 2 Pings/Pongs

const pingCase = (id: string, what: string, payload: Uint8Array | string, chop?: number) =>
  add({
    id,
    description: `Send ping ${what}.`,
    expectation:
      "Pong (with payload as sent) is sent in reply to Ping. Clean close with normal code.",
    // case2_1.py .. case2_4.py: closeAfter(1); case2_6.py: closeAfter(2).
    script: [frame(PING, payload, chop ? { chop } : {}), closeAfter(chop ? 2 : 1)],
    expected: { OK: [pong(payload)] },
    close: CLOSES_NORMALLY,
  });

pingCase("2.1", "without payload", "");
pingCase("2.2", "with small text payload", "Hello, world!");
pingCase("2.3", "with small binary (non UTF-8) payload", hex("00 ff fe fd fc fb 00 ff"));
pingCase("2.4", "with binary payload of 125 octets", new Uint8Array(125).fill(0xfe));
add({
  id: "2.5",
  description: "Send ping with binary payload of 126 octets.",
  expectation: "Connection is failed immediately (1002/Protocol Error), since control frames are " +
    "only allowed to have payload up to and including 125 octets.",
  script: [frame(PING, new Uint8Array(126).fill(0xfe)), killAfter(1)],
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 0),
});
pingCase(
  "2.6",
  "with binary payload of 125 octets, sent out in octet-wise chops",
  new Uint8Array(125).fill(0xfe),
  1,
);
for (const [id, payload] of [["2.7", ""], ["2.8", "unsolicited pong payload"]] as const) {
  add({
    id,
    description:
      `Send unsolicited pong ${payload ? "with" : "without"} payload. Verify nothing is ` +
      "received. Clean close with normal code.",
    expectation: "Nothing.",
    // case2_7.py / case2_8.py: the pong, then a close with 1000 at once, then closeAfter(1).
    script: [frame(PONG, payload), serverClose(NORMAL), closeAfter(1)],
    expected: { OK: [] },
    close: CLOSES_NORMALLY,
  });
}
add({
  id: "2.9",
  description: "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping " +
    "is received.",
  expectation: "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. " +
    "Clean close with normal code.",
  script: [
    frame(PONG, "unsolicited pong payload"),
    frame(PING, "ping payload"),
    closeAfter(1), // case2_9.py
  ],
  expected: { OK: [pong("ping payload")] },
  close: CLOSES_NORMALLY,
});
for (const [id, chop] of [["2.10", undefined], ["2.11", 1]] as const) {
  const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
  add({
    id,
    description: `Send 10 Pings with payload${
      chop ? ". Send out octets in octet-wise chops" : ""
    }.`,
    expectation: "Pongs for our Pings with all the payloads. Note: This is not required by the " +
      "Spec .. but we check for this behaviour anyway. Clean close with normal code.",
    script: [...payloads.map((p) => frame(PING, p, chop ? { chop } : {})), closeAfter(3)],
    expected: { OK: payloads.map((p) => pong(p)) },
    close: CLOSES_NORMALLY,
  });
}

// ---------------------------------------------------------------------------------------------
// 3 Reserved Bits

add({
  id: "3.1",
  description: "Send small text message with RSV = 1.",
  expectation: "The connection is failed immediately (1002/protocol error), since RSV must be 0, " +
    "when no extension defining RSV meaning has been negotiated.",
  script: [frame(TEXT, "Hello, world!", { rsv: 1 }), killAfter(1)],
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 0),
});
for (const [id, rsv, how] of [[2, 2, ""], [3, 3, " frame-wise"], [4, 4, " octet-wise"]] as const) {
  const o = how === "" ? {} : how === " frame-wise" ? { sync: true } : { sync: true, chop: 1 };
  add({
    id: `3.${id}`,
    description: `Send small text message, then send again with RSV = ${rsv}, then send Ping.` +
      (how ? ` Octets are sent in${how} chops.` : ""),
    expectation: "Echo for first message is received, but then connection is failed " +
      "immediately, since RSV must be 0, when no extension defining RSV meaning has been " +
      "negotiated. The Pong is not received.",
    script: [
      frame(TEXT, "Hello, world!", o),
      frame(TEXT, "Hello, world!", { rsv, ...o }),
      frame(PING, undefined, o),
      killAfter(1),
    ],
    expected: { OK: [message("Hello, world!")], "NON-STRICT": [] },
    close: clientFails(PROTOCOL_ERROR),
    fails: failsAt(PROTOCOL_ERROR, 1),
  });
}
add({
  id: "3.5",
  description: "Send small binary message with RSV = 5.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  script: [frame(BINARY, hex("00 ff fe fd fc fb 00 ff"), { rsv: 5 }), killAfter(1)],
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 0),
});
add({
  id: "3.6",
  description: "Send Ping with RSV = 6.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  // case3_6.py: the frame is a binary one (opcode 2), whatever the description says.
  script: [frame(BINARY, "Hello, world!", { rsv: 6 }), killAfter(1)],
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 0),
});
add({
  id: "3.7",
  description: "Send Close with RSV = 7.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  script: [frame(CLOSE, undefined, { rsv: 7 }), killAfter(1)], // case3_7.py: no payload
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 0),
});

// ---------------------------------------------------------------------------------------------
// 4 Opcodes

for (
  const [group, opcodes, kind] of [
    ["4.1", [3, 4, 5, 6, 7], "non-control"],
    ["4.2", [11, 12, 13, 14, 15], "control"],
  ] as const
) {
  const [a, b, c, d, e] = opcodes;
  const expectation = "The connection is failed immediately.";
  add({
    id: `${group}.1`,
    description: `Send frame with reserved ${kind} Opcode = ${a}.`,
    expectation,
    script: [frame(a), killAfter(1)],
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
    fails: failsAt(PROTOCOL_ERROR, 0),
  });
  add({
    id: `${group}.2`,
    description: `Send frame with reserved ${kind} Opcode = ${b} and non-empty payload.`,
    expectation,
    script: [frame(b, "reserved opcode payload"), killAfter(1)],
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
    fails: failsAt(PROTOCOL_ERROR, 0),
  });
  for (
    const [n, opcode, withPayload, chop] of [[3, c, false, 0], [4, d, true, 0], [
      5,
      e,
      true,
      1,
    ]] as const
  ) {
    const o = chop ? { chop: 1, sync: true } : {};
    add({
      id: `${group}.${n}`,
      description: `Send small text message, then send frame with reserved ${kind} Opcode = ` +
        `${opcode}${withPayload ? " and non-empty payload" : ""}, then send Ping` +
        (chop ? ", in octet-wise chops." : "."),
      expectation: "Echo for first message is received, but then connection is failed " +
        "immediately, since reserved opcode frame is used. A Pong is not received.",
      script: [
        frame(TEXT, "Hello, world!", o),
        // case4_1_4.py / case4_1_5.py: the reserved frame carries the message's own payload.
        frame(opcode, withPayload ? "Hello, world!" : "", o),
        frame(PING, undefined, o),
        killAfter(1),
      ],
      expected: { OK: [message("Hello, world!")], "NON-STRICT": [] },
      close: clientFails(PROTOCOL_ERROR),
      fails: failsAt(PROTOCOL_ERROR, 1),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 5 Fragmentation

for (const [id, opcode, name] of [["5.1", PING, "Ping"], ["5.2", PONG, "Pong"]] as const) {
  add({
    id,
    description: `Send ${name} fragmented into 2 fragments.`,
    expectation: "Connection is failed immediately, since control message MUST NOT be fragmented.",
    script: [
      frame(opcode, "fragment1", { fin: false }),
      frame(CONTINUATION, "fragment2"),
      killAfter(1),
    ],
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
    fails: failsAt(PROTOCOL_ERROR, 0),
  });
}
const CHOPPINGS = [["", {}], [" frame-wise", { sync: true }], [
  " octet-wise",
  { chop: 1, sync: true },
]] as const;
for (const [i, [how, o]] of CHOPPINGS.entries()) {
  add({
    id: `5.${3 + i}`,
    description: `Send text Message fragmented into 2 fragments${how ? `, in${how} chops` : ""}.`,
    expectation: "Message is processed and echo'ed back to us.",
    script: [
      frame(TEXT, "fragment1", { fin: false, ...o }),
      frame(CONTINUATION, "fragment2", o),
      closeAfter(1), // case5_3.py .. case5_5.py
    ],
    expected: { OK: [message("fragment1fragment2")] },
    close: CLOSES_NORMALLY,
  });
}
for (const [i, [how, o]] of CHOPPINGS.entries()) {
  add({
    id: `5.${6 + i}`,
    description: `Send text Message fragmented into 2 fragments, one ping with payload in-between${
      how ? `, in${how} chops` : ""
    }.`,
    expectation: "A pong is received, then the message is echo'ed back to us.",
    script: [
      frame(TEXT, "fragment1", { fin: false, ...o }),
      frame(PING, "ping payload", o),
      frame(CONTINUATION, "fragment2", o),
      closeAfter(1), // case5_6.py .. case5_8.py
    ],
    expected: { OK: [pong("ping payload"), message("fragment1fragment2")] },
    close: CLOSES_NORMALLY,
  });
}
for (const [k, fin] of [[9, true], [12, false]] as const) {
  for (const [i, [how, o]] of CHOPPINGS.entries()) {
    add({
      id: `5.${k + i}`,
      description: `Send unfragmented Text Message after Continuation Frame with FIN = ${fin}, ` +
        `where there is nothing to continue${how ? `, sent in${how} chops` : ""}.`,
      expectation: "The connection is failed immediately, since there is no message to continue.",
      script: [
        frame(CONTINUATION, "non-continuation payload", { fin, ...o }),
        frame(TEXT, "Hello, world!", o),
        killAfter(1),
      ],
      expected: { OK: [] },
      close: clientFails(PROTOCOL_ERROR),
      fails: failsAt(PROTOCOL_ERROR, 0),
    });
  }
}
add({
  id: "5.15",
  description: "Send text Message fragmented into 2 fragments, then Continuation Frame with " +
    "FIN = false where there is nothing to continue, then unfragmented Text Message, all sent " +
    "in one chop.",
  expectation: "The connection is failed immediately, since there is no message to continue.",
  script: [
    frame(TEXT, "fragment1", { fin: false }),
    frame(CONTINUATION, "fragment2"),
    frame(CONTINUATION, "fragment3", { fin: false }),
    frame(TEXT, "fragment4"),
    killAfter(1),
  ],
  expected: { OK: [message("fragment1fragment2")], "NON-STRICT": [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 2),
});
for (const [id, fin] of [["5.16", false], ["5.17", true]] as const) {
  const round = [
    frame(CONTINUATION, "fragment1", { fin }),
    frame(TEXT, "fragment2", { fin: false }),
    frame(CONTINUATION, "fragment3"),
  ];
  add({
    id,
    description: `Repeated 2x: Continuation Frame with FIN = ${fin} (where there is nothing to ` +
      "continue), then text Message fragmented into 2 fragments.",
    expectation: "The connection is failed immediately, since there is no message to continue.",
    script: [...round, ...round, killAfter(1)],
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
    fails: failsAt(PROTOCOL_ERROR, 0),
  });
}
add({
  id: "5.18",
  description:
    "Send text Message fragmented into 2 fragments, with both frame opcodes set to text.",
  expectation: "The connection is failed immediately, since all data frames after the initial " +
    "data frame must have opcode 0.",
  script: [frame(TEXT, "fragment1", { fin: false }), frame(TEXT, "fragment2"), killAfter(1)],
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
  fails: failsAt(PROTOCOL_ERROR, 1),
});
for (const [id, sync] of [["5.19", false], ["5.20", true]] as const) {
  const fragmentN = (n: number) => `fragment${n}`;
  const o = sync ? { sync } : {};
  add({
    id,
    description: "A fragmented text message is sent in multiple frames. After sending the " +
      "first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more " +
      "text fragments, another Ping and then the final text fragment. Everything is legal." +
      (sync ? " All frames are sent with SYNC = True." : ""),
    expectation: "The peer immediately answers the first Ping before it has received the last " +
      "text message fragment. The peer pong's back the Ping's payload exactly, and echo's the " +
      "payload of the fragmented message back to us.",
    script: [
      frame(TEXT, fragmentN(1), { fin: false, ...o }),
      frame(CONTINUATION, fragmentN(2), { fin: false, ...o }),
      frame(PING, "pongme 1!", o),
      wait(1),
      frame(CONTINUATION, fragmentN(3), { fin: false, ...o }),
      frame(CONTINUATION, fragmentN(4), { fin: false, ...o }),
      frame(PING, "pongme 2!", o),
      frame(CONTINUATION, fragmentN(5), o),
      closeAfter(1),
    ],
    expected: {
      OK: [pong("pongme 1!"), pong("pongme 2!"), message([1, 2, 3, 4, 5].map(fragmentN).join(""))],
    },
    close: CLOSES_NORMALLY,
  });
}

// ---------------------------------------------------------------------------------------------
// 6 UTF-8 Handling

/** A valid UTF-8 text (6.2.1 .. 6.2.3). */
export const HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!";
/** The invalid text of 6.3.x and 7.5.1: κόσμε, then a surrogate (0xeda080), then "edited". */
export const INVALID_UTF8 = join(KOSME, hex("ed a0 80"), bytesOf("edited"));
/** Where INVALID_UTF8 cannot go on: 0xa0 after 0xed. */
const INVALID_UTF8_AT = 12;

const validText = (id: string, description: string, script: Step[], text: string) =>
  add({
    id,
    description,
    expectation: "The message is echo'ed back to us.",
    script: [...script, closeAfter(1)], // case6_1_x.py, case6_2_x.py
    expected: { OK: [message(text)] },
    close: CLOSES_NORMALLY,
  });

validText("6.1.1", "Send text message of length 0.", [frame(TEXT)], "");
validText(
  "6.1.2",
  "Send fragmented text message, 3 fragments each of length 0.",
  [
    frame(TEXT, undefined, { fin: false }),
    frame(CONTINUATION, undefined, { fin: false }),
    frame(
      CONTINUATION,
    ),
  ],
  "",
);
validText(
  "6.1.3",
  "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
  [
    frame(TEXT, undefined, { fin: false }),
    frame(CONTINUATION, "middle frame payload", { fin: false }),
    frame(CONTINUATION),
  ],
  "middle frame payload",
);
validText(
  "6.2.1",
  `Send a valid UTF-8 text message in one fragment. MESSAGE: ${HELLO_UTF8}`,
  [frame(TEXT, HELLO_UTF8)],
  HELLO_UTF8,
);
validText(
  "6.2.2",
  `Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.`,
  [frame(TEXT, "Hello-µ@ßöä", { fin: false }), frame(CONTINUATION, "üàá-UTF-8!!")],
  HELLO_UTF8,
);
validText(
  "6.2.3",
  "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on " +
    "positions which are not code point ends.",
  fragments(TEXT, HELLO_UTF8, 1),
  HELLO_UTF8,
);
validText(
  "6.2.4",
  "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on " +
    "positions which are not code point ends. MESSAGE: κόσμε",
  fragments(TEXT, KOSME, 1),
  new TextDecoder().decode(KOSME),
);

for (const [id, fragmentSize] of [["6.3.1", undefined], ["6.3.2", 1]] as const) {
  add({
    id,
    description: `Send invalid UTF-8 text message ${
      fragmentSize ? "in fragments of 1 octet" : "unfragmented"
    }. MESSAGE: cebae1bdb9cf83cebcceb5eda080656469746564`,
    expectation: "The connection is failed immediately, since the payload is not valid UTF-8.",
    script: [...fragments(TEXT, INVALID_UTF8, fragmentSize), killAfter(1)],
    expected: { OK: [] },
    close: clientFails(INVALID_PAYLOAD, true),
    fails: fragmentSize
      ? failsAt(INVALID_PAYLOAD, INVALID_UTF8_AT, 0)
      : failsAt(INVALID_PAYLOAD, 0, INVALID_UTF8_AT),
  });
}

/**
 * The text of 6.4.x: κόσμε, then 0xf4908080 (above U+10FFFF: impossible from its second octet,
 * 0x90, at 12), then "edited". PART1 is valid, PART2 makes it invalid, PART3 is the rest.
 */
export const FAIL_FAST_UTF8 = join(KOSME, hex("f4 90 80 80"), bytesOf("edited"));
const FAIL_FAST_AT = 12;

// 6.4.x: 1 s between the parts. Failing at PART2 is OK (the "A" timeout only), failing only
// once the message is complete NON-STRICT.
for (
  const [id, frames, cut1, cut2] of [
    ["6.4.1", true, 11, 15],
    ["6.4.2", true, 12, 13],
    ["6.4.3", false, 11, 15],
    ["6.4.4", false, 12, 13],
  ] as const
) {
  const parts = [
    FAIL_FAST_UTF8.subarray(0, cut1),
    FAIL_FAST_UTF8.subarray(cut1, cut2),
    FAIL_FAST_UTF8.subarray(cut2),
  ];
  const head = new Uint8Array([0x81, FAIL_FAST_UTF8.length]);
  add({
    id,
    description:
      `Send invalid UTF-8 text message in 3 ${
        frames ? "fragments (frames)" : "chops of one frame"
      }. The first part is valid, then wait, then the part making the sequence invalid, then wait, ` +
      `then the rest. PART1 = ${hexOf(parts[0])}, PART2 = ${hexOf(parts[1])}, PART3 = ${
        hexOf(parts[2])
      }`,
    expectation: "The first part is accepted, we expect to timeout on the first wait. The 2nd " +
      "part should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the " +
      "connection is failed at least then, since the complete message payload is not valid UTF-8.",
    script: frames
      ? [
        frame(TEXT, parts[0], { fin: false }),
        wait(1, "A"),
        frame(CONTINUATION, parts[1], { fin: false }),
        wait(1, "B"),
        frame(CONTINUATION, parts[2]),
        killAfter(1),
      ]
      : [
        raw(join(head, parts[0])),
        wait(1, "A"),
        raw(parts[1]),
        wait(1, "B"),
        raw(parts[2]),
        killAfter(1),
      ],
    expected: { OK: [timeout("A")], "NON-STRICT": [timeout("A"), timeout("B")] },
    close: clientFails(INVALID_PAYLOAD, true),
    fails: frames
      ? failsAt(INVALID_PAYLOAD, 1, FAIL_FAST_AT - cut1)
      : failsAt(INVALID_PAYLOAD, 0, FAIL_FAST_AT),
  });
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

for (const [i, [category, list]] of utf8TestSequences().entries()) {
  for (const [j, [valid, payload]] of list.entries()) {
    add({
      id: `6.${i + 5}.${j + 1}`,
      description: `${category}: send a text message with payload which is ${
        valid ? "" : "not "
      }valid UTF-8 in one fragment. Payload: 0x${hexOf(payload)}`,
      expectation: valid
        ? "The message is echo'ed back to us."
        : "The connection is failed immediately, since the payload is not valid UTF-8.",
      script: [frame(TEXT, payload), killAfter(0.5)],
      expected: { OK: valid ? [message(payload)] : [] },
      close: valid ? CLOSES_NORMALLY : clientFails(INVALID_PAYLOAD, true),
      ...(valid ? {} : { fails: failsAt(INVALID_PAYLOAD, 0) }),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 7 Close Handling

/** A case 7.x where the server closes: it does not close again once the events match. */
const closeCase = (
  id: string,
  description: string,
  expectation: string,
  script: Step[],
  closeCode: number[],
  requireClean: boolean,
  fails?: StrictFailure,
) =>
  add({
    id,
    description,
    expectation,
    script: [...script, killAfter(1)],
    expected: { OK: [] },
    close: { closedByMe: true, closeCode, requireClean },
    suppressClose: true,
    verdict: "wrong code fails",
    ...(fails ? { fails } : {}),
  });

add({
  id: "7.1.1",
  description: "Send a message followed by a close frame",
  expectation: "Echoed message followed by clean close with normal code.",
  script: [frame(TEXT, "Hello World!"), killAfter(1)],
  expected: { OK: [message("Hello World!")] },
  close: CLOSES_NORMALLY,
  verdict: "wrong code fails",
});
closeCase(
  "7.1.2",
  "Send two close frames",
  "Clean close with normal code. Second close frame ignored.",
  [serverClose(NORMAL), frame(CLOSE)],
  [NORMAL],
  true,
);
closeCase(
  "7.1.3",
  "Send a ping after close message",
  "Clean close with normal code, no pong.",
  [serverClose(NORMAL), frame(PING)],
  [NORMAL],
  true,
);
closeCase(
  "7.1.4",
  "Send text message after sending a close frame",
  "Clean close with normal code. Text message ignored.",
  [serverClose(NORMAL), frame(TEXT, "Hello World!")],
  [NORMAL],
  true,
);
closeCase(
  "7.1.5",
  "Send message fragment1 followed by close then fragment",
  "Clean close with normal code.",
  [frame(TEXT, "fragment1", { fin: false }), serverClose(NORMAL), frame(CONTINUATION, "fragment2")],
  [NORMAL],
  true,
);
add({
  id: "7.1.6",
  description: "Send 256K message followed by close then a ping",
  expectation: "Case outcome depends on implementation defined close behavior. Message and close " +
    "frame are sent back to back. If the close frame is processed before the text message write " +
    "is complete (as can happen in asynchronous processing models) the close frame is processed " +
    "first and the text message may not be received or may only be partially received.",
  script: [
    frame(TEXT, "BAsd7&jh23".repeat(256 * 1024 / 10 + 1).slice(0, 256 * 1024)),
    frame(TEXT, "Hello World!"),
    serverClose(NORMAL),
    frame(PING),
    killAfter(1),
  ],
  expected: { OK: [message("Hello World!")], "NON-STRICT": [] },
  close: CLOSES_NORMALLY,
  suppressClose: true,
  verdict: "informational",
});
closeCase(
  "7.3.1",
  "Send a close frame with payload length 0 (no close code, no close reason)",
  "Clean close with normal code.",
  [serverClose()],
  [NORMAL],
  true,
);
closeCase(
  "7.3.2",
  "Send a close frame with payload length 1",
  "Clean close with protocol error or drop TCP.",
  [serverClose(undefined, "a")],
  [PROTOCOL_ERROR],
  false,
  failsAt(PROTOCOL_ERROR, 0),
);
closeCase(
  "7.3.3",
  "Send a close frame with payload length 2 (regular close with a code)",
  "Clean close with normal code.",
  [serverClose(NORMAL)],
  [NORMAL],
  true,
);
closeCase(
  "7.3.4",
  "Send a close frame with close code and close reason",
  "Clean close with normal code.",
  [serverClose(NORMAL, "Hello World!")],
  [NORMAL],
  true,
);
closeCase(
  "7.3.5",
  "Send a close frame with close code and close reason of maximum length (123)",
  "Clean close with normal code.",
  [serverClose(NORMAL, "*".repeat(123))],
  [NORMAL],
  true,
);
closeCase(
  "7.3.6",
  "Send a close frame with close code and close reason which is too long (124) - total frame " +
    "payload 126 octets",
  "Clean close with protocol error code or dropped TCP connection.",
  [serverClose(NORMAL, "*".repeat(124))],
  [PROTOCOL_ERROR],
  false,
  failsAt(PROTOCOL_ERROR, 0),
);
closeCase(
  "7.5.1",
  "Send a close frame with invalid UTF8 payload",
  "Clean close with protocol error or invalid utf8 code or dropped TCP.",
  [serverClose(NORMAL, INVALID_UTF8)],
  [PROTOCOL_ERROR, INVALID_PAYLOAD],
  false,
  failsAt(INVALID_PAYLOAD, 0),
);
for (
  const [i, code] of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
    .entries()
) {
  closeCase(
    `7.7.${i + 1}`,
    `Send close with valid close code ${code}`,
    "Clean close with normal or echoed code",
    [serverClose(code)],
    [NORMAL, code],
    true,
  );
}
for (const [i, code] of [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].entries()) {
  closeCase(
    `7.9.${i + 1}`,
    `Send close with invalid close code ${code}`,
    "Clean close with protocol error code or drop TCP",
    [serverClose(code)],
    [PROTOCOL_ERROR],
    false,
    failsAt(PROTOCOL_ERROR, 0),
  );
}
for (const [id, code] of [["7.13.1", 5000], ["7.13.2", 65535]] as const) {
  add({
    id,
    description: `Send close with close code ${code}`,
    expectation: "Actual events are undefined by the spec.",
    script: [serverClose(code), killAfter(1)],
    expected: { OK: [] },
    close: { closedByMe: true, closeCode: [NORMAL, code, PROTOCOL_ERROR], requireClean: false },
    suppressClose: true,
    verdict: "informational",
    fails: failsAt(PROTOCOL_ERROR, 0),
  });
}

// ---------------------------------------------------------------------------------------------
// 9 Limits/Performance (the suite's sizes: the fuzzing server scales them down unless `full`)

const KiB = 1024;
const MiB = 1024 * KiB;
const sizeLabel = (n: number) => n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`;
const TEXT_PATTERN = bytesOf("BAsd7&jh23");
/** case9_2_1.py / case9_6_1.py */
const BINARY_PATTERN = hex("00 fe 23 fa f0");

const echo = (c: Omit<EchoCase, "kind" | "expectation"> & { expectation?: string }) =>
  cases.push({
    kind: "echo",
    expectation: `Receive echo'ed ${c.binary ? "binary" : "text"} message (with payload as sent).`,
    ...c,
  });

for (const [group, binary] of [["9.1", false], ["9.2", true]] as const) {
  for (const [i, n] of [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB].entries()) {
    echo({
      id: `${group}.${i + 1}`,
      description: `Send ${binary ? "binary" : "text"} message message with payload of length ${
        sizeLabel(n)
      }.`,
      binary,
      length: n,
      pattern: binary ? BINARY_PATTERN : TEXT_PATTERN,
      // case9_1_x.py / case9_2_x.py: WAITSECS per case.
      waitSeconds: (binary ? [10, 10, 10, 10, 100, 100] : [10, 10, 100, 100, 100, 100])[i],
    });
  }
}
for (const [group, binary] of [["9.3", false], ["9.4", true]] as const) {
  for (
    const [i, f] of [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].entries()
  ) {
    echo({
      id: `${group}.${i + 1}`,
      description: `Send fragmented ${binary ? "binary" : "text"} message message with message ` +
        `payload of length 4M. Sent out in fragments of ${sizeLabel(f)}.`,
      binary,
      length: 4 * MiB,
      pattern: binary ? hex("fe") : bytesOf("*"), // case9_3_1.py / case9_4_1.py
      fragmentSize: f,
      waitSeconds: 100,
    });
  }
}
for (const [group, binary] of [["9.5", false], ["9.6", true]] as const) {
  for (const [i, chop] of [64, 128, 256, 512, KiB, 2 * KiB].entries()) {
    echo({
      id: `${group}.${i + 1}`,
      description: `Send ${binary ? "binary" : "text"} message message with payload of length ` +
        `1M. Sent out data in chops of ${chop} octets.`,
      binary,
      length: MiB,
      pattern: binary ? BINARY_PATTERN : TEXT_PATTERN,
      chop,
      waitSeconds: 1000,
    });
  }
}
for (const [group, binary] of [["9.7", false], ["9.8", true]] as const) {
  for (const [i, n] of [0, 16, 64, 256, KiB, 4 * KiB].entries()) {
    // case9_7_X.py: the timeout grows with the size.
    const waitSeconds = [60, 60, 60, 120, 240, 480][i];
    const kind = binary ? "binary" : "text";
    echo({
      id: `${group}.${i + 1}`,
      description: `Send 1000 ${kind} messages of payload size ${n} to measure ` +
        "implementation/network RTT (round trip time) / latency.",
      expectation: `Receive echo'ed ${kind} messages (with payload as sent). Timeout case after ` +
        `${waitSeconds} secs.`,
      binary,
      length: n,
      pattern: binary ? hex("fe") : bytesOf("*"),
      roundTrips: 1000,
      waitSeconds,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 10 Misc

add({
  id: "10.1.1",
  description: "Send text message with payload of length 65536 auto-fragmented with " +
    "autoFragmentSize = 1300.",
  expectation: "Receive echo'ed text message (with payload as sent and transmitted frame counts " +
    "as expected). Clean close with normal code.",
  script: [...fragments(TEXT, "*".repeat(65536), 1300), killAfter(10)],
  expected: { OK: [message("*".repeat(65536))] },
  close: CLOSES_NORMALLY,
});

// ---------------------------------------------------------------------------------------------
// 12 and 13 WebSocket Compression (permessage-deflate, RFC 7692; case12_x_x.py)

/** case12_x_x.py's MSG_SIZES: (payload length, message count, WAITSECS, auto-fragment size). */
const MSG_SIZES: ReadonlyArray<readonly [number, number, number, number]> = [
  [16, 1000, 60, 0],
  [64, 1000, 60, 0],
  [256, 1000, 120, 0],
  [1024, 1000, 240, 0],
  [4096, 1000, 480, 0],
  [8192, 1000, 480, 0],
  [16384, 1000, 480, 0],
  [32768, 1000, 480, 0],
  [65536, 1000, 480, 0],
  [131072, 1000, 480, 0],
  [8192, 1000, 480, 256],
  [16384, 1000, 480, 256],
  [32768, 1000, 480, 256],
  [65536, 1000, 480, 256],
  [131072, 1000, 480, 256],
  [131072, 1000, 480, 1024],
  [131072, 1000, 480, 4096],
  [131072, 1000, 480, 32768],
];

const deflateCase = (
  id: string,
  data: DeflateData["name"],
  [length, count, waitSeconds, fragmentSize]: readonly [number, number, number, number],
  accept: DeflateAccept,
  offers: string,
) =>
  cases.push(
    {
      kind: "deflate",
      id,
      description: `Send ${count} compressed messages each of payload size ${length}, ` +
        `auto-fragment to ${fragmentSize} octets. ${offers}`,
      expectation: `Receive echo'ed messages (with payload as sent). Timeout case after ` +
        `${waitSeconds} secs.`,
      data,
      length,
      count,
      fragmentSize,
      accept,
      waitSeconds,
    } satisfies DeflateCase,
  );

// 12.1-12.5: the data sets in the suite's order (Python 2's order of its dict), the default
// offer, accepted as it is.
for (
  const [j, data] of (["json_data1", "lena512", "gutenberg_faust", "html_data1", "ooms"] as const)
    .entries()
) {
  for (const [i, size] of MSG_SIZES.entries()) {
    deflateCase(
      `12.${j + 1}.${i + 1}`,
      data,
      size,
      [[false, 0]],
      "Use default permessage-deflate offer.",
    );
  }
}

// 13.1-13.7: the JSON data set, the server's accept rules accept1 to accept7 (each one
// [requestNoContextTakeover, requestMaxWindowBits] choice after the other), and the client
// offers the suite pairs them with when it tests servers.
const ACCEPTS: ReadonlyArray<readonly [DeflateAccept, string]> = [
  [[[false, 0]], "[(False, 0)]"],
  [[[true, 0]], "[(True, 0)]"],
  [[[false, 8]], "[(False, 8)]"],
  [[[false, 15]], "[(False, 15)]"],
  [[[true, 8]], "[(True, 8)]"],
  [[[true, 15]], "[(True, 15)]"],
  [[[true, 8], [true, 0], [false, 0]], "[(True, 8), (True, 0), (False, 0)]"],
];
for (const [j, [accept, choices]] of ACCEPTS.entries()) {
  for (const [i, size] of MSG_SIZES.entries()) {
    deflateCase(
      `13.${j + 1}.${i + 1}`,
      "json_data1",
      size,
      accept,
      `Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): ` +
        `${choices}`,
    );
  }
}

/** Every case, in the suite's order. */
export const CASES: readonly AutobahnCase[] = cases;

/** Autobahn's `payload_len`: `pattern` repeated up to `n` octets (an echo case's payload). */
export function repeatTo(pattern: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(pattern.subarray(0, n));
  // Doubling what is filled keeps the period: log2(n / pattern.length) copies.
  for (let filled = Math.min(pattern.length, n); filled < n; filled *= 2) {
    out.copyWithin(filled, 0, Math.min(filled, n - filled));
  }
  return out;
}

/** The cases whose id matches one of `patterns` ("6.4.*", "1.1.1", "9"), in order. */
export function selectCases(patterns: readonly string[] | undefined): AutobahnCase[] {
  if (!patterns || patterns.length === 0) return [...CASES];
  const res = patterns.map((p) => {
    const body = p.replace(/\./g, "\\.").replace(/\*/g, ".*");
    return new RegExp(p.includes("*") ? `^${body}$` : `^${body}(\\..*)?$`);
  });
  return CASES.filter((c) => res.some((r) => r.test(c.id)));
}
