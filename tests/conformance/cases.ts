// The Autobahn|Testsuite client cases of groups 1-7, 9 and 10, in the suite's order, written from
// the suite's case descriptions and RFC 6455: what the fuzzing server sends, how it chops it, what
// it waits for, and which events and close it expects. The numbering is the suite's.

import type {
  Behavior,
  CaseApi,
  CaseDef,
  CaseEvent,
  ExpectedClose,
  Verdict,
} from "./case_types.ts";
import { KOSME, utf8TestSequences } from "./utf8_sequences.ts";
import { BINARY, bytesOf, CLOSE, CONTINUATION, hex, join, PING, PONG, TEXT } from "./wire.ts";

const NORMAL = 1000;
const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;

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

interface Shape {
  readonly id: string;
  readonly description: string;
  readonly expectation: string;
  /** Sends the case's frames. */
  readonly send: (api: CaseApi) => void;
  readonly expected: Partial<Record<Behavior, CaseEvent[]>>;
  readonly close: ExpectedClose;
  /** killAfter (seconds); closeAfter when `closeAfter` is set instead. */
  readonly kill?: number;
  readonly closeAfter?: number;
  readonly suppressClose?: boolean;
  readonly adjust?: (v: Verdict) => void;
}

function shaped(s: Shape): CaseDef {
  return {
    id: s.id,
    description: s.description,
    expectation: s.expectation,
    suppressClose: s.suppressClose,
    adjust: s.adjust,
    open(api) {
      for (const [behavior, events] of Object.entries(s.expected)) {
        api.expect(behavior as Behavior, events);
      }
      api.expectClose(s.close);
      s.send(api);
      if (s.closeAfter !== undefined) api.closeAfter(s.closeAfter);
      else api.killAfter(s.kill ?? 1);
    },
  };
}

/** Cases 7.x: a wrong close code fails the case itself. */
function wrongCodeFails(v: Verdict): void {
  if (v.behaviorClose === "WRONG CODE") {
    v.behavior = "FAILED";
    v.result = v.resultClose;
  }
}

/** Cases whose outcome the spec leaves open: reported, never judged. */
function informational(v: Verdict): void {
  v.behavior = "INFORMATIONAL";
  v.behaviorClose = "INFORMATIONAL";
}

const cases: CaseDef[] = [];
const add = (s: Shape) => cases.push(shaped(s));

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
      send: (api) => api.sendFrame({ opcode, payload: make(n) }),
      expected: { OK: [message(make(n), binary)] },
      close: CLOSES_NORMALLY,
      // case1_1_6.py / case1_1_7.py: killAfter(10) for the 64 KiB sizes, killAfter(1) below.
      kill: n >= 65535 ? 10 : 1,
    });
  }
  add({
    id: `${group}.8`,
    description:
      `Send ${kind} message with payload of length 65536, sent out in chops of 997 octets.`,
    expectation:
      `Receive echo'ed ${kind} message (with payload as sent). Clean close with normal code.`,
    send: (api) => api.sendFrame({ opcode, payload: make(65536), chop: 997 }),
    expected: { OK: [message(make(65536), binary)] },
    close: CLOSES_NORMALLY,
    kill: 10,
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
    send: (api) => api.sendFrame({ opcode: PING, payload, chop }),
    expected: { OK: [pong(payload)] },
    close: CLOSES_NORMALLY,
    // case2_1.py .. case2_4.py: closeAfter(1); case2_6.py: closeAfter(2).
    closeAfter: chop ? 2 : 1,
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
  send: (api) => api.sendFrame({ opcode: PING, payload: new Uint8Array(126).fill(0xfe) }),
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
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
    send: (api) => {
      api.sendFrame({ opcode: PONG, payload });
      api.sendClose(NORMAL);
    },
    expected: { OK: [] },
    close: CLOSES_NORMALLY,
    closeAfter: 1,
  });
}
add({
  id: "2.9",
  description: "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping " +
    "is received.",
  expectation: "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. " +
    "Clean close with normal code.",
  send: (api) => {
    api.sendFrame({ opcode: PONG, payload: "unsolicited pong payload" });
    api.sendFrame({ opcode: PING, payload: "ping payload" });
  },
  expected: { OK: [pong("ping payload")] },
  close: CLOSES_NORMALLY,
  closeAfter: 1, // case2_9.py
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
    send: (api) => {
      for (const p of payloads) api.sendFrame({ opcode: PING, payload: p, chop });
    },
    expected: { OK: payloads.map((p) => pong(p)) },
    close: CLOSES_NORMALLY,
    closeAfter: 3,
  });
}

// ---------------------------------------------------------------------------------------------
// 3 Reserved Bits

add({
  id: "3.1",
  description: "Send small text message with RSV = 1.",
  expectation: "The connection is failed immediately (1002/protocol error), since RSV must be 0, " +
    "when no extension defining RSV meaning has been negotiated.",
  send: (api) => api.sendFrame({ opcode: TEXT, payload: "Hello, world!", rsv: 1 }),
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
});
for (const [id, rsv, how] of [[2, 2, ""], [3, 3, " frame-wise"], [4, 4, " octet-wise"]] as const) {
  add({
    id: `3.${id}`,
    description: `Send small text message, then send again with RSV = ${rsv}, then send Ping.` +
      (how ? ` Octets are sent in${how} chops.` : ""),
    expectation: "Echo for first message is received, but then connection is failed " +
      "immediately, since RSV must be 0, when no extension defining RSV meaning has been " +
      "negotiated. The Pong is not received.",
    send: (api) => {
      const sync = how !== "";
      const chop = how === " octet-wise" ? 1 : undefined;
      api.sendFrame({ opcode: TEXT, payload: "Hello, world!", sync, chop });
      api.sendFrame({ opcode: TEXT, payload: "Hello, world!", rsv, sync, chop });
      api.sendFrame({ opcode: PING, sync, chop });
    },
    expected: { OK: [message("Hello, world!")], "NON-STRICT": [] },
    close: clientFails(PROTOCOL_ERROR),
  });
}
add({
  id: "3.5",
  description: "Send small binary message with RSV = 5.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  send: (api) => api.sendFrame({ opcode: BINARY, payload: hex("00 ff fe fd fc fb 00 ff"), rsv: 5 }),
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
});
add({
  id: "3.6",
  description: "Send Ping with RSV = 6.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  // case3_6.py: the frame is a binary one (opcode 2), whatever the description says.
  send: (api) => api.sendFrame({ opcode: BINARY, payload: "Hello, world!", rsv: 6 }),
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
});
add({
  id: "3.7",
  description: "Send Close with RSV = 7.",
  expectation: "The connection is failed immediately, since RSV must be 0.",
  send: (api) => api.sendFrame({ opcode: CLOSE, rsv: 7 }), // case3_7.py: no payload
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
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
    send: (api) => api.sendFrame({ opcode: a }),
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
  });
  add({
    id: `${group}.2`,
    description: `Send frame with reserved ${kind} Opcode = ${b} and non-empty payload.`,
    expectation,
    send: (api) => api.sendFrame({ opcode: b, payload: "reserved opcode payload" }),
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
  });
  for (
    const [n, opcode, withPayload, chop] of [[3, c, false, 0], [4, d, true, 0], [
      5,
      e,
      true,
      1,
    ]] as const
  ) {
    add({
      id: `${group}.${n}`,
      description: `Send small text message, then send frame with reserved ${kind} Opcode = ` +
        `${opcode}${withPayload ? " and non-empty payload" : ""}, then send Ping` +
        (chop ? ", in octet-wise chops." : "."),
      expectation: "Echo for first message is received, but then connection is failed " +
        "immediately, since reserved opcode frame is used. A Pong is not received.",
      send: (api) => {
        const o = chop ? { chop: 1, sync: true } : {};
        api.sendFrame({ opcode: TEXT, payload: "Hello, world!", ...o });
        // case4_1_4.py / case4_1_5.py: the reserved frame carries the message's own payload.
        api.sendFrame({ opcode, payload: withPayload ? "Hello, world!" : "", ...o });
        api.sendFrame({ opcode: PING, ...o });
      },
      expected: { OK: [message("Hello, world!")], "NON-STRICT": [] },
      close: clientFails(PROTOCOL_ERROR),
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
    send: (api) => {
      api.sendFrame({ opcode, payload: "fragment1", fin: false });
      api.sendFrame({ opcode: CONTINUATION, payload: "fragment2" });
    },
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
  });
}
const CHOPPINGS = [["", undefined, false], [" frame-wise", undefined, true], [
  " octet-wise",
  1,
  true,
]] as const;
for (const [i, [how, chop, sync]] of CHOPPINGS.entries()) {
  add({
    id: `5.${3 + i}`,
    description: `Send text Message fragmented into 2 fragments${how ? `, in${how} chops` : ""}.`,
    expectation: "Message is processed and echo'ed back to us.",
    send: (api) => {
      api.sendFrame({ opcode: TEXT, payload: "fragment1", fin: false, chop, sync });
      api.sendFrame({ opcode: CONTINUATION, payload: "fragment2", chop, sync });
    },
    expected: { OK: [message("fragment1fragment2")] },
    close: CLOSES_NORMALLY,
    closeAfter: 1, // case5_3.py .. case5_5.py
  });
}
for (const [i, [how, chop, sync]] of CHOPPINGS.entries()) {
  add({
    id: `5.${6 + i}`,
    description: `Send text Message fragmented into 2 fragments, one ping with payload in-between${
      how ? `, in${how} chops` : ""
    }.`,
    expectation: "A pong is received, then the message is echo'ed back to us.",
    send: (api) => {
      api.sendFrame({ opcode: TEXT, payload: "fragment1", fin: false, chop, sync });
      api.sendFrame({ opcode: PING, payload: "ping payload", chop, sync });
      api.sendFrame({ opcode: CONTINUATION, payload: "fragment2", chop, sync });
    },
    expected: { OK: [pong("ping payload"), message("fragment1fragment2")] },
    close: CLOSES_NORMALLY,
    closeAfter: 1, // case5_6.py .. case5_8.py
  });
}
for (const [k, fin] of [[9, true], [12, false]] as const) {
  for (const [i, [how, chop, sync]] of CHOPPINGS.entries()) {
    add({
      id: `5.${k + i}`,
      description: `Send unfragmented Text Message after Continuation Frame with FIN = ${fin}, ` +
        `where there is nothing to continue${how ? `, sent in${how} chops` : ""}.`,
      expectation: "The connection is failed immediately, since there is no message to continue.",
      send: (api) => {
        api.sendFrame({
          opcode: CONTINUATION,
          payload: "non-continuation payload",
          fin,
          chop,
          sync,
        });
        api.sendFrame({ opcode: TEXT, payload: "Hello, world!", chop, sync });
      },
      expected: { OK: [] },
      close: clientFails(PROTOCOL_ERROR),
    });
  }
}
add({
  id: "5.15",
  description: "Send text Message fragmented into 2 fragments, then Continuation Frame with " +
    "FIN = false where there is nothing to continue, then unfragmented Text Message, all sent " +
    "in one chop.",
  expectation: "The connection is failed immediately, since there is no message to continue.",
  send: (api) => {
    api.sendFrame({ opcode: TEXT, payload: "fragment1", fin: false });
    api.sendFrame({ opcode: CONTINUATION, payload: "fragment2" });
    api.sendFrame({ opcode: CONTINUATION, payload: "fragment3", fin: false });
    api.sendFrame({ opcode: TEXT, payload: "fragment4" });
  },
  expected: { OK: [message("fragment1fragment2")], "NON-STRICT": [] },
  close: clientFails(PROTOCOL_ERROR),
});
for (const [id, fin] of [["5.16", false], ["5.17", true]] as const) {
  add({
    id,
    description: `Repeated 2x: Continuation Frame with FIN = ${fin} (where there is nothing to ` +
      "continue), then text Message fragmented into 2 fragments.",
    expectation: "The connection is failed immediately, since there is no message to continue.",
    send: (api) => {
      for (let r = 0; r < 2; r++) {
        api.sendFrame({ opcode: CONTINUATION, payload: "fragment1", fin });
        api.sendFrame({ opcode: TEXT, payload: "fragment2", fin: false });
        api.sendFrame({ opcode: CONTINUATION, payload: "fragment3" });
      }
    },
    expected: { OK: [] },
    close: clientFails(PROTOCOL_ERROR),
  });
}
add({
  id: "5.18",
  description:
    "Send text Message fragmented into 2 fragments, with both frame opcodes set to text.",
  expectation: "The connection is failed immediately, since all data frames after the initial " +
    "data frame must have opcode 0.",
  send: (api) => {
    api.sendFrame({ opcode: TEXT, payload: "fragment1", fin: false });
    api.sendFrame({ opcode: TEXT, payload: "fragment2" });
  },
  expected: { OK: [] },
  close: clientFails(PROTOCOL_ERROR),
});
for (const [id, sync] of [["5.19", false], ["5.20", true]] as const) {
  const fragments = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"];
  cases.push({
    id,
    description: "A fragmented text message is sent in multiple frames. After sending the " +
      "first 2 frames of the text message, a Ping is sent. Then we wait 1s, then we send 2 more " +
      "text fragments, another Ping and then the final text fragment. Everything is legal." +
      (sync ? " All frames are sent with SYNC = True." : ""),
    expectation: "The peer immediately answers the first Ping before it has received the last " +
      "text message fragment. The peer pong's back the Ping's payload exactly, and echo's the " +
      "payload of the fragmented message back to us.",
    open(api) {
      api.expect("OK", [pong("pongme 1!"), pong("pongme 2!"), message(fragments.join(""))]);
      api.expectClose(CLOSES_NORMALLY);
      api.sendFrame({ opcode: TEXT, payload: fragments[0], fin: false, sync });
      api.sendFrame({ opcode: CONTINUATION, payload: fragments[1], fin: false, sync });
      api.sendFrame({ opcode: PING, payload: "pongme 1!", sync });
      api.later(1, () => {
        api.sendFrame({ opcode: CONTINUATION, payload: fragments[2], fin: false, sync });
        api.sendFrame({ opcode: CONTINUATION, payload: fragments[3], fin: false, sync });
        api.sendFrame({ opcode: PING, payload: "pongme 2!", sync });
        api.sendFrame({ opcode: CONTINUATION, payload: fragments[4], sync });
        api.closeAfter(1);
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------
// 6 UTF-8 Handling

const HELLO = "Hello-µ@ßöäüàá-UTF-8!!";
const validText = (id: string, description: string, send: (api: CaseApi) => void, text: string) =>
  add({
    id,
    description,
    expectation: "The message is echo'ed back to us.",
    send,
    expected: { OK: [message(text)] },
    close: CLOSES_NORMALLY,
    closeAfter: 1, // case6_1_x.py, case6_2_x.py
  });

validText("6.1.1", "Send text message of length 0.", (api) => api.sendFrame({ opcode: TEXT }), "");
validText(
  "6.1.2",
  "Send fragmented text message, 3 fragments each of length 0.",
  (api) => {
    api.sendFrame({ opcode: TEXT, fin: false });
    api.sendFrame({ opcode: CONTINUATION, fin: false });
    api.sendFrame({ opcode: CONTINUATION });
  },
  "",
);
validText(
  "6.1.3",
  "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
  (api) => {
    api.sendFrame({ opcode: TEXT, fin: false });
    api.sendFrame({ opcode: CONTINUATION, payload: "middle frame payload", fin: false });
    api.sendFrame({ opcode: CONTINUATION });
  },
  "middle frame payload",
);
validText(
  "6.2.1",
  `Send a valid UTF-8 text message in one fragment. MESSAGE: ${HELLO}`,
  (api) => api.sendFrame({ opcode: TEXT, payload: HELLO }),
  HELLO,
);
validText(
  "6.2.2",
  `Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.`,
  (api) => {
    api.sendFrame({ opcode: TEXT, payload: "Hello-µ@ßöä", fin: false });
    api.sendFrame({ opcode: CONTINUATION, payload: "üàá-UTF-8!!" });
  },
  HELLO,
);
validText(
  "6.2.3",
  "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on " +
    "positions which are not code point ends.",
  (api) => api.sendMessage(TEXT, HELLO, { fragmentSize: 1 }),
  HELLO,
);
validText(
  "6.2.4",
  "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on " +
    "positions which are not code point ends. MESSAGE: κόσμε",
  (api) => api.sendMessage(TEXT, KOSME, { fragmentSize: 1 }),
  new TextDecoder().decode(KOSME),
);

const INVALID = join(KOSME, hex("ed a0 80"), bytesOf("edited"));
for (const [id, fragmentSize] of [["6.3.1", undefined], ["6.3.2", 1]] as const) {
  add({
    id,
    description: `Send invalid UTF-8 text message ${
      fragmentSize ? "in fragments of 1 octet" : "unfragmented"
    }. MESSAGE: cebae1bdb9cf83cebcceb5eda080656469746564`,
    expectation: "The connection is failed immediately, since the payload is not valid UTF-8.",
    send: (api) => api.sendMessage(TEXT, INVALID, { fragmentSize }),
    expected: { OK: [] },
    close: clientFails(INVALID_PAYLOAD, true),
  });
}

// 6.4.x: part 1 is valid, part 2 makes the text invalid, part 3 is the rest; 1 s between parts.
// Failing at part 2 is OK, failing only once the message is complete NON-STRICT.
const P64 = join(KOSME, hex("f4 90 80 80"), bytesOf("edited"));
for (
  const [id, frames, cut1, cut2] of [
    ["6.4.1", true, 11, 15],
    ["6.4.2", true, 12, 13],
    ["6.4.3", false, 11, 15],
    ["6.4.4", false, 12, 13],
  ] as const
) {
  const parts = [P64.subarray(0, cut1), P64.subarray(cut1, cut2), P64.subarray(cut2)];
  cases.push({
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
    open(api) {
      api.expect("OK", [timeout("A")]);
      api.expect("NON-STRICT", [timeout("A"), timeout("B")]);
      api.expectClose(clientFails(INVALID_PAYLOAD, true));
      const head = new Uint8Array([0x81, P64.length]);
      if (frames) api.sendFrame({ opcode: TEXT, payload: parts[0], fin: false });
      else api.sendRaw(join(head, parts[0]));
      api.later(1, () => {
        if (!api.isOpen) return;
        api.record(timeout("A"));
        if (frames) api.sendFrame({ opcode: CONTINUATION, payload: parts[1], fin: false });
        else api.sendRaw(parts[1]);
        api.later(1, () => {
          if (!api.isOpen) return;
          api.record(timeout("B"));
          if (frames) api.sendFrame({ opcode: CONTINUATION, payload: parts[2] });
          else api.sendRaw(parts[2]);
          api.killAfter(1);
        });
      });
    },
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
      send: (api) => api.sendMessage(TEXT, payload),
      expected: { OK: valid ? [message(payload)] : [] },
      close: valid ? CLOSES_NORMALLY : clientFails(INVALID_PAYLOAD, true),
      kill: 0.5,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 7 Close Handling

const closeCase = (
  id: string,
  description: string,
  expectation: string,
  send: (api: CaseApi) => void,
  closeCode: number[],
  requireClean: boolean,
  expected: CaseEvent[] = [],
) =>
  add({
    id,
    description,
    expectation,
    send,
    expected: { OK: expected },
    close: { closedByMe: true, closeCode, requireClean },
    suppressClose: true,
    adjust: wrongCodeFails,
  });

add({
  id: "7.1.1",
  description: "Send a message followed by a close frame",
  expectation: "Echoed message followed by clean close with normal code.",
  send: (api) => api.sendFrame({ opcode: TEXT, payload: "Hello World!" }),
  expected: { OK: [message("Hello World!")] },
  close: CLOSES_NORMALLY,
  adjust: wrongCodeFails,
});
closeCase(
  "7.1.2",
  "Send two close frames",
  "Clean close with normal code. Second close frame ignored.",
  (api) => {
    api.sendClose(NORMAL);
    api.sendFrame({ opcode: CLOSE });
  },
  [NORMAL],
  true,
);
closeCase(
  "7.1.3",
  "Send a ping after close message",
  "Clean close with normal code, no pong.",
  (api) => {
    api.sendClose(NORMAL);
    api.sendFrame({ opcode: PING });
  },
  [NORMAL],
  true,
);
closeCase(
  "7.1.4",
  "Send text message after sending a close frame",
  "Clean close with normal code. Text message ignored.",
  (api) => {
    api.sendClose(NORMAL);
    api.sendFrame({ opcode: TEXT, payload: "Hello World!" });
  },
  [NORMAL],
  true,
);
closeCase(
  "7.1.5",
  "Send message fragment1 followed by close then fragment",
  "Clean close with normal code.",
  (api) => {
    api.sendFrame({ opcode: TEXT, payload: "fragment1", fin: false });
    api.sendClose(NORMAL);
    api.sendFrame({ opcode: CONTINUATION, payload: "fragment2" });
  },
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
  send: (api) => {
    api.sendFrame({
      opcode: TEXT,
      payload: "BAsd7&jh23".repeat(256 * 1024 / 10 + 1).slice(0, 256 * 1024),
    });
    api.sendFrame({ opcode: TEXT, payload: "Hello World!" });
    api.sendClose(NORMAL);
    api.sendFrame({ opcode: PING });
  },
  expected: { OK: [message("Hello World!")], "NON-STRICT": [] },
  close: CLOSES_NORMALLY,
  suppressClose: true,
  adjust: informational,
});
closeCase(
  "7.3.1",
  "Send a close frame with payload length 0 (no close code, no close reason)",
  "Clean close with normal code.",
  (api) => api.sendClose(),
  [NORMAL],
  true,
);
closeCase(
  "7.3.2",
  "Send a close frame with payload length 1",
  "Clean close with protocol error or drop TCP.",
  (api) => api.sendClose(undefined, "a"),
  [PROTOCOL_ERROR],
  false,
);
closeCase(
  "7.3.3",
  "Send a close frame with payload length 2 (regular close with a code)",
  "Clean close with normal code.",
  (api) => api.sendClose(NORMAL),
  [NORMAL],
  true,
);
closeCase(
  "7.3.4",
  "Send a close frame with close code and close reason",
  "Clean close with normal code.",
  (api) => api.sendClose(NORMAL, "Hello World!"),
  [NORMAL],
  true,
);
closeCase(
  "7.3.5",
  "Send a close frame with close code and close reason of maximum length (123)",
  "Clean close with normal code.",
  (api) => api.sendClose(NORMAL, "*".repeat(123)),
  [NORMAL],
  true,
);
closeCase(
  "7.3.6",
  "Send a close frame with close code and close reason which is too long (124) - total frame " +
    "payload 126 octets",
  "Clean close with protocol error code or dropped TCP connection.",
  (api) => api.sendClose(NORMAL, "*".repeat(124)),
  [PROTOCOL_ERROR],
  false,
);
closeCase(
  "7.5.1",
  "Send a close frame with invalid UTF8 payload",
  "Clean close with protocol error or invalid utf8 code or dropped TCP.",
  (api) => api.sendClose(NORMAL, INVALID),
  [PROTOCOL_ERROR, INVALID_PAYLOAD],
  false,
);
for (
  const [i, code] of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
    .entries()
) {
  closeCase(
    `7.7.${i + 1}`,
    `Send close with valid close code ${code}`,
    "Clean close with normal or echoed code",
    (api) => api.sendClose(code),
    [NORMAL, code],
    true,
  );
}
for (const [i, code] of [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].entries()) {
  closeCase(
    `7.9.${i + 1}`,
    `Send close with invalid close code ${code}`,
    "Clean close with protocol error code or drop TCP",
    (api) => api.sendClose(code),
    [PROTOCOL_ERROR],
    false,
  );
}
for (const [id, code] of [["7.13.1", 5000], ["7.13.2", 65535]] as const) {
  add({
    id,
    description: `Send close with close code ${code}`,
    expectation: "Actual events are undefined by the spec.",
    send: (api) => api.sendClose(code),
    expected: { OK: [] },
    close: { closedByMe: true, closeCode: [NORMAL, code, PROTOCOL_ERROR], requireClean: false },
    suppressClose: true,
    adjust: informational,
  });
}

// ---------------------------------------------------------------------------------------------
// 9 Limits/Performance (scaled down unless `full`: sizes / 16, 100 round trips instead of 1000)

const KiB = 1024;
const MiB = 1024 * KiB;
const sized = (api: CaseApi, n: number) => api.scale.full ? n : Math.max(1, Math.floor(n / 16));
const sizeLabel = (n: number) => n >= MiB ? `${n / MiB}M` : n >= KiB ? `${n / KiB}k` : `${n}`;

/** Autobahn's `payload_len`: the pattern repeated up to `n` octets. */
function repeatTo(pattern: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += pattern.length) out.set(pattern.subarray(0, n - at), at);
  return out;
}
const TEXT_PATTERN = bytesOf("BAsd7&jh23");
/** case9_2_1.py / case9_6_1.py */
const BINARY_PATTERN = hex("00 fe 23 fa f0");

/** One large message echoed: judged on its type and length, as the suite does. */
function echoOnce(
  id: string,
  description: string,
  binary: boolean,
  length: number,
  waitSeconds: number,
  send: (api: CaseApi, payload: Uint8Array) => void,
  pattern: Uint8Array,
): CaseDef {
  return {
    id,
    description,
    expectation: `Receive echo'ed ${binary ? "binary" : "text"} message (with payload as sent).`,
    reportTime: true,
    open(api) {
      const n = sized(api, length);
      const expected = repeatTo(pattern, n);
      api.expectClose(CLOSES_NORMALLY);
      api.judge("FAILED", `Did not receive message within ${waitSeconds} seconds.`);
      send(api, expected);
      api.closeAfter(waitSeconds);
      api.onMessage((data, isBinary) => {
        const kind = binary ? "binary" : "text";
        if (isBinary !== binary) {
          api.judge("FAILED", `Expected ${kind} message, but got the other.`);
        } else if (data.length !== expected.length) {
          api.judge(
            "FAILED",
            `Expected ${kind} message with payload of length ${expected.length}, but got ${data.length}.`,
          );
        } else {
          api.judge("OK", `Received ${kind} message of length ${data.length}.`);
          if (!sameBytes(data, expected)) api.note("the echoed payload differs from what was sent");
        }
        api.sendClose(NORMAL);
      });
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

for (const [group, binary] of [["9.1", false], ["9.2", true]] as const) {
  for (const [i, n] of [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB].entries()) {
    cases.push(echoOnce(
      `${group}.${i + 1}`,
      `Send ${binary ? "binary" : "text"} message message with payload of length ${sizeLabel(n)}.`,
      binary,
      n,
      // case9_1_x.py / case9_2_x.py: WAITSECS per case.
      (binary ? [10, 10, 10, 10, 100, 100] : [10, 10, 100, 100, 100, 100])[i],
      (api, p) => api.sendFrame({ opcode: binary ? BINARY : TEXT, payload: p }),
      binary ? BINARY_PATTERN : TEXT_PATTERN,
    ));
  }
}
for (const [group, binary] of [["9.3", false], ["9.4", true]] as const) {
  for (
    const [i, f] of [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].entries()
  ) {
    cases.push(echoOnce(
      `${group}.${i + 1}`,
      `Send fragmented ${binary ? "binary" : "text"} message message with message payload of ` +
        `length 4M. Sent out in fragments of ${sizeLabel(f)}.`,
      binary,
      4 * MiB,
      100,
      (api, p) => api.sendMessage(binary ? BINARY : TEXT, p, { fragmentSize: f }),
      binary ? hex("fe") : bytesOf("*"), // case9_3_1.py / case9_4_1.py
    ));
  }
}
for (const [group, binary] of [["9.5", false], ["9.6", true]] as const) {
  for (const [i, chop] of [64, 128, 256, 512, KiB, 2 * KiB].entries()) {
    cases.push(echoOnce(
      `${group}.${i + 1}`,
      `Send ${binary ? "binary" : "text"} message message with payload of length 1M. Sent out ` +
        `data in chops of ${chop} octets.`,
      binary,
      MiB,
      1000,
      (api, p) => api.sendFrame({ opcode: binary ? BINARY : TEXT, payload: p, chop }),
      binary ? BINARY_PATTERN : TEXT_PATTERN,
    ));
  }
}
for (const [group, binary] of [["9.7", false], ["9.8", true]] as const) {
  for (const [i, n] of [0, 16, 64, 256, KiB, 4 * KiB].entries()) {
    // case9_7_X.py: the timeout grows with the size.
    const waitSeconds = [60, 60, 60, 120, 240, 480][i];
    const kind = binary ? "binary" : "text";
    const payload = binary ? new Uint8Array(n).fill(0xfe) : bytesOf("*".repeat(n));
    cases.push({
      id: `${group}.${i + 1}`,
      description: `Send 1000 ${kind} messages of payload size ${n} to measure ` +
        "implementation/network RTT (round trip time) / latency.",
      expectation: `Receive echo'ed ${kind} messages (with payload as sent). Timeout case after ` +
        `${waitSeconds} secs.`,
      reportTime: true,
      open(api) {
        let count = 0;
        const total = api.scale.full ? 1000 : 100;
        const sendOne = () => {
          api.sendFrame({ opcode: binary ? BINARY : TEXT, payload });
          count++;
        };
        api.expectClose(CLOSES_NORMALLY);
        api.judge("FAILED", `Case did not finish within ${waitSeconds} seconds.`);
        api.closeAfter(waitSeconds);
        sendOne();
        api.onMessage((data, isBinary) => {
          if (isBinary !== binary || data.length !== n) {
            api.judge(
              "FAILED",
              `Echo'ed message type or length differs from what I sent (got binary = ${isBinary}, ` +
                `payload length = ${data.length}).`,
            );
            api.sendClose(NORMAL);
          } else if (count < total) sendOne();
          else {
            api.judge("OK", `Ok, received all echo'ed messages in time (${total}).`);
            api.sendClose(NORMAL);
          }
        });
      },
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
  send: (api) => api.sendMessage(TEXT, "*".repeat(65536), { fragmentSize: 1300 }),
  expected: { OK: [message("*".repeat(65536))] },
  close: CLOSES_NORMALLY,
  kill: 10,
});

/** Every case, in the suite's order. */
export const CASES: readonly CaseDef[] = cases;

/** The cases whose id matches one of `patterns` ("6.4.*", "1.1.1", "9"), in order. */
export function selectCases(patterns: readonly string[] | undefined): CaseDef[] {
  if (!patterns || patterns.length === 0) return [...CASES];
  const res = patterns.map((p) => {
    const body = p.replace(/\./g, "\\.").replace(/\*/g, ".*");
    return new RegExp(p.includes("*") ? `^${body}$` : `^${body}(\\..*)?$`);
  });
  return CASES.filter((c) => res.some((r) => r.test(c.id)));
}
