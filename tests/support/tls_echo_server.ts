// A wss:// echo server (node:https + npm:ws) on loopback, for the TLS tests
// (tests/e2e/tls_test.ts) and the portable TLS suite (tests/portable/tls_cases.ts): it echoes
// every text and binary message as it came, and records what it saw of each client.

import { createServer as createHttpsServer, type ServerOptions } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
// @ts-types="npm:@types/ws@8.18.1"
import { WebSocketServer } from "npm:ws@8.18.3";
import { closedAtEnd } from "./disposable.ts";

/** What a TLS server saw of one client. */
export interface TlsPeer {
  readonly servername: string | false | undefined;
  readonly protocol: string | null;
  readonly authorized: boolean;
  readonly clientCertCn: string | undefined;
}

/** A running wss:// echo server (node:https + npm:ws); `await using` closes it at the end of the block. */
export interface TlsServer extends AsyncDisposable {
  readonly port: number;
  url(host?: string): string;
  /** TLS details of every WebSocket connection accepted. */
  readonly peers: TlsPeer[];
  /** Messages received. */
  readonly received: Array<string | Uint8Array>;
  close(): Promise<void>;
}

/** Starts a wss:// echo server on `host` with the given TLS options (certificate, key, ...). */
export async function startTlsServer(
  options: ServerOptions,
  host = "127.0.0.1",
): Promise<TlsServer> {
  const https = createHttpsServer(options, (_req, res) => res.writeHead(404).end());
  const sockets = new Set<Socket>();
  https.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  https.on("tlsClientError", () => {});
  const wss = new WebSocketServer({ server: https });
  const peers: TlsPeer[] = [];
  const received: TlsServer["received"] = [];
  wss.on("connection", (ws, req) => {
    const s = req.socket as TLSSocket;
    const peer = s.getPeerCertificate?.();
    peers.push({
      servername: (s as TLSSocket & { servername?: string | false }).servername,
      protocol: s.getProtocol(),
      authorized: s.authorized,
      clientCertCn: peer && "subject" in peer ? String(peer.subject?.CN) : undefined,
    });
    ws.on("error", () => {});
    ws.on("message", (raw: Uint8Array, isBinary: boolean) => {
      const data = isBinary ? new Uint8Array(raw) : new TextDecoder().decode(raw);
      received.push(data);
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve, reject) => {
    https.once("error", reject);
    https.listen(0, host, () => resolve());
  });
  const port = (https.address() as AddressInfo).port;
  const where = host.includes(":") ? `[${host}]` : host;
  return closedAtEnd({
    port,
    url: (name = where) => `wss://${name}:${port}/ws`,
    peers,
    received,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  });
}
