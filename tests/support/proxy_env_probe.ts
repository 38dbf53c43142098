// Run by tests/e2e/proxy_test.ts as `deno run --allow-net=127.0.0.1 proxy_env_probe.ts <ws url>
// <default|env>`, without --allow-env: starts a socket client with the proxy option left out
// ("default") or "env", and prints one JSON line: how the first attempt ended ("connected" or the
// error) and the client's debug messages about its proxy.

import { defineClient, type DisconnectReason, ok } from "../../mod.ts";

const [url, mode] = Deno.args;
const debug: string[] = [];
let settle!: (outcome: string) => void;
const outcome = new Promise<string>((resolve) => (settle = resolve));
const Client = defineClient<null>({
  handleConnect(state) {
    settle("connected");
    return ok(state);
  },
  handleDisconnect(reason: DisconnectReason, state) {
    settle(reason.kind === "error" ? `${reason.error.name}: ${reason.error.message}` : reason.kind);
    return ok(state);
  },
});
const conn = await Client.start(null, {
  url,
  transport: "socket",
  connectTimeout: 3000,
  ...(mode === "env" ? { proxy: "env" } : {}),
  logger: {
    debug: (m: string) => void (/proxy/.test(m) && debug.push(m)),
    info() {},
    warn() {},
    error() {},
  },
});
const result = await outcome;
await conn.stop();
console.log(JSON.stringify({ outcome: result, debug }));
