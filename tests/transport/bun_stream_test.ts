// The Bun.connect stream (src/transport/_bun_dial.ts), run under the pinned Bun by
// tests/transport/bun_stream_driver.ts against a Deno.listen server here that sees exactly what
// reaches it: half-closes both ways (the close handshake needs them), backpressure with partial
// writes, a reset, destroy, an abandoned dial, a refused one. The driver must exit by itself,
// so a socket left open fails the test.

import assert from "node:assert/strict";
import * as net from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bun = `${root}.tools/node_modules/.bin/bun`;
const driver = fileURLToPath(new URL("./bun_stream_driver.ts", import.meta.url));
/** The most a driver may take (each normally takes well under a second). */
const DRIVER_TIMEOUT = 8_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Report {
  events: string[];
  [key: string]: unknown;
}

/** A running driver: its output lines as they come, and its report once it exits. */
interface Driver {
  /** Resolves when the driver prints `line`. */
  printed(line: string): Promise<void>;
  /** The driver's report; fails if it does not exit by itself in time, or exits non-zero. */
  report(): Promise<Report>;
}

function runDriver(scenario: string, port: number): Driver {
  const child = new Deno.Command(bun, {
    args: [driver, scenario, String(port)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  const stdout = (async () => {
    let text = "";
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      let at;
      while ((at = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + 1);
        lines.push(line);
        for (const w of waiters.filter((w) => w.line === line)) w.resolve();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => child.kill("SIGKILL"), DRIVER_TIMEOUT);
  const exited = child.status.finally(() => clearTimeout(timer));
  return {
    printed: (line) =>
      lines.includes(line)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ line, resolve })),
    async report() {
      const [status, , errors] = await Promise.all([exited, stdout, stderr]);
      assert.equal(
        status.signal,
        null,
        `the ${scenario} driver did not exit by itself within ${DRIVER_TIMEOUT} ms (a socket left open?); stderr: ${errors}`,
      );
      assert.equal(status.code, 0, `the ${scenario} driver failed: ${errors}`);
      return JSON.parse(lines[lines.length - 1]) as Report;
    },
  };
}

/** Reads until the client's FIN; `null` if the connection was reset or failed instead. */
async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    parts.push(buffer.slice(0, n));
  }
  const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `scenario` against a server that handles the one connection with `serve`. */
async function withServer(
  scenario: string,
  serve: (conn: Deno.TcpConn, driver: Driver) => Promise<void>,
): Promise<Report> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const driver = runDriver(scenario, listener.addr.port);
    const conn = await listener.accept();
    try {
      await serve(conn, driver);
    } finally {
      try {
        conn.close();
      } catch { /* closed by the scenario */ }
    }
    return await driver.report();
  } finally {
    listener.close();
  }
}

Deno.test("Bun stream: after the server's FIN, what we still owe reaches it, then our FIN; the client reads everything and ends", async () => {
  let got = "";
  const report = await withServer("peer-fin-first", async (conn) => {
    // Three writes, apart, so the client keeps several chunks (each must stay intact).
    for (const part of ["by", "e-", "bye"]) {
      await writeAll(conn, encoder.encode(part));
      await delay(15);
    }
    await conn.closeWrite();
    got = decoder.decode(await readToEnd(conn));
  });
  assert.equal(got, "owed", "the owed bytes, then the client's FIN, on the half-closed socket");
  assert.equal(report.received, "by" + "e-" + "bye");
  assert.deepEqual(report.events.filter((e) => e !== "data"), ["end", "closed"]);
  assert.equal(report.events.indexOf("end"), report.events.length - 2, "no data after the end");
});

Deno.test("Bun stream: after our FIN, the client still reads what the server sends until the server's FIN", async () => {
  let got = "";
  const report = await withServer("we-end-first", async (conn) => {
    got = decoder.decode(await readToEnd(conn));
    // The server answers only after the client's FIN, as a close frame's answer would.
    await delay(30);
    await writeAll(conn, encoder.encode("late answer"));
    await conn.closeWrite();
  });
  assert.equal(got, "hi", "the client's bytes, then its FIN (a half-close, not a close)");
  assert.equal(report.writtenAtEnd, 2, "Bun's socket took both bytes as they were written");
  assert.equal(report.received, "late answer");
  assert.deepEqual(report.events.filter((e) => e !== "data"), ["end", "closed"]);
});

Deno.test("Bun stream: a backed-up socket keeps the rest in order, reports what the kernel took as it goes, and the FIN waits for the last byte", async () => {
  let got: Uint8Array = new Uint8Array(0);
  const report = await withServer("backpressure", async (conn, driver) => {
    // Nothing is read until the client has written everything it has.
    await driver.printed("WRITTEN");
    got = await readToEnd(conn);
    await conn.closeWrite();
  });
  const total = report.total as number;
  assert.ok(total > 18 * 1024 * 1024);
  assert.ok(
    (report.unwrittenAfterWrites as number) > 4 * 1024 * 1024,
    `most of it buffered in the stream while the server does not read (${report.unwrittenAfterWrites})`,
  );
  assert.ok((report.writtenTotals as number) > 1, "written in several steps as the server reads");
  assert.equal(report.writtenInOrder, true, "each written total larger than the one before");
  assert.equal(report.writtenAtDrain, total);
  assert.equal(got.length, total, "every byte, and the FIN only after the last");
  for (let i = 0; i < total; i++) {
    const want = (i * 7 + (i >>> 10)) & 255;
    if (got[i] !== want) assert.fail(`byte ${i} is ${got[i]}, not ${want}: out of order`);
  }
  assert.deepEqual(report.events, ["end", "closed"]);
});

Deno.test("Bun stream: a reset is reported as an error, then closed once", async () => {
  // node:net, for resetAndDestroy (Deno.Conn has no way to send a reset).
  const server = net.createServer((socket) => {
    socket.once("data", () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let report: Report;
  try {
    report = await runDriver("reset", (server.address() as net.AddressInfo).port).report();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.deepEqual(report.events, ["error", "closed"]);
  assert.match(String(report.error), /ECONNRESET|reset/i);
});

Deno.test("Bun stream: destroy() closes the socket and reports closed once, nothing else", async () => {
  let got: Uint8Array | undefined;
  const report = await withServer("destroy", async (conn) => {
    got = await readToEnd(conn);
  });
  assert.ok(got !== undefined, "the server saw the connection end");
  assert.equal(report.writtenBeforeDestroy, 1);
  assert.equal(report.writtenAfterDestroy, 1, "nothing written after destroy()");
  assert.deepEqual(report.events, ["closed"]);
});

Deno.test("Bun stream: a dial abandoned at once rejects promptly, reports nothing, and the socket that opens anyway is closed", async () => {
  let ended = false;
  const report = await withServer("abort", async (conn) => {
    await readToEnd(conn);
    ended = true;
  });
  assert.equal(report.outcome, "the connection attempt was abandoned");
  assert.ok((report.rejectedAfterMs as number) < 100, `rejected after ${report.rejectedAfterMs}`);
  assert.ok(ended);
  assert.deepEqual(report.events, []);
});

Deno.test("Bun stream: a refused connection rejects, naming the TCP connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const report = await runDriver("refused", port).report();
  assert.match(String(report.outcome), /^the TCP connection failed: .*ECONNREFUSED/);
  assert.deepEqual(report.events, []);
});
