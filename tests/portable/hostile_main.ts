// The portable hostile-server runner: `deno run --allow-net --allow-env`, `node` (24+) or `bun`
// on this file, with the hostile server's URLs (see support.ts's readHostileConfig).
// tests/portable_test.ts runs it under each runtime against tests/support/hostile_routes.ts and
// reports every result as a test step.

import { registerHostileCases } from "./hostile_cases.ts";
import { readHostileConfig } from "./support.ts";
import { run } from "./suite.ts";

const config = readHostileConfig();
registerHostileCases(config);
await run(config.filter);
