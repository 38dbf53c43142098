// The socket transport over a scripted byte stream: what it asks of its stream (pause, resume,
// destroy) and what it reports, where a real socket would leave the order of things to chance.
// Truthful writes (a frame's callback hears once its last byte was taken), inbound flow control
// (when a pause applies, and a stream that cannot pause) and the heartbeat's pings and pongs.
// The same behaviour against real sockets under each runtime: *_runtimes_test.ts here.

import assert from "node:assert/strict";
import { acceptFor } from "../../src/protocol/handshake.ts";
import type { ByteStream, Dialer, StreamEvents } from "../../src/transport/_stream.ts";
import { createSocketConnector } from "../../src/transport/socket.ts";
import type { ConnectInfo } from "../../src/vocabulary/connect_info.ts";
import type {
  ConnectParams,
  Transport,
  TransportEvents,
  Written,
} from "../../src/transport/transport.ts";
import { binaryFrame, frame, OP, textFrame } from "../support/raw_ws_server.ts";
import { sleep, waitFor } from "../support/recorder.ts";

const encoder = new TextEncoder();

/** A stream the test drives: the OS takes bytes only when told (`take`). */
class ScriptedStream implements ByteStream {
  events!: StreamEvents;
  /** Every chunk written, the upgrade request first. */
  readonly chunks: Uint8Array[] = [];
  handed = 0;
  taken = 0;
  calls: string[] = [];
  canPause = true;
  /** Bytes to answer the upgrade request with (after the 101). */
  withUpgrade: Uint8Array = new Uint8Array(0);
  /** Header lines the 101 has besides the upgrade's own (each ending in CRLF). */
  extraHeaders = "";
  #upgraded = false;

  write(chunks: Uint8Array[]): void {
    for (const c of chunks) {
      this.chunks.push(c);
      this.handed += c.length;
    }
    if (!this.#upgraded) {
      this.#upgraded = true;
      const request = new TextDecoder().decode(chunks[0]);
      const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)![1];
      const head = encoder.encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n${this.extraHeaders}\r\n`,
      );
      const answer = new Uint8Array(head.length + this.withUpgrade.length);
      answer.set(head);
      answer.set(this.withUpgrade, head.length);
      this.take(this.handed);
      queueMicrotask(() => this.events.data(answer));
    }
  }

  /** The OS takes bytes up to `total`. */
  take(total: number): void {
    this.taken = total;
    this.events.written(total);
  }

  /** Frames the client wrote after the request, as [opcode, payload] (mask keys are zeros). */
  frames(): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    for (const c of this.chunks.slice(1)) {
      let at = 0;
      while (at < c.length) {
        let len = c[at + 1] & 0x7f;
        let p = at + 2;
        if (len === 126) {
          len = (c[p] << 8) | c[p + 1];
          p += 2;
        } else if (len === 127) {
          len = Number(new DataView(c.buffer, c.byteOffset + p, 8).getBigUint64(0));
          p += 8;
        }
        p += 4;
        out.push([c[at] & 0x0f, c.slice(p, p + len)]);
        at = p + len;
      }
    }
    return out;
  }

  end(): void {
    this.calls.push("end");
  }

  destroy(): void {
    this.calls.push("destroy");
    queueMicrotask(() => this.events.done());
  }

  pause(): boolean {
    this.calls.push(this.canPause ? "pause" : "pause refused");
    return this.canPause;
  }

  resume(): void {
    this.calls.push("resume");
  }
}

/** What the transport reported, in order. */
function recording() {
  const log: string[] = [];
  const events: TransportEvents = {
    opened: () => void log.push("opened"),
    frame: (f) => void log.push(`${f.type}:${f.type === "text" ? f.data : f.data?.length}`),
    ping: () => void log.push("ping"),
    remoteClose: (code) => void log.push(`remoteClose:${code}`),
    error: (e) => void log.push(`error:${e.message}`),
    heartbeatTimeout: () => void log.push("heartbeatTimeout"),
    rtt: () => void log.push("rtt"),
  };
  return { log, events };
}

const zeros = (b: Uint8Array) => b.fill(0);

function connect(
  stream: ScriptedStream,
  events: TransportEvents,
  params: Partial<ConnectParams> = {},
): Transport {
  const dialer: Dialer = (_target, e) => {
    stream.events = e;
    return Promise.resolve(stream);
  };
  return createSocketConnector(zeros, dialer).connect({
    url: new URL("ws://127.0.0.1:9/"),
    headers: [],
    subprotocols: [],
    closeTimeout: 100,
    ...params,
  }, events);
}

async function open(stream = new ScriptedStream(), params: Partial<ConnectParams> = {}) {
  const { log, events } = recording();
  const transport = connect(stream, events, params);
  await waitFor(() => log.includes("opened"), "opened");
  return { transport, stream, log };
}

/** A callback that records what it heard. */
function heard() {
  const outcomes: Array<string> = [];
  const written: Written = (error) => void outcomes.push(error ? `error:${error.message}` : "ok");
  return { outcomes, written };
}

const data = (n: number) => ({ type: "binary" as const, data: new Uint8Array(n) });

Deno.test("opened: ConnectInfo.headers are the 101's, as Headers made on first use: an enumerable property, the same object each time, kept by a copy", async () => {
  const stream = new ScriptedStream();
  stream.extraHeaders = "X-Served-By: scripted\r\nx-served-by: twice\r\n";
  let info: ConnectInfo | undefined;
  const { events } = recording();
  const transport = connect(stream, { ...events, opened: (i) => void (info = i) });
  await waitFor(() => info !== undefined, "opened");
  assert.ok(Object.keys(info!).includes("headers"));
  const headers = info!.headers!;
  assert.ok(headers instanceof Headers);
  assert.equal(info!.headers, headers);
  assert.equal(headers.get("upgrade"), "websocket");
  assert.equal(headers.get("x-served-by"), "scripted, twice");
  assert.equal({ ...info! }.headers, headers);
  assert.deepEqual(
    [...headers.keys()],
    ["connection", "sec-websocket-accept", "upgrade", "x-served-by"],
  );
  transport.release();
  await transport.done;
});

Deno.test("truthful writes: a frame's callback hears it once the stream reports its last byte taken, not before, and in order", async () => {
  const { transport, stream } = await open();
  const a = heard(), b = heard();
  const start = stream.handed;
  transport.send(data(100), a.written); // 2 + 4 + 100 bytes
  transport.send(data(10), b.written); // 2 + 4 + 10 bytes
  transport.flush!();
  assert.equal(stream.handed - start, 106 + 16);
  assert.deepEqual([a.outcomes, b.outcomes], [[], []], "nothing before the OS took it");
  stream.take(start + 105);
  assert.deepEqual([a.outcomes, b.outcomes], [[], []], "one byte short");
  stream.take(start + 106);
  assert.deepEqual([a.outcomes, b.outcomes], [["ok"], []]);
  stream.take(start + 122);
  assert.deepEqual([a.outcomes, b.outcomes], [["ok"], ["ok"]], "each heard once");
  transport.release();
  await transport.done;
});

Deno.test("truthful writes: frames whose bytes were not taken when the stream is gone hear why, once, before done settles; a frame sent after is refused (send returns false)", async () => {
  const { transport, stream } = await open();
  const a = heard(), b = heard(), c = heard();
  const start = stream.handed;
  transport.send(data(100), a.written);
  transport.send(data(100), b.written);
  transport.flush!();
  stream.take(start + 106);
  transport.release();
  let doneSettled = false;
  transport.done.then(() => (doneSettled = true));
  assert.deepEqual(b.outcomes, [], "not before the stream is gone");
  await transport.done;
  assert.deepEqual(a.outcomes, ["ok"]);
  assert.deepEqual(b.outcomes, [
    "error:Cannot write the frame as the connection was released first",
  ]);
  assert.equal(doneSettled, true);
  // The connection is still open as far as the protocol goes; the stream is not: the frame is
  // refused at once, and its callback never called.
  assert.equal(transport.send(data(1), c.written), false);
  stream.take(stream.handed);
  assert.deepEqual(c.outcomes, []);
  assert.equal(a.outcomes.length + b.outcomes.length, 2, "never twice");
});

Deno.test("inbound flow control: pause() on an open connection pauses the stream and returns true; resume() resumes it; repeated calls do nothing more", async () => {
  const { transport, stream } = await open();
  assert.equal(transport.pause(), true);
  assert.equal(transport.pause(), true);
  transport.resume();
  transport.resume();
  assert.deepEqual(stream.calls, ["pause", "resume"]);
  transport.release();
  await transport.done;
});

Deno.test("inbound flow control: paused while connecting, the upgrade is still read, frames that came with the 101 are reported, and the stream pauses once open", async () => {
  const stream = new ScriptedStream();
  stream.withUpgrade = textFrame("first");
  const { log, events } = recording();
  const transport = connect(stream, events);
  assert.equal(transport.pause(), true);
  await waitFor(() => log.includes("opened"), "opened");
  assert.deepEqual(log, ["opened", "text:first"]);
  assert.deepEqual(stream.calls, ["pause"]);
  transport.resume();
  assert.deepEqual(stream.calls, ["pause", "resume"]);
  transport.release();
  await transport.done;
});

Deno.test("inbound flow control: close() and release() on a paused connection read again, so the server's close and EOF are read", async () => {
  for (const end of ["close", "release"] as const) {
    const { transport, stream } = await open();
    transport.pause();
    if (end === "close") transport.close(1000, "");
    else transport.release();
    assert.deepEqual(stream.calls.slice(0, 2), ["pause", "resume"], end);
    await transport.done;
  }
});

Deno.test("inbound flow control: over a stream that cannot pause, pause() returns false; paused while connecting, the connection fails once open, saying why", async () => {
  const refusing = new ScriptedStream();
  refusing.canPause = false;
  const { transport, log } = await open(refusing);
  assert.equal(transport.pause(), false);
  transport.resume();
  assert.deepEqual(refusing.calls, ["pause refused"]);
  assert.deepEqual(log, ["opened"]);
  transport.release();
  await transport.done;

  const early = new ScriptedStream();
  early.canPause = false;
  const rec = recording();
  const t2 = connect(early, rec.events);
  assert.equal(t2.pause(), true, "while connecting, the stream is not known yet");
  await t2.done;
  assert.deepEqual(rec.log, [
    "opened",
    "error:Cannot pause reading from the connection as Deno's node:tls, which serves these TLS settings, reads on while paused",
  ]);
  assert.ok(early.calls.includes("destroy"));
});

Deno.test("heartbeat: after `interval` of silence an 8-byte ping goes out; its pong gives the round-trip time and is no frame; an application's 8-byte pong is", async () => {
  const { transport, stream, log } = await open(undefined, {
    heartbeat: { interval: 30, timeout: 1000, message: undefined },
  });
  await waitFor(() => stream.frames().some(([op]) => op === OP.PING), "the probe");
  const [, payload] = stream.frames().find(([op]) => op === OP.PING)!;
  assert.equal(payload.length, 8);
  stream.events.data(frame({ opcode: OP.PONG, payload }));
  stream.events.data(frame({ opcode: OP.PONG, payload: new Uint8Array(8).fill(9) }));
  assert.deepEqual(log, ["opened", "rtt", "pong:8"]);
  // The same answer again (a duplicate) is still the heartbeat's.
  stream.events.data(frame({ opcode: OP.PONG, payload }));
  assert.deepEqual(log, ["opened", "rtt", "pong:8"]);
  transport.release();
  await transport.done;
});

Deno.test("heartbeat: a silent peer times out once: heartbeatTimeout, nothing after it, the stream destroyed without a close frame", async () => {
  const { transport, stream, log } = await open(undefined, {
    heartbeat: { interval: 20, timeout: 20, message: undefined },
  });
  const a = heard();
  transport.send(data(5), a.written);
  await transport.done;
  assert.deepEqual(log, ["opened", "heartbeatTimeout"]);
  assert.deepEqual(stream.calls, ["destroy"]);
  assert.ok(!stream.frames().some(([op]) => op === OP.CLOSE), "no close frame");
  assert.deepEqual(a.outcomes, ["error:Cannot write the frame as the heartbeat timed out"]);
  // Data that arrives late changes nothing.
  stream.events.data(binaryFrame(new Uint8Array(3)));
  await sleep(50);
  assert.deepEqual(log, ["opened", "heartbeatTimeout"]);
});

Deno.test("heartbeat: a paused connection does not time out, and close() stops the heartbeat", async () => {
  const { transport, stream, log } = await open(undefined, {
    heartbeat: { interval: 10, timeout: 10, message: undefined },
  });
  transport.pause();
  await sleep(100);
  assert.deepEqual(log, ["opened"]);
  transport.close(1000, "");
  const probes = stream.frames().filter(([op]) => op === OP.PING).length;
  await sleep(60);
  assert.equal(stream.frames().filter(([op]) => op === OP.PING).length, probes, "no probe after");
  assert.deepEqual(log, ["opened"]);
  await transport.done;
});
