// The portable applications runner: `deno run --allow-net --allow-env`, `node` (22+) or `bun` on
// this file, with an applications server's URLs (tests/support/app_servers.ts; the settings of
// support.ts's readConfig, --server=ws|deno|bun|python). tests/portable_test.ts runs it under each
// runtime against each applications server and reports every result as a test step.

import { registerApplicationCases } from "./applications_cases.ts";
import { readConfig } from "./support.ts";
import { run } from "./suite.ts";

const config = readConfig();
for (const transport of config.transports) registerApplicationCases(config, transport);
await run(config.filter);
