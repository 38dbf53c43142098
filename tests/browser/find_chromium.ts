// Finds the Chromium to drive; a missing one is an error, never a skipped test.

import { delimiter, join } from "node:path";

/** `$CHROMIUM`, else `chromium` on the PATH (as `command -v chromium` finds it). */
export async function findChromium(): Promise<string> {
  const given = Deno.env.get("CHROMIUM");
  if (given) return given;
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, "chromium");
    try {
      const info = await Deno.stat(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch { /* not in this directory */ }
  }
  throw new Error(
    "Cannot run the browser tests as chromium is not on the PATH: install Debian's chromium " +
      "(apt-get install chromium) or set CHROMIUM to a Chromium binary",
  );
}
