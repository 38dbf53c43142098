// The portable proxy runner: `deno run --allow-net=127.0.0.1 --allow-env`, `node` (24+) or `bun`
// on this file, with the proxies' and servers' URLs in PARLEY_PORTABLE_PROXIES and the test CA in
// PARLEY_PORTABLE_CA (see proxy_cases.ts). tests/portable_test.ts starts the peers under each
// runtime and reports every result as a test step.

import { readProxyConfig, registerProxyCases } from "./proxy_cases.ts";
import { run } from "./suite.ts";

const config = readProxyConfig();
registerProxyCases(config);
await run(config.filter);
