// The browser side of the test, in its own process (`deno run -A`, see launch_chromium.ts):
// reads requests from stdin, drives Chromium through playwright-core, answers on stdout.

// Pinned here, not in deno.json (which this test does not own).
import type { Page } from "npm:playwright-core@1.64.1";
import type { DriverAnswer, DriverRequest } from "./driver_protocol.ts";
import { type Browser, launchChromium } from "./launch_chromium.ts";
import { lines } from "./lines.ts";

let browser: Browser | undefined;
let page: Page | undefined;
const encoder = new TextEncoder();

async function answer(a: DriverAnswer): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(a) + "\n");
  for (let n = 0; n < bytes.length;) n += await Deno.stdout.write(bytes.subarray(n));
}

/** Launches Chromium, loads `url` and waits for the page script; throws with what went wrong. */
async function open(chromium: string, url: string): Promise<null> {
  browser = await launchChromium(chromium);
  const p = browser.context.pages()[0] ?? await browser.context.newPage();
  page = p;
  const problems: string[] = [];
  p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  p.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  p.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  await p.goto(url);
  try {
    await p.waitForFunction(() => "parleyPage" in globalThis, undefined, { timeout: 5000 });
  } catch (error) {
    throw new Error(
      `the page did not load: ${problems.join("; ") || "no error seen"} (${error})`,
    );
  }
  // Loading must be clean; later errors (a refused WebSocket while the server is down) are not.
  if (problems.length > 0) throw new Error(`the page loaded with errors: ${problems.join("; ")}`);
  return null;
}

function call(name: string, args: unknown[]): Promise<unknown> {
  if (page === undefined) throw new Error("no page open");
  return page.evaluate(([n, a]) => {
    const api = (globalThis as unknown as {
      parleyPage: Record<string, (...x: unknown[]) => unknown>;
    }).parleyPage;
    return api[n](...a);
  }, [name, args] as [string, unknown[]]);
}

async function close(): Promise<null> {
  const b = browser;
  browser = undefined;
  page = undefined;
  await b?.close();
  return null;
}

for await (const line of lines(Deno.stdin.readable)) {
  if (line.trim() === "") continue;
  const req = JSON.parse(line) as DriverRequest;
  try {
    const value = req.op === "open"
      ? await open(req.chromium, req.url)
      : req.op === "call"
      ? await call(req.name, req.args)
      : await close();
    await answer({ id: req.id, ok: true, value });
  } catch (error) {
    await answer({ id: req.id, ok: false, error: String((error as Error)?.message ?? error) });
  }
  if (req.op === "close") break;
}
// Stdin closed (or a close request): never leave Chromium behind.
await close();
Deno.exit(0);
