// How the fuzzing server plays a case of cases.ts on one connection: a scripted case sets its
// expectations, then runs its steps in order (a wait defers the rest); an echo case (group 9)
// sends its payload, judges the echo's type and length itself, and closes. Verdict rules are
// applied once the connection is gone.

import type {
  AutobahnCase,
  Behavior,
  CaseApi,
  CaseDef,
  EchoCase,
  ScriptedCase,
  Step,
  Verdict,
  VerdictRule,
} from "./case_types.ts";
import { repeatTo } from "./cases.ts";
import { BINARY, TEXT } from "./wire.ts";

const NORMAL = 1000;

/** The server's side of `c`. */
export function serverCase(c: AutobahnCase): CaseDef {
  return c.kind === "echo" ? echoCase(c) : scriptedCase(c);
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
