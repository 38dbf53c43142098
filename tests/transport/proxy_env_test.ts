// Which proxy a URL goes through (src/transport/proxy.ts): the option, and the environment read
// as curl reads it, with an injected environment.
import assert from "node:assert/strict";
import {
  DEFAULT_PROXY,
  type Environment,
  parseProxyUrl,
  PROXY_OFF,
  proxyFor,
  type ProxySetting,
} from "../../src/transport/proxy.ts";

/** An environment holding `vars`; the names in `denied` cannot be read. */
function env(vars: Record<string, string>, denied: readonly string[] = []): Environment {
  return {
    readable: (name) => !denied.includes(name),
    get: (name) => {
      if (denied.includes(name)) throw new Error(`read ${name} without permission`);
      return vars[name];
    },
  };
}

const EXPLICIT_ENV: ProxySetting = { kind: "env", explicit: true };
const WS = new URL("ws://example.com/chat");
const WSS = new URL("wss://example.com/chat");

/** The label of the proxy `url` goes through with `vars`, or "direct". */
const via = (url: URL, vars: Record<string, string>, denied: readonly string[] = []) =>
  proxyFor(url, DEFAULT_PROXY, env(vars, denied)).proxy?.label ?? "direct";

Deno.test("env: wss: reads https_proxy/HTTPS_PROXY, ws: reads http_proxy/HTTP_PROXY; ALL_PROXY for both", () => {
  const vars = { HTTPS_PROXY: "http://s:1", HTTP_PROXY: "http://p:2", ALL_PROXY: "http://a:3" };
  assert.equal(via(WSS, vars), "http://s:1");
  assert.equal(via(WS, vars), "http://p:2");
  assert.equal(via(WSS, { ALL_PROXY: "http://a:3" }), "http://a:3");
  assert.equal(via(WS, { all_proxy: "http://a:3" }), "http://a:3");
  assert.equal(via(WSS, { HTTP_PROXY: "http://p:2" }), "direct");
  assert.equal(via(WS, { HTTPS_PROXY: "http://s:1" }), "direct");
  assert.equal(via(WSS, {}), "direct");
});

Deno.test("env: the lowercase name wins over the uppercase one, and the scheme's variable over ALL_PROXY", () => {
  assert.equal(
    via(WSS, { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" }),
    "http://lower:1",
  );
  assert.equal(
    via(WS, { http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2" }),
    "http://lower:1",
  );
  assert.equal(
    via(WSS, { all_proxy: "http://lower:1", ALL_PROXY: "http://upper:2" }),
    "http://lower:1",
  );
  assert.equal(via(WSS, { HTTPS_PROXY: "http://s:1", all_proxy: "http://a:3" }), "http://s:1");
});

Deno.test("env: an empty (or blank) variable counts as unset, as in curl", () => {
  assert.equal(via(WSS, { https_proxy: "", HTTPS_PROXY: "http://upper:2" }), "http://upper:2");
  assert.equal(via(WSS, { https_proxy: "  ", ALL_PROXY: "http://a:3" }), "http://a:3");
  assert.equal(
    via(WSS, { HTTPS_PROXY: "http://s:1", no_proxy: "", NO_PROXY: "example.com" }),
    "direct",
  );
});

Deno.test("env: HTTP_PROXY is not read in a CGI script (REQUEST_METHOD set: httpoxy); http_proxy is", () => {
  assert.equal(via(WS, { HTTP_PROXY: "http://evil:1", REQUEST_METHOD: "GET" }), "direct");
  assert.equal(
    via(WS, { HTTP_PROXY: "http://evil:1", ALL_PROXY: "http://a:3", REQUEST_METHOD: "GET" }),
    "http://a:3",
  );
  assert.equal(via(WS, { http_proxy: "http://p:2", REQUEST_METHOD: "GET" }), "http://p:2");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://s:1", REQUEST_METHOD: "GET" }), "http://s:1");
  assert.equal(via(WS, { HTTP_PROXY: "http://p:2", REQUEST_METHOD: "" }), "http://p:2");
});

Deno.test("env: NO_PROXY (no_proxy first) sends matching hosts direct and says which variable matched", () => {
  const vars = { HTTPS_PROXY: "http://s:1", NO_PROXY: "localhost,.example.com" };
  const route = proxyFor(WSS, DEFAULT_PROXY, env(vars));
  assert.equal(route.proxy, undefined);
  assert.equal(route.why, "NO_PROXY matches example.com:443");
  assert.equal(via(new URL("wss://example.org/"), vars), "http://s:1");
  // The lowercase one is used when set, even if the uppercase one would match.
  assert.equal(via(WSS, { ...vars, no_proxy: "other.test" }), "http://s:1");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://s:1", NO_PROXY: "*" }), "direct");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://s:1", NO_PROXY: "example.com:443" }), "direct");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://s:1", NO_PROXY: "example.com:8443" }), "http://s:1");
  // NO_PROXY is checked before the proxy URL is parsed: an excluded host never fails on it.
  assert.equal(via(WSS, { HTTPS_PROXY: "socks5://s:1", NO_PROXY: "example.com" }), "direct");
});

Deno.test("env: values without a scheme are http: proxies; a missing port is the scheme's (80, 443)", () => {
  assert.equal(via(WSS, { HTTPS_PROXY: "proxy.corp:3128" }), "http://proxy.corp:3128");
  assert.equal(via(WSS, { HTTPS_PROXY: "proxy.corp" }), "http://proxy.corp:80");
  assert.equal(via(WSS, { HTTPS_PROXY: "https://proxy.corp" }), "https://proxy.corp:443");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://proxy.corp:3128/" }), "http://proxy.corp:3128");
  assert.equal(via(WSS, { HTTPS_PROXY: "HTTP://Proxy.Corp:3128" }), "http://proxy.corp:3128");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://[::1]:3128" }), "http://[::1]:3128");
});

Deno.test("env: a socks or malformed proxy URL fails (a SyntaxError naming the variable, never its credentials)", () => {
  assert.throws(
    () => proxyFor(WSS, DEFAULT_PROXY, env({ ALL_PROXY: "socks5://user:hunter2@s:1080" })),
    (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.match(e.message, /^ALL_PROXY names a socks5: proxy \(socks5:\/\/s:1080\)/);
      assert.doesNotMatch(e.message, /hunter2|user/);
      return true;
    },
  );
  assert.throws(
    () => proxyFor(WSS, DEFAULT_PROXY, env({ HTTPS_PROXY: "http://us er:hunter2@[::1" })),
    (e: Error) => {
      assert.ok(e instanceof SyntaxError);
      assert.equal(
        e.message,
        'HTTPS_PROXY is not a valid http: or https: proxy URL: "http://***@[::1"',
      );
      return true;
    },
  );
});

Deno.test("env: credentials in the proxy URL become Proxy-Authorization: Basic, percent-decoded; the label has none", () => {
  const route = proxyFor(
    WSS,
    DEFAULT_PROXY,
    env({ HTTPS_PROXY: "http://al%20ice:p%40ss%3Aw0rd@proxy:3128" }),
  );
  assert.equal(route.proxy?.authorization, `Basic ${btoa("al ice:p@ss:w0rd")}`);
  assert.equal(route.proxy?.label, "http://proxy:3128");
  assert.equal(route.proxy?.source, "HTTPS_PROXY");
  assert.equal(route.why, "HTTPS_PROXY");
  assert.equal(via(WSS, { HTTPS_PROXY: "http://proxy:3128" }), "http://proxy:3128");
  assert.equal(
    proxyFor(WSS, DEFAULT_PROXY, env({ HTTPS_PROXY: "http://proxy:3128" })).proxy?.authorization,
    undefined,
  );
  // A user name alone, or a malformed escape, is sent as written.
  assert.equal(
    proxyFor(WSS, DEFAULT_PROXY, env({ HTTPS_PROXY: "http://bob@proxy" })).proxy?.authorization,
    `Basic ${btoa("bob:")}`,
  );
  assert.equal(
    proxyFor(WSS, DEFAULT_PROXY, env({ HTTPS_PROXY: "http://bob:100%@proxy" })).proxy
      ?.authorization,
    `Basic ${btoa("bob:100%")}`,
  );
});

Deno.test('env: unreadable variables (Deno without --allow-env) count as unset; with none readable the default goes direct, an explicit "env" fails', () => {
  const all = [
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
  ];
  const vars = { HTTPS_PROXY: "http://s:1", NO_PROXY: "example.com" };
  const route = proxyFor(WSS, DEFAULT_PROXY, env(vars, all));
  assert.equal(route.proxy, undefined);
  assert.match(route.why, /cannot be read \(on Deno: run with --allow-env or --allow-env=/);
  assert.throws(
    () => proxyFor(WSS, EXPLICIT_ENV, env(vars, all)),
    /proxy: "env" cannot read https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY: on Deno, run with --allow-env/,
  );
  // Granted HTTPS_PROXY alone: it is used, and NO_PROXY, unreadable, cannot exclude the host.
  const some = all.filter((name) => name !== "HTTPS_PROXY");
  const partial = proxyFor(WSS, EXPLICIT_ENV, env(vars, some));
  assert.equal(partial.proxy?.label, "http://s:1");
  assert.equal(partial.why, "HTTPS_PROXY (no_proxy, NO_PROXY cannot be read)");
  const none = proxyFor(WSS, DEFAULT_PROXY, env({}, some));
  assert.equal(
    none.why,
    "none of HTTPS_PROXY is set (https_proxy, all_proxy, ALL_PROXY cannot be read)",
  );
});

Deno.test("the option: a URL is used whatever the environment says; false goes direct", () => {
  const vars = { HTTPS_PROXY: "http://s:1", NO_PROXY: "*" };
  const setting: ProxySetting = { kind: "url", proxy: parseProxyUrl("http://mine:8080", "proxy") };
  assert.equal(proxyFor(WSS, setting, env(vars)).proxy?.label, "http://mine:8080");
  assert.equal(proxyFor(WSS, setting, env(vars)).why, "proxy");
  assert.deepEqual(proxyFor(WSS, PROXY_OFF, env(vars)), { proxy: undefined, why: "proxy: false" });
});

Deno.test("parseProxyUrl: http: and https: with their default ports; path and query ignored", () => {
  const p = parseProxyUrl(new URL("https://u:p@proxy.example:8443/x?y=1"), '"proxy"');
  assert.equal(p.hostname, "proxy.example");
  assert.equal(p.port, 8443);
  assert.equal(p.secure, true);
  assert.equal(p.label, "https://proxy.example:8443");
  assert.equal(p.authorization, `Basic ${btoa("u:p")}`);
  assert.equal(parseProxyUrl("http://proxy", "x").port, 80);
  assert.throws(() => parseProxyUrl("ftp://proxy", '"proxy"'), SyntaxError);
  assert.throws(() => parseProxyUrl("http://", '"proxy"'), SyntaxError);
});

Deno.test("Deno's environment: read with --allow-env, by a variable's grant alone, and not once the whole environment's permission is revoked at run time (never prompting)", async () => {
  const proxy = new URL("../../src/transport/proxy.ts", import.meta.url).href;
  const script = `
    const { DEFAULT_PROXY, proxyFor } = await import(${JSON.stringify(proxy)});
    const url = new URL("ws://example.com/");
    const route = () => proxyFor(url, DEFAULT_PROXY);
    const seen = [route().proxy?.label ?? "direct"];
    Deno.permissions.revokeSync({ name: "env", variable: "NO_PROXY" });
    seen.push(route().proxy?.label ?? "direct");
    Deno.permissions.revokeSync({ name: "env" });
    seen.push(route().why);
    console.log(JSON.stringify(seen));
  `;
  const run = async (flags: string[], env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-prompt", ...flags, script],
      env: { ...env, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, `${text}\n${new TextDecoder().decode(out.stderr)}`);
    return JSON.parse(text) as string[];
  };
  // Revoking another variable leaves the grants as they are; revoking the whole environment
  // takes them all back.
  const both = { http_proxy: "http://lower:1", HTTP_PROXY: "http://upper:2" };
  assert.deepEqual(await run(["--allow-env"], both), [
    "http://lower:1",
    "http://lower:1",
    "the proxy variables cannot be read (on Deno: run with --allow-env or --allow-env=http_proxy,HTTP_PROXY,all_proxy,ALL_PROXY,no_proxy,NO_PROXY), so none is used",
  ]);
  assert.deepEqual(
    await run(["--allow-env=HTTP_PROXY,NO_PROXY"], { HTTP_PROXY: "http://upper:2" }),
    [
      "http://upper:2",
      "http://upper:2",
      "the proxy variables cannot be read (on Deno: run with --allow-env or --allow-env=http_proxy,HTTP_PROXY,all_proxy,ALL_PROXY,no_proxy,NO_PROXY), so none is used",
    ],
  );
});
