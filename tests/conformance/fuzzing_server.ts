// An Autobahn-like fuzzing server on node:net (Deno, Node, Bun), speaking Autobahn's URL protocol:
//   GET /getCaseCount                 a text message with the number of cases, then a close
//   GET /getCaseInfo?case=N           a text message {"id", "description"}, then a close
//   GET /runCase?case=N&agent=A       runs case N (1-based, in the suite's order) against agent A
//                                     (the compression cases answer a permessage-deflate offer)
//   GET /updateReports?agent=A        writes index.json and the case reports, then closes
// It has no WebSocket library: every octet it sends is the case's (see case_connection.ts).

import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { CaseConnection, type CaseResult } from "./case_connection.ts";
import type { CaseDef, Scale } from "./case_types.ts";
import { selectCases } from "./cases.ts";
import { serverCase } from "./case_script.ts";
import { type DeflateParams, negotiateDeflate } from "./deflate_negotiation.ts";
import { writeReports } from "./reports.ts";
import { CLOSE, closePayload, encodeFrame, FrameReader, TEXT } from "./wire.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD = 16 * 1024;

/** How the server runs. */
export interface FuzzingServerOptions {
  /** Default 127.0.0.1 */
  readonly host?: string;
  /** Default 0 (any free port) */
  readonly port?: number;
  /** Where /updateReports writes. */
  readonly outDir: string;
  readonly scale: Scale;
  /** Case patterns ("6.4.*"); default: every case. */
  readonly cases?: readonly string[];
}

/** A running fuzzing server. */
export interface FuzzingServer {
  /** ws://host:port */
  readonly url: string;
  readonly port: number;
  readonly cases: readonly CaseDef[];
  /** agent → case id → result, as they finish */
  readonly results: ReadonlyMap<string, ReadonlyMap<string, CaseResult>>;
  /** Writes the reports now (what /updateReports does). */
  writeReports(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a fuzzing server; it listens once the promise resolves. */
export async function startFuzzingServer(options: FuzzingServerOptions): Promise<FuzzingServer> {
  const cases = selectCases(options.cases).map(serverCase);
  const results = new Map<string, Map<string, CaseResult>>();
  const sockets = new Set<Socket>();
  let writing = Promise.resolve();
  const write = () => {
    writing = writing.then(() => writeReports(options.outDir, results).then(() => {}));
    return writing;
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {/* the close event follows */});
    readHandshake(socket, (path, headers): Route => {
      const url = new URL(path, "ws://fuzzing.invalid");
      switch (url.pathname) {
        case "/getCaseCount":
          return { opened: () => serve(socket, String(cases.length)) };
        case "/getCaseInfo": {
          const def = cases[Number(url.searchParams.get("case")) - 1];
          return {
            opened: () =>
              serve(
                socket,
                def ? JSON.stringify({ id: def.id, description: def.description }) : "null",
              ),
          };
        }
        case "/updateReports":
          return {
            opened: () =>
              void write().then(() => serve(socket), (e) => {
                console.error("writing the reports failed:", e);
                serve(socket);
              }),
          };
        case "/runCase": {
          const n = Number(url.searchParams.get("case"));
          const agent = url.searchParams.get("agent") ?? "unknown";
          const def = Number.isInteger(n) ? cases[n - 1] : undefined;
          if (!def) return { opened: () => serve(socket) };
          // The compression cases answer the client's permessage-deflate offer by their rule.
          let deflate: DeflateParams | undefined;
          let extensions: string | undefined;
          if (def.deflate !== undefined) {
            const negotiation = negotiateDeflate(
              headers.get("sec-websocket-extensions"),
              def.deflate,
            );
            if (negotiation.kind === "invalid") {
              return { refuse: `invalid permessage-deflate offer: ${negotiation.why}` };
            }
            if (negotiation.kind === "accepted") {
              deflate = negotiation.params;
              extensions = negotiation.response;
            }
          }
          return {
            extensions,
            opened: (early) =>
              new CaseConnection(socket, def, {
                scale: options.scale,
                agent,
                number: n,
                deflate,
                done: (r) => {
                  let byCase = results.get(agent);
                  if (!byCase) results.set(agent, byCase = new Map());
                  byCase.set(def.id, r);
                },
              }).start(early),
          };
        }
        default:
          return { opened: () => serve(socket) };
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const host = options.host ?? "127.0.0.1";
  return {
    url: `ws://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    cases,
    results,
    writeReports: () => write(),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await writing;
    },
  };
}

/** How the server answers an upgrade request. */
interface Route {
  /** The Sec-WebSocket-Extensions of the 101, if any. */
  readonly extensions?: string;
  /** Answers 400 with this reason instead of 101. */
  readonly refuse?: string;
  /** Runs once the 101 is written; `early` are the bytes that came right behind the request. */
  readonly opened?: (early: Uint8Array) => void;
}

/** Reads the upgrade request, answers 101 (or 400) as `route` says, then runs the route. */
function readHandshake(
  socket: Socket,
  route: (path: string, headers: Map<string, string>) => Route,
): void {
  let head = new Uint8Array(0);
  const onData = (chunk: Uint8Array) => {
    const next = new Uint8Array(head.length + chunk.length);
    next.set(head);
    next.set(chunk, head.length);
    head = next;
    const end = findHeadEnd(head);
    if (end < 0) {
      if (head.length > MAX_HEAD) socket.destroy();
      return;
    }
    socket.off("data", onData);
    const text = new TextDecoder().decode(head.subarray(0, end));
    const early = head.slice(end + 4);
    const [requestLine, ...lines] = text.split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    const [method, path] = requestLine.split(" ");
    const key = headers.get("sec-websocket-key");
    if (
      method !== "GET" || !path || key === undefined ||
      headers.get("upgrade")?.toLowerCase() !== "websocket"
    ) {
      socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const r = route(path, headers);
    if (r.refuse !== undefined) {
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Length: ${r.refuse.length}\r\nConnection: close` +
          `\r\n\r\n${r.refuse}`,
      );
      return;
    }
    const accept = createHash("sha1").update(key + GUID).digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nServer: parley-fuzzingserver\r\nUpgrade: websocket\r\n" +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
        (r.extensions === undefined ? "" : `Sec-WebSocket-Extensions: ${r.extensions}\r\n`) +
        "\r\n",
    );
    r.opened?.(early);
  };
  socket.on("data", onData);
}

function findHeadEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i - 3] === 13 && b[i - 2] === 10 && b[i - 1] === 13 && b[i] === 10) return i - 3;
  }
  return -1;
}

/** A service connection: an optional text message, then a close 1000; drops on the client's close. */
function serve(socket: Socket, text?: string): void {
  if (text !== undefined) socket.write(encodeFrame({ opcode: TEXT, payload: text }));
  socket.write(encodeFrame({ opcode: CLOSE, payload: closePayload(1000) }));
  const reader = new FrameReader();
  const timer = setTimeout(() => socket.destroy(), 5000);
  socket.once("close", () => clearTimeout(timer));
  socket.on("data", (chunk: Uint8Array) => {
    reader.push(chunk);
    for (let f = reader.next(); f; f = reader.next()) {
      if (f.opcode === CLOSE) socket.destroy();
    }
  });
  socket.on("end", () => socket.destroy());
}
