// The Autobahn client driver for Parley, runtime-neutral: it runs unchanged under Deno
// (`deno run --allow-net`), Node 24 and Bun, against this folder's fuzzing server or the official
// Autobahn fuzzingserver (it uses only the standard URL protocol):
//
//   <runtime> tests/conformance/client_driver.ts ws://127.0.0.1:9001 parley-socket-deno --transport socket
//
// It reads the case count, runs each case as one connection that echoes every text and binary
// message back unchanged and waits for the connection to end, then asks for the reports.

import process from "node:process";
import {
  defineClient,
  type DisconnectReason,
  type Logger,
  ok,
  ProtocolError,
  push,
  stayDisconnected,
} from "../../mod.ts";

const USAGE = "usage: client_driver.ts <server ws://host:port> <agent> [--transport socket|web] " +
  "[--case-timeout <seconds>]";

interface Args {
  readonly base: string;
  readonly agent: string;
  readonly transport: "socket" | "web";
  readonly caseTimeout: number;
}

function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  let transport = "socket";
  let caseTimeout = 300;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith("--") ? a.split("=", 2) : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--transport") transport = value();
    else if (flag === "--case-timeout") caseTimeout = Number(value());
    else if (a.startsWith("--")) throw new Error(`unknown flag ${a}\n${USAGE}`);
    else positional.push(a);
  }
  if (positional.length !== 2 || (transport !== "socket" && transport !== "web")) {
    throw new Error(USAGE);
  }
  return {
    base: positional[0].replace(/\/+$/, ""),
    agent: positional[1],
    transport,
    caseTimeout,
  };
}

/** Protocol errors are the point of the suite: they stay out of the output. */
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One connection's record, shared with the code that started it. */
interface Session {
  /** Echo text and binary messages (the cases), or only read them (the service routes). */
  readonly echo: boolean;
  /** Called once the connection is over (closed, failed or never made). */
  readonly ended: () => void;
  /** Whether the handshake completed. */
  connected: boolean;
  /** The first text message (the case count on /getCaseCount). */
  first?: string;
  /** How the connection ended. */
  reason?: DisconnectReason;
}

/** The echo client: every text and binary message goes straight back. */
const Echo = defineClient({
  init: (session: Session) => ok(session),
  handleConnect(session) {
    session.connected = true;
    return ok(session);
  },
  handleFrame(frame, session) {
    if (frame.type === "text") session.first ??= frame.data;
    if (session.echo && (frame.type === "text" || frame.type === "binary")) {
      return push(frame, session);
    }
    return ok(session);
  },
  handleDisconnect(reason, session) {
    session.reason = reason;
    session.ended();
    return stayDisconnected(session);
  },
});

/** Opens one connection to `url` and waits for it to end; throws if it could not be made. */
async function runConnection(args: Args, url: string, echo: boolean): Promise<Session> {
  let ended!: () => void;
  const over = new Promise<void>((resolve) => ended = resolve);
  const session: Session = { echo, ended, connected: false };
  const conn = await Echo.start(session, {
    url,
    transport: args.transport,
    reconnect: false,
    logger: quiet,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), args.caseTimeout * 1000);
  });
  const late = await Promise.race([over.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) console.error(`${url}: still open after ${args.caseTimeout} s, stopping it`);
  await conn.stop();
  if (!session.connected) {
    const r = session.reason;
    const why = r?.kind === "error" ? r.error.message : JSON.stringify(r);
    throw new Error(`${url}: could not connect: ${why}`);
  }
  return session;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const counted = await runConnection(args, `${args.base}/getCaseCount`, false);
  const count = Number(counted.first);
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`${args.base}/getCaseCount answered ${JSON.stringify(counted.first)}`);
  }
  const agent = encodeURIComponent(args.agent);
  for (let n = 1; n <= count; n++) {
    const session = await runConnection(
      args,
      `${args.base}/runCase?case=${n}&agent=${agent}`,
      true,
    );
    // A case connection the client failed for anything but the server's protocol violation (a
    // socket error, the server's early end): said once, for a verdict that needs explaining.
    const reason = session.reason;
    if (reason?.kind === "error" && !(reason.error instanceof ProtocolError)) {
      console.log(`case ${n}: the connection failed: ${reason.error.message}`);
    }
  }
  await runConnection(args, `${args.base}/updateReports?agent=${agent}`, false);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${args.agent}: ran ${count} cases in ${seconds} s`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
}
