// The web transport in a real browser: Debian's headless Chromium, driven by playwright-core, loads
// a page whose script is page.ts bundled with mod.ts by `deno bundle`, and runs each scenario in
// the page against a Deno.serve echo server on 127.0.0.1. Fails (never skips) without chromium.

import assert from "node:assert/strict";
import { startDenoServer, type TestServer } from "../support/servers.ts";
import { startWebPeer } from "../support/web_peer.ts";
import { BrowserDriver } from "./browser_driver.ts";
import { bundlePage } from "./bundle.ts";
import { findChromium } from "./find_chromium.ts";
import type { PageStartOptions } from "./page_api.ts";
import { serveStatic } from "./static_server.ts";

/** Waits up to `timeout` ms for `check` to hold. */
async function until(what: string, check: () => boolean, timeout = 2000): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`${what} did not happen within ${timeout} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const DIALER = /_(deno|node)_dial/;
// A static import of a node: module, which a browser cannot resolve.
const STATIC_NODE_IMPORT = /^\s*(import|export)\b[^;'"]*?(from\s*)?["']node:/m;
const BACKOFF = { baseDelay: 50, maxDelay: 200 };

Deno.test("the web transport in headless Chromium: load, echo, reconnect, disconnect, refusals", async (t) => {
  const chromium = await findChromium();
  const bundleDir = await Deno.makeTempDir({ prefix: "parley_bundle_" });
  const files = await bundlePage(bundleDir);
  // The dialers must stay in chunks of their own for the "never loaded" checks to mean anything.
  assert.ok(files.some((f) => /^_node_dial-.*\.js$/.test(f)), `no dialer chunk in ${files}`);
  assert.ok(files.includes("page.js"), `no page.js in ${files}`);

  let ws: TestServer = await startDenoServer();
  const site = await serveStatic(bundleDir);
  const browser = new BrowserDriver();
  try {
    await t.step("the page loads the library, without node: modules or the dialers", async () => {
      await browser.open(chromium, site.url);
      const exports = await browser.call("exports");
      for (const name of ["defineClient", "UnsupportedError", "ParleyError", "ok", "supervise"]) {
        assert.ok(exports.includes(name), `the page's mod.ts has no ${name}: ${exports}`);
      }
      const scripts = site.requested.filter((p) => p.endsWith(".js"));
      assert.ok(scripts.includes("/page.js"));
      assert.deepEqual(scripts.filter((p) => DIALER.test(p)), []);
      for (const p of scripts) {
        assert.doesNotMatch(await Deno.readTextFile(`${bundleDir}${p}`), STATIC_NODE_IMPORT, p);
      }
    });

    await t.step("connect, then text and binary echo", async () => {
      const started = await browser.call("start", ws.url("/ws"), { backoff: BACKOFF });
      assert.deepEqual(started, { transport: "web" });
      assert.deepEqual(await browser.call("next", "connected", 3000), {
        type: "connected",
        protocol: "",
        status: 101,
      });
      assert.equal(await browser.call("state"), "connected");

      assert.equal(await browser.call("send", { type: "text", data: "héllo 👋" }), null);
      assert.deepEqual(await browser.call("next", "frame", 2000), {
        type: "frame",
        frame: { type: "text", data: "héllo 👋" },
      });
      const bytes = [0, 1, 127, 128, 255];
      assert.equal(await browser.call("send", { type: "binary", data: bytes }), null);
      assert.deepEqual(await browser.call("next", "frame", 2000), {
        type: "frame",
        frame: { type: "binary", data: bytes },
      });
      assert.deepEqual(ws.received, ["héllo 👋", new Uint8Array(bytes)]);

      // The web API has no ping: refused, and the connection stays up.
      const ping = await browser.call("send", { type: "ping", data: [1] });
      assert.equal(ping?.unsupported, true, JSON.stringify(ping));
      assert.match(ping!.message, /ping/);
      assert.equal(await browser.call("state"), "connected");
    });

    await t.step("the client's backoff reconnects after the server restarts", async () => {
      const port = ws.port;
      await ws.close();
      const lost = await browser.call("next", "disconnected", 3000);
      assert.ok(
        lost.type === "disconnected" && (lost.kind === "remote_close" || lost.kind === "error"),
        JSON.stringify(lost),
      );
      // At least one attempt fails while nothing listens.
      const refused = await browser.call("next", "disconnected", 3000);
      assert.equal(
        refused.type === "disconnected" && refused.kind,
        "error",
        JSON.stringify(refused),
      );

      ws = await startDenoServer(port);
      await browser.call("next", "connected", 3000);
      assert.equal(ws.connections.length, 1);
      assert.equal(await browser.call("send", { type: "text", data: "again" }), null);
      assert.deepEqual(await browser.call("next", "frame", 2000), {
        type: "frame",
        frame: { type: "text", data: "again" },
      });
    });

    await t.step("a client-initiated disconnect: the server sees the close code", async () => {
      await browser.call("disconnect", 4001, "bye from the browser");
      assert.deepEqual(await browser.call("next", "disconnected", 3000), {
        type: "disconnected",
        kind: "closed",
      });
      await until("the server seeing the close", () => ws.closes.length === 1);
      assert.deepEqual(ws.closes, [{ code: 4001, reason: "bye from the browser" }]);
      assert.equal(await browser.call("state"), "disconnected");
      // No reconnect after a disconnect we asked for (the backoff would be at most 200 ms).
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(ws.connections.length, 1);
      assert.equal(await browser.call("state"), "disconnected");
      assert.equal(await browser.call("stop"), "normal");
    });

    await t.step("options a browser cannot honour: UnsupportedError naming them", async () => {
      const cases: Array<[string, PageStartOptions, RegExp, string?]> = [
        ["custom headers", { headers: { authorization: "Bearer x" } }, /headers/],
        ["headers with transport: web", {
          headers: { authorization: "Bearer x" },
          transport: "web",
        }, /web transport cannot honour custom headers/],
        ['transport: "socket"', { transport: "socket" }, /socket transport/],
        ["transportOptions.tls", { tls: true }, /transportOptions\.tls/, "wss"],
        ["limits", { limits: { maxMessageSize: 1024 } }, /\blimits\b/],
        ["handlePing", { handlePing: true }, /handlePing/],
      ];
      const requestsBefore = ws.requests.length;
      for (const [what, options, names, scheme] of cases) {
        const url = scheme === "wss" ? ws.url("/ws").replace("ws:", "wss:") : ws.url("/ws");
        const result = await browser.call("start", url, options);
        assert.ok("error" in result, `${what}: start resolved with ${JSON.stringify(result)}`);
        assert.equal(result.error.name, "UnsupportedError", `${what}: ${result.error.message}`);
        assert.ok(result.error.unsupported && result.error.parley, what);
        assert.match(result.error.message, names, what);
      }
      // Refused before anything started: no attempt reached the server.
      assert.equal(ws.requests.length, requestsBefore);
    });

    // The web transport's cases (tests/transport/web_cases.ts), as under Deno, Node and Bun:
    // Chromium has WebSocketStream, so the transport is built on it and can pause (a 64 MiB
    // flood against a paused connection waits in TCP, then arrives whole and in order).
    const { path, names } = await browser.call("webCases");
    await t.step("the web transport is built on WebSocketStream", () => {
      assert.equal(path, "WebSocketStream");
    });
    {
      await using peer = await startWebPeer();
      for (const name of names) {
        await t.step(`web transport case: ${name}`, async () => {
          const result = await browser.call("webCase", name, `ws://127.0.0.1:${peer.port}`);
          assert.ok(result.ok, result.error);
          if (result.info) console.log(`Chromium: ${name}: ${result.info}`);
        });
      }
    }

    await t.step("the page never loaded the dialers", () => {
      assert.deepEqual(site.requested.filter((p) => DIALER.test(p)), []);
    });
  } finally {
    await browser.close();
    await site.close();
    await ws.close();
    await Deno.remove(bundleDir, { recursive: true });
  }
});
