// Under a Node without a global WebSocket (Node 20, the machine's own node here), `auto` takes
// the socket transport and `transport: "web"` is refused with an UnsupportedError: the client
// of tests/portable/no_websocket_main.ts, bundled with `deno bundle` into a temporary file (Node
// 20 cannot run our .ts files), against an npm:ws echo server. Ignored where the `node` on PATH
// is missing or has a global WebSocket (Node 22 and later: the portable suites cover those).

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startWsServer } from "./support/servers.ts";

const driver = fileURLToPath(new URL("./portable/no_websocket_main.ts", import.meta.url));

/** The version of the `node` on PATH if it has no global WebSocket, else undefined. */
async function nodeWithoutWebSocket(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("node", {
      args: ["-p", "`${process.version} ${typeof WebSocket}`"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const [version, type] = new TextDecoder().decode(out.stdout).trim().split(" ");
    return out.success && type === "undefined" ? version : undefined;
  } catch {
    return undefined;
  }
}

const version = await nodeWithoutWebSocket();

Deno.test({
  name: `${
    version === undefined ? "a Node without a global WebSocket (none on PATH)" : `Node ${version}`
  }, no global WebSocket: auto takes the socket transport and echoes; transport "web" is refused at start with UnsupportedError (mod.ts bundled by deno bundle)`,
  ignore: version === undefined,
  fn: async () => {
    await using server = await startWsServer();
    const dir = await Deno.makeTempDir({ prefix: "parley-node20-" });
    try {
      const bundle = `${dir}/no_websocket_main.mjs`;
      const bundled = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "--platform=deno", "-o", bundle, driver],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(bundled.success, new TextDecoder().decode(bundled.stderr));
      const run = await new Deno.Command("node", {
        args: [bundle, server.url("/ws")],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(20_000),
      }).output();
      const stdout = new TextDecoder().decode(run.stdout);
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `${stdout}${stderr}`);
      assert.equal(stdout.trim(), "ok");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
