// The client side of tests/transport/bun_stream_test.ts, run under Bun: dials the test's server
// with the Bun.connect stream, plays one scenario (argv: scenario, port) and prints one JSON line
// with what it saw. It never calls process.exit: the process must end by itself once the stream
// is closed, so a handle left open shows as a runner that does not exit.

import { bunDial } from "../../src/transport/_bun_dial.ts";
import type { ByteStream, StreamEvents } from "../../src/transport/_stream.ts";

const [scenario, portArg] = (globalThis as unknown as { Bun: { argv: string[] } }).Bun.argv
  .slice(2);
const port = Number(portArg);
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);

/** What the scenario saw, printed at the end. */
const report: Record<string, unknown> = { events: [] as string[] };
const log = (event: string) => (report.events as string[]).push(event);
const chunks: Uint8Array[] = [];
/** Every total the stream reported as written, in order. */
const writtenTotals: number[] = [];
const written = () => writtenTotals[writtenTotals.length - 1] ?? 0;
let onWritten = () => {};
let onEnd = () => {};
let onClosed = () => {};
const closed = new Promise<void>((resolve) => (onClosed = resolve));

const events: StreamEvents = {
  data(chunk) {
    chunks.push(chunk);
    log("data");
  },
  written(total) {
    writtenTotals.push(total);
    onWritten();
  },
  end() {
    log("end");
    onEnd();
  },
  error(error) {
    log(`error`);
    report.error = error.message;
  },
  done() {
    log("closed");
    onClosed();
  },
};

function dial(signal = new AbortController().signal): Promise<ByteStream> {
  return bunDial({ hostname: "127.0.0.1", port, tls: undefined }, events, signal);
}

/** The received bytes as text, from the chunks as they were kept (never copied on receipt). */
function received(): string {
  return chunks.map((c) => decoder.decode(c)).join("");
}

/** Deterministic bytes: the pattern the server checks. */
function pattern(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = ((offset + i) * 7 + ((offset + i) >>> 10)) & 255;
  return bytes;
}

switch (scenario) {
  case "peer-fin-first": {
    // The server writes, ends its side; we still write our owed bytes, then end ours.
    const stream = await dial();
    onEnd = () => {
      // Later than the end event, as the transport writes an owed close frame.
      setTimeout(() => {
        stream.write([encoder.encode("owed")]);
        stream.end();
      }, 30);
    };
    await closed;
    report.received = received();
    break;
  }
  case "we-end-first": {
    // We write and end our side at once; the server answers afterwards, then ends.
    const stream = await dial();
    stream.write([encoder.encode("hi")]);
    stream.end();
    report.writtenAtEnd = written();
    await closed;
    report.received = received();
    break;
  }
  case "backpressure": {
    // Batches that mix runs of small chunks with large ones, far more than the socket takes
    // while the server does not read, then our FIN once every byte is out.
    const stream = await dial();
    let offset = 0;
    const piece = (length: number) => {
      const bytes = pattern(offset, length);
      offset += length;
      return bytes;
    };
    for (let batch = 0; batch < 6; batch++) {
      const batchChunks: Uint8Array[] = [];
      for (let i = 0; i < 200; i++) batchChunks.push(piece(1 + (i * 37) % 500));
      batchChunks.push(piece(3 * 1024 * 1024 + batch));
      for (let i = 0; i < 50; i++) batchChunks.push(piece(20_000 + i));
      stream.write(batchChunks);
    }
    report.total = offset;
    report.unwrittenAfterWrites = offset - written();
    const allWritten = new Promise<void>((resolve) => {
      onWritten = () => {
        if (written() === offset) resolve();
      };
    });
    // The server reads only after this line.
    console.log("WRITTEN");
    await allWritten;
    report.writtenTotals = writtenTotals.length;
    report.writtenInOrder = writtenTotals.every((t, i) => i === 0 || t > writtenTotals[i - 1]);
    report.writtenAtDrain = written();
    stream.end();
    await closed;
    report.received = received();
    break;
  }
  case "reset": {
    // The server closes with our bytes unread: the kernel answers with a reset.
    const stream = await dial();
    stream.write([encoder.encode("unread")]);
    await closed;
    break;
  }
  case "destroy": {
    const stream = await dial();
    stream.write([encoder.encode("x")]);
    report.writtenBeforeDestroy = written();
    stream.destroy();
    await closed;
    // Late calls on a released stream do nothing.
    stream.write([encoder.encode("late")]);
    stream.end();
    stream.pause();
    stream.resume();
    stream.destroy();
    report.writtenAfterDestroy = written();
    break;
  }
  case "abort": {
    // Abandoned in the same tick: the dial rejects at once; the socket is closed as it opens.
    const controller = new AbortController();
    const dialing = dial(controller.signal);
    controller.abort();
    try {
      await dialing;
      report.outcome = "resolved";
    } catch (error) {
      report.outcome = (error as Error).message;
    }
    report.rejectedAfterMs = ms();
    break;
  }
  case "refused": {
    try {
      await dial();
      report.outcome = "resolved";
    } catch (error) {
      report.outcome = (error as Error).message;
    }
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
report.ms = ms();
console.log(JSON.stringify(report));
