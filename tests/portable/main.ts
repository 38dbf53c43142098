// The portable end-to-end runner: `deno run --allow-net --allow-env`, `node` (24+) or `bun` on
// this file, with the server's URLs (see support.ts's readConfig). tests/portable_test.ts runs it
// under each runtime against each test server and reports every result as a test step.

import { registerCases } from "./cases.ts";
import { readConfig } from "./support.ts";
import { run } from "./suite.ts";

const config = readConfig();
for (const transport of config.transports) registerCases(config, transport);
await run(config.filter);
