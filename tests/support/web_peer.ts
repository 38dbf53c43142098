// The peer of the web transport's cases (tests/transport/web_cases.ts): one raw server
// (raw_ws_server.ts, node:net) whose routes script what a server does that the runtimes'
// WebSocket APIs treat differently. Every route but /silent?deaf answers the client's close frame
// with its own and ends the TCP connection, so the runtime's socket really finishes (Deno's
// sanitizers see no op left behind). Routes (query parameters in brackets):
//
//   /echo                  echoes text and binary; "close:<code>:<reason>" -> a close frame;
//                          "drop" -> the TCP connection is dropped, no close frame
//   /closes                first a text frame: JSON of the close frames clients sent this peer so
//                          far ({ code, reason }, in order); then /echo
//   /headers               first a text frame: JSON { line, headers, authorizations } of the
//                          upgrade request (authorizations: how many Authorization lines);
//                          then /echo
//   /reply-then-close      "hi" and a close frame (1000 "done") in one write with the 101
//   /silent[?deaf]         never sends a frame; with deaf, never answers a close or ends TCP either
//   /protocol?chosen=x     a 101 choosing subprotocol x, then /echo
//   /extension?chosen=x    a 101 choosing extension x, then /echo
//   /refuse                403 Forbidden
//   /bad-accept            a 101 whose Sec-WebSocket-Accept does not match the key, then /echo
//   /answer-probe[?answers=n] answers "ping" with "pong" (the first n times); else /echo
//   /tick?every=ms         a text frame "tick" every `every` ms
//   /flood?count=n&size=s  n binary frames of s bytes (bytes 0-3: the index, big-endian), written
//                          as fast as TCP takes them (awaiting drain); a client's "report" puts a
//                          text frame "report:<frames written so far>" into the stream; "end" last

import {
  binaryFrame,
  closeFrame,
  concat,
  OP,
  type RawConnection,
  type RawRequest,
  type RawWsServer,
  response101,
  startRawWsServer,
  textFrame,
} from "./raw_ws_server.ts";

const encoder = new TextEncoder();
/** How many of a connection's frames were looked at for close frames. */
const seen = new WeakMap<RawConnection, number>();
const decoder = new TextDecoder();

/** Starts the peer on 127.0.0.1, port 0. */
export function startWebPeer(): Promise<RawWsServer> {
  const closes: Closes = [];
  return startRawWsServer({ respond: (request, c) => respond(request, c, closes) });
}

/** The close frames clients sent to this peer, in order: its /closes route answers with them. */
type Closes = Array<{ code: number | undefined; reason: string }>;

function respond(
  request: RawRequest,
  c: RawConnection,
  closes: Closes,
): Uint8Array | string | undefined {
  const url = new URL(request.line.split(" ")[1] ?? "/", "http://peer");
  const q = url.searchParams;
  // A client that ends its side is answered in kind (the raw server keeps sockets half-open).
  c.socket.on("end", () => c.socket.end());
  c.socket.on("data", () => {
    for (const f of c.frames.slice(seen.get(c) ?? 0)) {
      if (f.opcode !== OP.CLOSE) continue;
      const p = f.payload;
      closes.push({
        code: p.length >= 2 ? (p[0] << 8) | p[1] : undefined,
        reason: decoder.decode(p.subarray(2)),
      });
    }
    seen.set(c, c.frames.length);
  });
  switch (url.pathname) {
    case "/echo":
      serve(c, echo(c));
      return response101(request);
    case "/closes":
      serve(c, echo(c));
      return concat(encoder.encode(response101(request)), textFrame(JSON.stringify(closes)));
    case "/headers": {
      const authorizations = request.text.split("\r\n").filter((l) => /^authorization:/i.test(l));
      serve(c, echo(c));
      return concat(
        encoder.encode(response101(request)),
        textFrame(JSON.stringify({
          line: request.line,
          headers: request.headers,
          authorizations: authorizations.length,
        })),
      );
    }
    case "/reply-then-close":
      closesSent.add(c);
      serve(c, () => {});
      return concat(
        encoder.encode(response101(request)),
        textFrame("hi"),
        closeFrame(1000, "done"),
      );
    case "/silent":
      if (q.has("deaf")) return response101(request);
      serve(c, () => {});
      return response101(request);
    case "/protocol":
      serve(c, echo(c));
      return response101(request, { "Sec-WebSocket-Protocol": q.get("chosen") ?? "" });
    case "/extension":
      serve(c, echo(c));
      return response101(request, { "Sec-WebSocket-Extensions": q.get("chosen") ?? "" });
    case "/bad-accept":
      serve(c, echo(c));
      return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    case "/refuse":
      setTimeout(() => c.socket.end(), 0);
      return "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden";
    case "/answer-probe": {
      let answers = Number(q.get("answers") ?? Infinity);
      const onEcho = echo(c);
      serve(c, (op, payload) => {
        if (op === OP.TEXT && decoder.decode(payload) === "ping") {
          if (answers-- > 0) c.socket.write(textFrame("pong"));
        } else onEcho(op, payload);
      });
      return response101(request);
    }
    case "/tick": {
      const timer = setInterval(() => c.socket.write(textFrame("tick")), Number(q.get("every")));
      c.socket.on("close", () => clearInterval(timer));
      c.socket.on("end", () => clearInterval(timer));
      serve(c, () => {}, () => clearInterval(timer));
      return response101(request);
    }
    case "/flood": {
      const state = { written: 0, reports: [] as number[] };
      serve(c, (op, payload) => {
        if (op === OP.TEXT && decoder.decode(payload) === "report") {
          state.reports.push(state.written);
        }
      });
      setTimeout(() => flood(c, Number(q.get("count")), Number(q.get("size")), state), 0);
      return response101(request);
    }
    default:
      return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  }
}

/** The connections whose server already sent its close frame. */
const closesSent = new WeakSet<RawConnection>();

/**
 * Handles each data frame of the client's with `onFrame`; answers its close frame (unless the
 * server closed first) and ends.
 */
function serve(
  c: RawConnection,
  onFrame: (opcode: number, payload: Uint8Array) => void,
  onClose: () => void = () => {},
): void {
  let cursor = 0;
  let closed = false;
  c.socket.on("data", () => {
    while (cursor < c.frames.length && !closed) {
      const f = c.frames[cursor++];
      if (f.opcode === OP.CLOSE) {
        closed = true;
        onClose();
        // The close frame goes back with the client's code and reason; after the server's own,
        // nothing more (a frame after a close frame is a violation: Chromium calls it unclean).
        if (closesSent.has(c)) c.socket.end();
        else c.socket.end(closeFrameFrom(f.payload));
      } else onFrame(f.opcode, f.payload);
    }
  });
}

function closeFrameFrom(payload: Uint8Array): Uint8Array {
  if (payload.length < 2) return closeFrame();
  return closeFrame((payload[0] << 8) | payload[1], payload.subarray(2));
}

/** The echo route's frame handler. */
function echo(c: RawConnection): (opcode: number, payload: Uint8Array) => void {
  return (opcode, payload) => {
    if (opcode === OP.BINARY) {
      c.socket.write(binaryFrame(payload));
      return;
    }
    if (opcode !== OP.TEXT) return;
    const text = decoder.decode(payload);
    if (text === "drop") c.socket.destroy();
    else if (text.startsWith("close:")) {
      const [, code, ...reason] = text.split(":");
      closesSent.add(c);
      c.socket.write(closeFrame(Number(code), reason.join(":")));
    } else c.socket.write(textFrame(payload));
  };
}

/** Writes the flood, waiting for TCP to take each burst; reports go in between frames. */
async function flood(
  c: RawConnection,
  count: number,
  size: number,
  state: { written: number; reports: number[] },
): Promise<void> {
  const socket = c.socket;
  const payload = new Uint8Array(size);
  const view = new DataView(payload.buffer);
  for (let i = 0; i < count; i++) {
    if (socket.destroyed || socket.writableEnded) return;
    for (const r of state.reports.splice(0)) socket.write(textFrame(`report:${r}`));
    view.setUint32(0, i);
    state.written = i + 1;
    if (!socket.write(binaryFrame(payload))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    }
  }
  for (const r of state.reports.splice(0)) socket.write(textFrame(`report:${r}`));
  if (!socket.destroyed && !socket.writableEnded) socket.write(textFrame("end"));
}
