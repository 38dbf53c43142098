// Starts Debian's Chromium headless through playwright-core (never a browser of its own). Runs
// in driver.ts's process: playwright-core probes /proc at import, which Deno allows only with
// --allow-all, so the test process itself never imports it.

// Pinned here, not in deno.json (which this test does not own).
import { type BrowserContext, chromium } from "npm:playwright-core@1.64.1";

// Flags that let Chromium run as root on a machine whose only network is loopback: without the
// background-networking ones it keeps trying (and failing) to reach Google's hosts.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running headless Chromium with a fresh profile; `close` ends it and removes the profile. */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches `executablePath` headless with a new, empty user data directory. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "parley_chromium_" });
  let context: BrowserContext;
  try {
    // playwright-core passes the profile as --user-data-dir itself (it refuses the flag).
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: FLAGS,
      timeout: 10_000,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw new Error(
      `Cannot launch ${executablePath} through playwright-core: ${(error as Error)?.message}`,
      { cause: error },
    );
  }
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}
