// How the fuzzing server plays a case of cases.ts on one connection: a scripted case sets its
// expectations, then runs its steps in order (a wait defers the rest); an echo case (group 9)
// sends its payload, judges the echo's type and length itself, and closes; a compression case
// (groups 12, 13) sends compressed messages one after the other and judges each echo. Verdict
// rules are applied once the connection is gone.

import type {
  AutobahnCase,
  Behavior,
  CaseApi,
  CaseDef,
  DeflateCase,
  EchoCase,
  ScriptedCase,
  Step,
  Verdict,
  VerdictRule,
} from "./case_types.ts";
import { repeatTo } from "./cases.ts";
import { deflateDataSets, deflateMessage } from "./deflate_data.ts";
import { BINARY, TEXT } from "./wire.ts";

const NORMAL = 1000;

/** The server's side of `c`. */
export function serverCase(c: AutobahnCase): CaseDef {
  return c.kind === "echo" ? echoCase(c) : c.kind === "deflate" ? deflateCase(c) : scriptedCase(c);
}

const RULES: Readonly<Record<VerdictRule, (v: Verdict) => void>> = {
  "wrong code fails": (v) => {
    if (v.behaviorClose === "WRONG CODE") {
      v.behavior = "FAILED";
      v.result = v.resultClose;
    }
  },
  "informational": (v) => {
    v.behavior = "INFORMATIONAL";
    v.behaviorClose = "INFORMATIONAL";
  },
};

function scriptedCase(c: ScriptedCase): CaseDef {
  return {
    id: c.id,
    description: c.description,
    expectation: c.expectation,
    suppressClose: c.suppressClose,
    adjust: c.verdict === undefined ? undefined : RULES[c.verdict],
    open(api) {
      for (const [behavior, events] of Object.entries(c.expected)) {
        api.expect(behavior as Behavior, events);
      }
      api.expectClose(c.close);
      play(api, c.script, 0);
    },
  };
}

/** Runs `steps` from `from` on: up to a wait, which runs the rest once it is over. */
function play(api: CaseApi, steps: readonly Step[], from: number): void {
  for (let i = from; i < steps.length; i++) {
    const step = steps[i];
    switch (step.kind) {
      case "frame":
        api.sendFrame(step.frame);
        break;
      case "raw":
        api.sendRaw(step.bytes, { chop: step.chop, sync: step.sync });
        break;
      case "close":
        api.sendClose(step.code, step.reason);
        break;
      case "wait":
        api.later(step.seconds, () => {
          if (step.timeout !== undefined) {
            if (!api.isOpen) return;
            api.record({ kind: "timeout", tag: step.timeout });
          }
          play(api, steps, i + 1);
        });
        return;
      case "killAfter":
        api.killAfter(step.seconds);
        break;
      case "closeAfter":
        api.closeAfter(step.seconds);
        break;
    }
  }
}

/** Group 9 at scale: sizes / 16 and 100 round trips instead of 1000 unless `full`. */
function echoCase(c: EchoCase): CaseDef {
  return {
    id: c.id,
    description: c.description,
    expectation: c.expectation,
    reportTime: true,
    open: (api) => c.roundTrips === undefined ? echoOnce(api, c) : roundTrips(api, c),
  };
}

/** One large message echoed: judged on its type and length, as the suite does. */
function echoOnce(api: CaseApi, c: EchoCase): void {
  const n = api.scale.full ? c.length : Math.max(1, Math.floor(c.length / 16));
  const expected = repeatTo(c.pattern, n);
  const opcode = c.binary ? BINARY : TEXT;
  api.expectClose({ closedByMe: true, closeCode: [NORMAL], requireClean: true });
  api.judge("FAILED", `Did not receive message within ${c.waitSeconds} seconds.`);
  if (c.fragmentSize !== undefined) {
    api.sendMessage(opcode, expected, { fragmentSize: c.fragmentSize });
  } else api.sendFrame({ opcode, payload: expected, chop: c.chop });
  api.closeAfter(c.waitSeconds);
  api.onMessage((data, isBinary) => {
    const kind = c.binary ? "binary" : "text";
    if (isBinary !== c.binary) {
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
}

/** `roundTrips` messages, each sent once the previous one came back. */
function roundTrips(api: CaseApi, c: EchoCase): void {
  const payload = repeatTo(c.pattern, c.length);
  const total = api.scale.full ? c.roundTrips! : c.roundTrips! / 10;
  let count = 0;
  const sendOne = () => {
    api.sendFrame({ opcode: c.binary ? BINARY : TEXT, payload });
    count++;
  };
  api.expectClose({ closedByMe: true, closeCode: [NORMAL], requireClean: true });
  api.judge("FAILED", `Case did not finish within ${c.waitSeconds} seconds.`);
  api.closeAfter(c.waitSeconds);
  sendOne();
  api.onMessage((data, isBinary) => {
    if (isBinary !== c.binary || data.length !== c.length) {
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
}

/** Messages a compression case sends: the suite's 1000, or 1/100 of them unless `full`. */
export function deflateCount(c: DeflateCase, full: boolean): number {
  return full ? c.count : Math.max(1, Math.floor(c.count / 100));
}

/** case12_x_x.py: compressed messages, each sent once the last one's echo came back. */
function deflateCase(c: DeflateCase): CaseDef {
  return {
    id: c.id,
    description: c.description,
    expectation: c.expectation,
    reportTime: true,
    deflate: c.accept,
    open(api) {
      api.expectClose({ closedByMe: true, closeCode: [NORMAL], requireClean: true });
      if (api.deflate === undefined) {
        api.judge("UNIMPLEMENTED", "permessage-deflate was not agreed.");
        api.sendClose(NORMAL);
        return;
      }
      const data = deflateDataSets().get(c.data)!;
      const total = deflateCount(c, api.scale.full);
      let count = 0;
      let expected: Uint8Array = new Uint8Array(0);
      const sendOne = () => {
        expected = deflateMessage(data.bytes, c.length, count++);
        api.sendCompressed(data.binary ? BINARY : TEXT, expected, c.fragmentSize);
      };
      api.judge("FAILED", `Case did not finish within ${c.waitSeconds} seconds.`);
      api.closeAfter(c.waitSeconds);
      api.onMessage((message, binary) => {
        if (binary !== data.binary) {
          api.judge(
            "FAILED",
            `Echo'ed message type differs from what I sent (got binary ${binary}, expected ` +
              `binary ${data.binary}).`,
          );
        } else if (message.length !== c.length) {
          api.judge(
            "FAILED",
            `Echo'ed message length differs from what I sent (got length ${message.length}, ` +
              `expected length ${c.length}).`,
          );
        } else if (!sameBytes(message, expected)) {
          api.judge("FAILED", "Echo'ed message contents differs from what I sent.");
        } else if (count < total) {
          sendOne();
          return;
        } else api.judge("OK", "Ok, received all echo'ed messages in time.");
        api.sendClose(NORMAL);
      });
      sendOne();
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
