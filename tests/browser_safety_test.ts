// mod.ts must load in a browser: nothing it imports statically may need Deno, Node or Bun. The
// runtime-specific dialers and node: modules are reached only through dynamic import().

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface Dependency {
  specifier: string;
  isDynamic?: boolean;
  code?: { specifier: string };
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

Deno.test("mod.ts's static import graph has no node: modules, no dialers and no Deno/Node/Bun globals", async () => {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: ModuleInfo[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  // Walk the static edges only.
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      if (d.isDynamic || d.code === undefined) continue;
      stack.push(d.code.specifier);
    }
  }
  const statics = [...seen];
  assert.ok(
    statics.some((s) => s.endsWith("/src/transport/socket.ts")),
    "the walk found socket.ts",
  );
  assert.deepEqual(statics.filter((s) => s.startsWith("node:")), []);
  assert.deepEqual(statics.filter((s) => /_(deno|node)_dial\.ts$/.test(s)), []);
  // And none of them names a runtime global outside comments.
  for (const s of statics) {
    const code = (await Deno.readTextFile(new URL(s))).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    assert.doesNotMatch(code, /\b(Deno|Bun|process)\.[a-zA-Z]/, `${s} uses a runtime global`);
  }
});
