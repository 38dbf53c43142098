// The web transport's channel over the runtime's WebSocket (src/transport/_web_socket.ts), driven
// through a scripted WebSocket: what it reports for each order of events a runtime fires. Node
// 22's WebSocket (22.23) fires `error` and no `close` for a failed handshake (a refused upgrade,
// nothing listening) and stays CONNECTING: the channel must report the end at the error, or the
// client waits for connectTimeout on every attempt (and for closeTimeout on stop).

import assert from "node:assert/strict";
import { SocketChannel, type WebSocketConstructor } from "../../src/transport/_web_socket.ts";
import type { ChannelEnd, ChannelEvents } from "../../src/transport/_web_channel.ts";

/** A WebSocket whose events the test fires by hand. */
class ScriptedWebSocket extends EventTarget {
  static last: ScriptedWebSocket | undefined;
  readonly url: string;
  readyState = 0;
  binaryType = "blob";
  protocol = "";
  extensions = "";
  closeCalls = 0;

  constructor(url: string) {
    super();
    this.url = url;
    ScriptedWebSocket.last = this;
  }

  send(): void {}

  close(): void {
    this.closeCalls++;
  }

  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  error(message: string): void {
    this.dispatchEvent(new ErrorEvent("error", { message }));
  }

  closed(code: number, reason = "", wasClean = false): void {
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
  }
}

/** A channel over a fresh scripted socket, and what it reported. */
function openChannel() {
  const reported: Array<{ open: string } | { closed: ChannelEnd }> = [];
  const events: ChannelEvents = {
    open: (protocol) => void reported.push({ open: protocol }),
    message: () => {},
    closed: (end) => void reported.push({ closed: end }),
  };
  const channel = new SocketChannel(
    ScriptedWebSocket as unknown as WebSocketConstructor,
    { url: "ws://127.0.0.1:1/", protocols: [], headers: undefined },
    events,
  );
  return { channel, socket: ScriptedWebSocket.last!, reported };
}

Deno.test("web socket channel: an error before open and no close event (Node 22) is reported as the end at once, 1006, with the error", () => {
  const { socket, reported } = openChannel();
  socket.error("Received network error or non-101 status code.");
  assert.deepEqual(reported, [{
    closed: {
      code: 1006,
      reason: "",
      clean: false,
      error: "Received network error or non-101 status code.",
    },
  }]);
});

Deno.test("web socket channel: an error before open and then the close event (the standard order) is reported once, at the error", () => {
  const { socket, reported } = openChannel();
  socket.error("refused");
  socket.closed(1006);
  assert.equal(reported.length, 1);
  assert.deepEqual(reported[0], {
    closed: { code: 1006, reason: "", clean: false, error: "refused" },
  });
});

Deno.test("web socket channel: a close event without an error before open is reported as it came", () => {
  const { socket, reported } = openChannel();
  socket.closed(1006);
  assert.deepEqual(reported, [{
    closed: { code: 1006, reason: "", clean: false, error: undefined },
  }]);
});

Deno.test("web socket channel: after open, an error waits for the close event, which carries the server's code", () => {
  const { socket, reported } = openChannel();
  socket.open();
  socket.error("lost");
  assert.deepEqual(reported, [{ open: "" }]);
  socket.closed(1011, "boom", true);
  assert.deepEqual(reported, [
    { open: "" },
    { closed: { code: 1011, reason: "boom", clean: true, error: "lost" } },
  ]);
});

Deno.test("web socket channel: close() after a handshake failure reported at the error is harmless", () => {
  const { channel, socket, reported } = openChannel();
  socket.error("refused");
  // Node 22's socket stays CONNECTING: closing it is allowed and reports nothing more.
  channel.close();
  socket.closed(1006);
  assert.equal(reported.length, 1);
});
