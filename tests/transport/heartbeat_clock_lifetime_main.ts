// Run by heartbeat_clock_test.ts under Deno, Node and Bun: heartbeats on the shared clock, started
// and stopped as the first argument says, while nothing else holds the process. Prints a line per
// probe; the test reads when the process exits.
//
//   stopped  one heartbeat (a minute's interval) started and stopped: nothing holds the process
//   again    one started and stopped, then one with a later deadline (300 ms) started: it holds
//            the process until its probe, and then stops

import { Heartbeat } from "../../src/transport/_heartbeat.ts";

const host = (name: string) => ({
  probe() {
    console.log(`probe ${name}`);
    beats.get(name)?.stop();
  },
  timedOut() {},
});
const beats = new Map<string, Heartbeat>();
const start = (name: string, interval: number) => {
  const beat = new Heartbeat({ interval, timeout: 60_000, message: undefined }, host(name));
  beats.set(name, beat);
  beat.start();
  return beat;
};

const mode = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv[2];
start("first", mode === "again" ? 100 : 60_000).stop();
if (mode === "again") start("second", 300);
