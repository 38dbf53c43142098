// Two copies of the library in one realm (as when two packages each bring their own): a
// `{ global }` name registered through one copy is found, reached and stopped through the other.
// The second copy is the library's files copied into a temporary directory.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as one from "../../mod.ts";
import { startWsServer } from "../support/servers.ts";
import { recordingLogger } from "../support/recorder.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const copy = mkdtempSync(join(tmpdir(), "parley-copy-"));
cpSync(join(root, "mod.ts"), join(copy, "mod.ts"));
cpSync(join(root, "src"), join(copy, "src"), { recursive: true });
const two: typeof one = await import(pathToFileURL(join(copy, "mod.ts")).href);
globalThis.addEventListener("unload", () => rmSync(copy, { recursive: true, force: true }));

Deno.test("two copies of the library: a global name started through one is found, used and stopped through the other", async () => {
  assert.notEqual(one.ClientHandle, two.ClientHandle, "two copies");
  await using server = await startWsServer();
  const received: string[] = [];
  const conn = await one.defineClient({
    handleFrame(frame, state: null) {
      if (frame.type === "text") received.push(frame.data);
      return one.ok(state);
    },
  }).start(null, { url: server.url(), name: { global: "shared-feed" }, logger: recordingLogger() });
  try {
    await conn.connect();
    const found = two.whereis({ global: "shared-feed" });
    assert.equal(found, conn);
    assert.ok(conn instanceof two.ClientHandle);
    assert.ok(found instanceof one.ClientHandle);
    await two.sendFrame({ global: "shared-feed" }, { type: "text", data: "through copy two" });
    assert.equal(
      two.sendFrameAsync({ global: "shared-feed" }, { type: "text", data: "async" }),
      true,
    );
    for (let i = 0; i < 100 && received.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(received, ["through copy two", "async"]);
    // Starting under the same name through either copy is refused.
    await assert.rejects(
      two.defineClient({}).start(null, { url: server.url(), name: { global: "shared-feed" } }),
      (e) => e instanceof two.NameTakenError && e.existing === conn,
    );
    assert.deepEqual(await two.stopClient({ global: "shared-feed" }), { kind: "normal" });
    assert.equal(two.whereis({ global: "shared-feed" }), undefined);
    assert.equal(one.whereis({ global: "shared-feed" }), undefined);
  } finally {
    await conn.stop();
  }
});

Deno.test("a text frame with a lone surrogate is a TypeError at sendFrame and a bad push, not silently U+FFFD", async () => {
  await using server = await startWsServer();
  await using conn = await one.defineClient({}).start(null, {
    url: server.url(),
    logger: recordingLogger(),
  });
  await conn.connect();
  await assert.rejects(
    conn.sendFrame({ type: "text", data: "abc\uD800" }),
    (e) =>
      e instanceof TypeError && /lone surrogate \(U\+D800 at index 3\)/.test(e.message) &&
      /would be sent as U\+FFFD/.test(e.message),
  );
  await assert.rejects(
    conn.sendFrame({ type: "text", data: "\uDC00x" }),
    (e) => e instanceof TypeError && /U\+DC00 at index 0/.test(e.message),
  );
  // A surrogate pair is fine.
  await conn.sendFrame({ type: "text", data: "emoji \uD83D\uDE00" });
  assert.equal(conn.state, "connected");
});
