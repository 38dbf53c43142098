// The portable TLS runner: `deno run --allow-net --allow-env`, `node` (24+) or `bun` on this
// file, with the wss:// echo server's URL and the test CA (see support.ts's readTlsConfig).
// tests/portable_test.ts runs it under each runtime against tests/support/tls_echo_server.ts and
// reports every result as a test step.

import { registerTlsCases } from "./tls_cases.ts";
import { readTlsConfig } from "./support.ts";
import { run } from "./suite.ts";

const config = readTlsConfig();
registerTlsCases(config);
await run(config.filter);
