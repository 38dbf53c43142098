// The portable TLS cases: wss:// over the socket transport against a TLS echo server whose
// certificate (for DNS:localhost and IP:127.0.0.1) a throwaway test CA signed, run unchanged
// under Deno, Node 24 and Bun, whose dialers differ: Deno.connect + Deno.startTls on Deno
// (node:tls there for a TLS 1.3 minimum or `dangerouslyAcceptInvalidCertificates`), node:tls on
// Node and Bun.

import assert from "node:assert/strict";
import type {
  ConnectInfo,
  DisconnectReason,
  HandshakeError,
  ReceivedFrame,
  TlsOptions,
} from "../../mod.ts";
import { disposing, test, use } from "./suite.ts";
import {
  asciiText,
  assertHandshakeError,
  assertSameBytes,
  assertSameText,
  bytes,
  type Events,
  startRecordingClient,
  type TlsConfig,
} from "./support.ts";

const MiB = 1024 * 1024;

/** Registers every TLS case (socket transport only: the web transport takes no TLS settings). */
export function registerTlsCases(config: TlsConfig): void {
  const url = `${config.ws}/ws`;

  /** A socket client of the TLS server with `tls` (the caller stops it). */
  const openClient = (tls: TlsOptions | undefined) =>
    startRecordingClient(config, "socket", "tls", {
      path: () => "/ws",
      closeTimeout: 1000,
      ...(tls === undefined ? {} : { transportOptions: { tls } }),
    });

  /** Runs `body` with a socket client with `tls` and a way to send it text or binary. */
  const withClient = async (
    tls: TlsOptions | undefined,
    body: (events: Events, send: (data: string | Uint8Array) => Promise<void>) => Promise<void>,
  ): Promise<void> =>
    await disposing(
      await openClient(tls),
      (client) =>
        body(client.events, (data) =>
          client.conn.sendFrame(
            typeof data === "string" ? { type: "text", data } : { type: "binary", data },
          )),
    );

  /** Connects, checks ConnectInfo and a text and a binary echo, then runs `more`. */
  const expectEcho = (
    tls: TlsOptions,
    more?: (
      events: Events,
      send: (data: string | Uint8Array) => Promise<void>,
    ) => Promise<void> | void,
  ) =>
    withClient(tls, async (events, send) => {
      const info = await events.next<ConnectInfo>("connected");
      assert.equal(info.url, url);
      assert.equal(info.status, 101);
      await send("over tls");
      assert.deepEqual(await events.next<ReceivedFrame>("frame"), {
        type: "text",
        data: "over tls",
      });
      await send(new Uint8Array([1, 2, 3]));
      const frame = await events.next<ReceivedFrame>("frame");
      assert.equal(frame.type, "binary");
      assertSameBytes(frame.data as Uint8Array, new Uint8Array([1, 2, 3]), "the binary echo");
      await more?.(events, send);
    });

  /** Starts a client that must fail to connect; returns its HandshakeError. */
  const expectRefused = async (tls: TlsOptions | undefined): Promise<HandshakeError> => {
    let error: HandshakeError | undefined;
    await withClient(tls, async (events) => {
      error = assertHandshakeError(await events.next<DisconnectReason>("disconnected"));
      assert.ok(error.message.startsWith(`Cannot connect to ${url} as `), error.message);
      assert.match(error.message, /TLS handshake failed/, error.message);
      assert.equal(events.all("connected").length, 0);
    });
    return error!;
  };

  test(
    "socket: transportOptions.tls.ca -> connects (status 101), text and binary echo, then 1 MiB " +
      "binary and 1 MiB text echo",
    () =>
      expectEcho({ ca: config.ca }, async (events, send) => {
        const big = bytes(MiB, 7);
        await send(big);
        let frame = await events.next<ReceivedFrame>("frame", 5000);
        assert.equal(frame.type, "binary");
        assertSameBytes(frame.data as Uint8Array, big, "the 1 MiB binary echo");
        const text = asciiText(MiB, 9);
        await send(text);
        frame = await events.next<ReceivedFrame>("frame", 5000);
        assert.equal(frame.type, "text");
        assertSameText(frame.data, text, "the 1 MiB text echo");
      }),
  );

  test(
    "socket: no CA -> a HandshakeError saying the TLS handshake failed (the certificate); the " +
      "client stays alive, disconnected",
    async () => {
      const client = use(await openClient(undefined));
      const { conn, events } = client;
      const error = assertHandshakeError(await events.next<DisconnectReason>("disconnected"));
      assert.ok(error.message.startsWith(`Cannot connect to ${url} as `), error.message);
      assert.match(error.message, /TLS handshake failed/, error.message);
      assert.match(error.message, /certificate|issuer/i, error.message);
      assert.ok(error.cause !== undefined, "the runtime's error is kept as the cause");
      assert.equal(events.all("connected").length, 0);
      assert.equal(conn.state, "disconnected", "the client stays alive");
    },
  );

  test(
    'socket: serverName "wrong.example" -> a HandshakeError saying the TLS handshake failed, ' +
      "naming wrong.example",
    async () => {
      const error = await expectRefused({ ca: config.ca, serverName: "wrong.example" });
      assert.match(error.message, /wrong\.example/, error.message);
    },
  );

  test(
    'socket: serverName "localhost" while dialling 127.0.0.1 -> connects, echoes',
    () => expectEcho({ ca: config.ca, serverName: "localhost" }),
  );

  test(
    "socket: dangerouslyAcceptInvalidCertificates without the CA -> connects, echoes, warns once",
    () =>
      expectEcho({ dangerouslyAcceptInvalidCertificates: true }, (events) => {
        const warnings = events.all("log").filter((m) => String(m).startsWith("warn: "));
        assert.equal(warnings.length, 1, JSON.stringify(events.all("log")));
        assert.match(String(warnings[0]), /certificate verification is OFF/);
      }),
  );

  test(
    'socket: minVersion "TLSv1.3" with the CA -> connects on Node and Bun; on Deno, run with ' +
      "network and environment access only, a HandshakeError naming --allow-sys (Deno's node:tls " +
      "can add the CA to the default roots only with it)",
    async () => {
      const tls: TlsOptions = { ca: config.ca, minVersion: "TLSv1.3" };
      if (typeof (globalThis as { Deno?: unknown }).Deno === "undefined") {
        await expectEcho(tls);
        return;
      }
      await withClient(tls, async (events) => {
        const error = assertHandshakeError(await events.next<DisconnectReason>("disconnected"));
        assert.match(error.message, /--allow-sys/, error.message);
      });
    },
  );
}
