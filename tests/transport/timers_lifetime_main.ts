// Run by timers_test.ts under Deno, Node and Bun: timers on the process's heap
// (src/transport/timers.ts), set and cleared as the first argument says, while nothing else holds
// the process. Prints a line per timer that fires; the test reads when the process exits.
//
//   cleared    a timer (a minute) set and cleared: nothing holds the process
//   again      a timer (100 ms) set and cleared, then one due later (300 ms): it holds the
//              process until it fires
//   heartbeat  the same with heartbeats (100 ms, then 300 ms), which wait in the same heap

import { clearTimer, setTimer } from "../../src/transport/timers.ts";
import { Heartbeat } from "../../src/transport/_heartbeat.ts";

const mode = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv[2];

function heartbeat(name: string, interval: number): Heartbeat {
  const beat: Heartbeat = new Heartbeat({ interval, timeout: 60_000, message: undefined }, {
    probe() {
      console.log(`fired ${name}`);
      beat.stop();
    },
    timedOut() {},
  });
  beat.start();
  return beat;
}

if (mode === "cleared") clearTimer(setTimer(() => console.log("fired first"), 60_000));
else if (mode === "again") {
  clearTimer(setTimer(() => console.log("fired first"), 100));
  setTimer(() => console.log("fired second"), 300);
} else if (mode === "heartbeat") {
  heartbeat("first", 100).stop();
  heartbeat("second", 300);
}
