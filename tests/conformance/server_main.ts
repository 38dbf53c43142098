// Runs the fuzzing server on its own (Deno, Node 24 or Bun), like Autobahn's fuzzingserver:
//
//   deno run -A tests/conformance/server_main.ts [--port 9001] [--host 127.0.0.1]
//     [--out tests/conformance/reports/clients] [--cases 1.*,6.4.*] [--full] [--time-scale 1]
//
// It prints `ws://host:port` once listening and runs until killed.

import process from "node:process";
import { fileURLToPath } from "node:url";
import { startFuzzingServer } from "./fuzzing_server.ts";

const argv = process.argv.slice(2);
const get = (flag: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};
const full = argv.includes("--full");
const server = await startFuzzingServer({
  host: get("--host") ?? "127.0.0.1",
  port: Number(get("--port") ?? 9001),
  outDir: get("--out") ?? fileURLToPath(new URL("./reports/clients", import.meta.url)),
  cases: get("--cases")?.split(","),
  scale: { full, timeScale: Number(get("--time-scale") ?? 1) },
});
console.log(server.url);
console.error(`${server.cases.length} cases; reports go to --out on /updateReports`);
