// The test's handle on driver.ts: spawns it (`deno run -A`), sends requests, awaits answers,
// and makes sure the process and its Chromium are gone when the test ends.

import { fileURLToPath } from "node:url";
import type { DriverAnswer, DriverRequest } from "./driver_protocol.ts";
import { lines } from "./lines.ts";
import type { PageApi } from "./page_api.ts";

const DRIVER = fileURLToPath(new URL("./driver.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Body<R = DriverRequest> = R extends unknown ? Omit<R, "id"> : never;

/** A driver process with a Chromium page. */
export class BrowserDriver {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #stderr = "";
  #reading: Promise<void>;
  #exited = false;

  constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", DRIVER],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reading = Promise.all([this.#readAnswers(), this.#readStderr()]).then(() => {});
  }

  async #readAnswers(): Promise<void> {
    for await (const line of lines(this.#child.stdout)) {
      let a: DriverAnswer;
      try {
        a = JSON.parse(line);
      } catch {
        this.#stderr += `(stdout) ${line}\n`;
        continue;
      }
      const p = this.#pending.get(a.id);
      this.#pending.delete(a.id);
      if (a.ok) p?.resolve(a.value);
      else p?.reject(new Error(`in the browser: ${a.error}`));
    }
    this.#exited = true;
    for (const p of this.#pending.values()) {
      p.reject(new Error(`the driver process ended; its stderr:\n${this.#stderr}`));
    }
    this.#pending.clear();
  }

  async #readStderr(): Promise<void> {
    for await (const line of lines(this.#child.stderr)) this.#stderr += line + "\n";
  }

  /** Sends a request; rejects after `timeout` ms without an answer. */
  #request(body: Body, timeout: number): Promise<unknown> {
    if (this.#exited) {
      return Promise.reject(new Error(`the driver process ended; its stderr:\n${this.#stderr}`));
    }
    const id = this.#nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer to ${JSON.stringify(body)} within ${timeout} ms`));
      }, timeout);
    });
    const line = new TextEncoder().encode(JSON.stringify({ ...body, id }) + "\n");
    return this.#writer.write(line).then(() => answered).finally(() => clearTimeout(timer));
  }

  /** Launches `chromium` and loads `url`; rejects if the page does not load cleanly. */
  async open(chromium: string, url: string): Promise<void> {
    await this.#request({ op: "open", chromium, url }, 15_000);
  }

  /** Calls `globalThis.parleyPage[name](...args)` in the page. */
  call<K extends keyof PageApi>(
    name: K,
    ...args: Parameters<PageApi[K]>
  ): Promise<Awaited<ReturnType<PageApi[K]>>> {
    return this.#request({ op: "call", name, args }, 10_000) as Promise<
      Awaited<ReturnType<PageApi[K]>>
    >;
  }

  /** Closes the browser and waits for the driver to exit (killing it after 5 s). */
  async close(): Promise<void> {
    if (!this.#exited) {
      await this.#request({ op: "close" }, 5000).catch(() => {});
    }
    await this.#writer.close().catch(() => {});
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#reading;
    if (killed) throw new Error(`the driver did not exit within 5 s; its stderr:\n${this.#stderr}`);
    if (!status.success) {
      throw new Error(`the driver exited with ${status.code}; its stderr:\n${this.#stderr}`);
    }
  }
}
