// The web transport under Node 24 and Bun: tests/runtimes/smoke_child.ts runs in each runtime
// (installed pinned into .tools/ by tools/install.sh) against a server of this test.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { startWsServer } from "./support/servers.ts";

const root = fromFileUrl(new URL("../", import.meta.url));
const child = fromFileUrl(new URL("./runtimes/smoke_child.ts", import.meta.url));

for (const runtime of ["node", "bun"]) {
  Deno.test(`the web transport works under ${runtime}: headers, echo, disconnect code, connect again`, async () => {
    const bin = `${root}.tools/node_modules/.bin/${runtime}`;
    try {
      await Deno.stat(bin);
    } catch {
      throw new Error(
        `${bin} is missing: run tools/install.sh (it installs the pinned ${runtime})`,
      );
    }
    const server = await startWsServer();
    try {
      const out = await new Deno.Command(bin, {
        args: [child, server.url()],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(20_000),
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `${runtime} exited with ${out.code}: ${stderr}`);
      const seen = JSON.parse(stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(seen.frames, [
        { type: "text", data: "hello 1" },
        { type: "binary", data: [1, 2, 3] },
        { type: "text", data: "echo me" },
        { type: "text", data: "hello 2" },
      ]);
      assert.deepEqual(seen.reasons, ["closed"]);
      assert.equal(seen.connects, 2);
      assert.equal(seen.stateAfterDisconnect, "disconnected");
      assert.deepEqual(seen.stop, { kind: "normal" });
      assert.equal(server.requests[0].headers["authorization"], "Bearer smoke");
      // Bun 1.3's WebSocket sends the close code but drops the reason.
      assert.deepEqual(server.closes[0], {
        code: 4001,
        reason: runtime === "bun" ? "" : "smoke done",
      });
    } finally {
      await server.close();
    }
  });
}
