// A wss:// echo server (node:https + npm:ws) on 127.0.0.1 with a certificate of
// tests/support/certs.ts, for the portable TLS suite (tests/portable/tls_cases.ts): it echoes
// every text and binary message as it came.

import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
// @ts-types="@types/ws"
import { WebSocketServer } from "ws";
import type { KeyPair } from "./certs.ts";

/** A running wss:// echo server. */
export interface TlsEchoServer {
  /** `wss://127.0.0.1:<port>` (no path) */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a wss:// echo server on 127.0.0.1 that presents `cert`. */
export async function startTlsEchoServer(cert: KeyPair): Promise<TlsEchoServer> {
  const https = createHttpsServer(cert, (_req, res) => res.writeHead(404).end());
  const sockets = new Set<Socket>();
  https.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // Clients that refuse the certificate end the handshake with an alert: expected here.
  https.on("tlsClientError", () => {});
  const wss = new WebSocketServer({ server: https });
  wss.on("connection", (ws) => {
    ws.on("error", () => {});
    ws.on("message", (data: Uint8Array, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    https.once("error", reject);
    https.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (https.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}
