// Bundles page.ts (and with it mod.ts) for the browser with `deno bundle`, offline but for its
// first use, when Deno fetches esbuild from the npm registry into its cache. Code splitting
// keeps what mod.ts reaches only through dynamic import() (the Deno and Node dialers) in chunks
// of their own, so the test can see that the page never loads them.

import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Bundles the page into `outDir`; returns the names of the files written. */
export async function bundlePage(outDir: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--code-splitting",
      "--outdir",
      outDir,
      "tests/browser/page.ts",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.code !== 0) {
    const dec = new TextDecoder();
    throw new Error(
      `deno bundle failed (exit ${out.code}):\n${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(outDir)) if (entry.isFile) names.push(entry.name);
  return names.sort();
}
