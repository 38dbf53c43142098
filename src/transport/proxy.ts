/**
 * Which HTTP(S) proxy, if any, a socket connection goes through: the `proxy` option, and the
 * proxy environment variables read as curl reads them.
 *
 * `"env"` (the default) reads, for a `wss:` URL, `https_proxy`, then `HTTPS_PROXY`, then
 * `all_proxy`, then `ALL_PROXY`; for a `ws:` URL `http_proxy`, then `HTTP_PROXY`, then the same
 * two. The first that is set and not empty wins, so the lowercase name wins over the uppercase
 * one, as in curl. Unlike curl, which never reads the uppercase `HTTP_PROXY` (in a CGI script
 * the request header `Proxy:` arrives as `HTTP_PROXY`: "httpoxy"), it is read, but not while
 * `REQUEST_METHOD` is set (a CGI script), as Go and Python do. Then `no_proxy` or `NO_PROXY`
 * (the lowercase one first) may exclude the host (see `_no_proxy.ts`). A value without a scheme
 * is an `http:` proxy; a proxy URL without a port means port 80 for `http:` and 443 for `https:`
 * (curl assumes 1080). Only `http:` and `https:` proxies are supported: any other scheme (say a
 * `socks5:` ALL_PROXY) fails the connection rather than bypass the proxy.
 *
 * On Deno, reading a variable needs the env permission: a variable Deno may not read is treated
 * as unset, without prompting. With none of the proxy variables readable, the default connects
 * directly (the client says so in a debug message), while an explicit `proxy: "env"` fails the
 * connection with an error naming `--allow-env`.
 *
 * @module
 */

import { basicCredentials } from "../protocol/proxy_tunnel.ts";
import { noProxyMatches } from "./_no_proxy.ts";
import { redactUrl } from "../vocabulary/redact.ts";

/** A proxy to tunnel through, from the option or the environment. */
export interface ProxyEndpoint {
  /** The proxy's host as a URL gives it (an IPv6 address in brackets). */
  readonly hostname: string;
  readonly port: number;
  /** An `https:` proxy: the client speaks TLS to the proxy itself. */
  readonly secure: boolean;
  /** The `Proxy-Authorization` value for the URL's credentials, if it has any. */
  readonly authorization: string | undefined;
  /** `http://host:port` or `https://host:port`: how messages name the proxy (no credentials). */
  readonly label: string;
  /** Where it came from: `the proxy option` or the variable's name. */
  readonly source: string;
}

/** The `proxy` option after validation. */
export type ProxySetting =
  | { readonly kind: "env"; readonly explicit: boolean }
  | { readonly kind: "url"; readonly proxy: ProxyEndpoint }
  | { readonly kind: "off" };

/** The setting when the option is not given: the environment, leniently (see the module doc). */
export const DEFAULT_PROXY: ProxySetting = Object.freeze({ kind: "env", explicit: false });

/** The setting `proxy: false`. */
export const PROXY_OFF: ProxySetting = Object.freeze({ kind: "off" });

/** Reads environment variables (tests pass their own). */
export interface Environment {
  /** Whether the variable may be read without asking anyone (Deno: the env permission). */
  readable(name: string): boolean;
  /** The variable's value, or undefined when it is unset. Only called when readable. */
  get(name: string): string | undefined;
}

/** How a connection to a URL is routed, and why. */
export interface ProxyRoute {
  /** The proxy to tunnel through, or undefined for a direct connection. */
  readonly proxy: ProxyEndpoint | undefined;
  /** Why, in a few words for a debug message: where the proxy came from, or why none. */
  readonly why: string;
}

/**
 * Parses a proxy URL: `http:` or `https:`, credentials in its user info (percent-decoded), the
 * scheme's port by default. Path, query and fragment are ignored. Leniently (a variable's value,
 * as curl reads it), no scheme means `http:`; strictly (the `proxy` option), the URL must have
 * its scheme. Throws a `SyntaxError` naming `source` and quoting the value redacted (it may hold
 * a password).
 */
export function parseProxyUrl(
  value: string | URL,
  source: string,
  strict = false,
): ProxyEndpoint {
  let text = String(value).trim();
  const invalid = () =>
    // Not the URL parser's error as the cause: its message quotes the URL, password and all.
    new SyntaxError(
      `${source} is not a valid http: or https: proxy URL: ${JSON.stringify(redactUrl(text))}`,
    );
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    if (strict) throw invalid();
    text = `http://${text}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid();
  }
  if (url.hostname === "") {
    throw new SyntaxError(
      `${source} is a proxy URL without a host: ${JSON.stringify(redactUrl(text))}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SyntaxError(
      `${source} names a ${url.protocol} proxy (${url.protocol}//${url.host}), and only http: and https: proxies are supported`,
    );
  }
  const secure = url.protocol === "https:";
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  return Object.freeze({
    hostname: url.hostname,
    port,
    secure,
    authorization: url.username === "" && url.password === ""
      ? undefined
      : basicCredentials(decode(url.username), decode(url.password)),
    label: `${url.protocol}//${url.hostname}:${port}`,
    source,
  });
}

/** Percent-decodes user info; a malformed escape is kept as written. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * How to reach `url` with the `proxy` setting. Throws an `Error` (a `SyntaxError` for a bad
 * proxy URL in the environment) when the setting cannot be honoured: the connection then fails.
 *
 * @example
 * ```ts ignore
 * proxyFor(new URL("wss://example.com/"), DEFAULT_PROXY).proxy?.label; // "http://proxy:3128"
 * ```
 */
export function proxyFor(
  url: URL,
  setting: ProxySetting,
  env: Environment = runtimeEnvironment(),
): ProxyRoute {
  if (setting.kind === "off") return { proxy: undefined, why: "proxy: false" };
  if (setting.kind === "url") return { proxy: setting.proxy, why: setting.proxy.source };
  const secure = url.protocol === "wss:";
  const names = secure
    ? ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    : ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];
  const readable = names.filter((name) => env.readable(name));
  if (readable.length === 0) {
    const flag = `--allow-env=${[...names, "no_proxy", "NO_PROXY"].join(",")}`;
    if (setting.explicit) {
      throw new Error(
        `proxy: "env" cannot read ${names.join(", ")}: on Deno, run with --allow-env (or ${flag})`,
      );
    }
    return {
      proxy: undefined,
      why: `the proxy variables cannot be read (on Deno: run with --allow-env or ${flag}), so ` +
        "none is used",
    };
  }
  let source: string | undefined;
  let value: string | undefined;
  for (const name of readable) {
    const v = env.get(name)?.trim();
    if (v === undefined || v === "") continue;
    // In a CGI script, HTTP_PROXY is the request's Proxy header: never a proxy setting. (Asked
    // only then: each variable read is an op on Deno, and this runs for every connection.)
    if (
      name === "HTTP_PROXY" && env.readable("REQUEST_METHOD") &&
      (env.get("REQUEST_METHOD") ?? "") !== ""
    ) continue;
    source = name;
    value = v;
    break;
  }
  const unread = names.filter((name) => !readable.includes(name));
  const note = unread.length === 0 ? "" : ` (${unread.join(", ")} cannot be read)`;
  if (value === undefined || source === undefined) {
    return { proxy: undefined, why: `none of ${readable.join(", ")} is set${note}` };
  }
  const unreadList = ["no_proxy", "NO_PROXY"].filter((name) => !env.readable(name));
  for (const name of ["no_proxy", "NO_PROXY"]) {
    if (unreadList.includes(name)) continue;
    const list = env.get(name)?.trim();
    if (list === undefined || list === "") continue;
    const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    if (noProxyMatches(list, url.hostname, port)) {
      return { proxy: undefined, why: `${name} matches ${url.hostname}:${port}` };
    }
    break;
  }
  return {
    proxy: parseProxyUrl(value, source),
    why: unreadList.length === 0 ? source : `${source} (${unreadList.join(", ")} cannot be read)`,
  };
}

/** What Deno's permission API gives here. */
interface DenoPermissions {
  querySync?(d: { name: "env"; variable?: string }): { readonly state: string };
}

/**
 * Deno's status of the permission to read the whole environment, kept: Deno keeps one status
 * object per permission, and updates its `state` when the permission is requested or revoked
 * through the API (revoking a single variable leaves a whole-environment grant as it is), so
 * reading it costs no query. `null`: this Deno does not keep it (then every decision asks).
 */
let wholeEnvironment: { readonly state: string } | null | undefined;

function wholeEnvironmentStatus(permissions: DenoPermissions): { readonly state: string } | null {
  if (wholeEnvironment === undefined) {
    try {
      const first = permissions.querySync?.({ name: "env" });
      const again = permissions.querySync?.({ name: "env" });
      wholeEnvironment = first !== undefined && first === again ? first : null;
    } catch {
      wholeEnvironment = null;
    }
  }
  return wholeEnvironment;
}

/** The environment of this runtime: Deno's (never prompting), Node's or Bun's, or none. */
export function runtimeEnvironment(): Environment {
  const g = globalThis as {
    Deno?: { env?: { get(name: string): string | undefined }; permissions?: DenoPermissions };
    process?: { env?: Record<string, string | undefined> };
  };
  const deno = g.Deno;
  if (deno?.env !== undefined) {
    const denoEnv = deno.env;
    const permissions = deno.permissions ?? {};
    const granted = (variable?: string) => {
      try {
        const descriptor = variable === undefined
          ? { name: "env" as const }
          : { name: "env" as const, variable };
        return permissions.querySync?.(descriptor).state === "granted";
      } catch {
        return false;
      }
    };
    // A permission query costs microseconds on Deno 2.9, and a decision reads up to seven
    // variables, twice per connection. With the whole environment granted (--allow-env, -A),
    // its kept status answers for all of them; otherwise each variable is asked about, every
    // time (a variable's status is not kept: revoking the whole environment would leave it
    // stale, and reading a variable Deno may no longer read could prompt).
    const status = wholeEnvironmentStatus(permissions);
    const all = status === null ? granted() : status.state === "granted";
    return {
      readable: (name) => all || granted(name),
      get: (name) => {
        try {
          return denoEnv.get(name);
        } catch {
          return undefined;
        }
      },
    };
  }
  const processEnv = g.process?.env;
  if (processEnv !== undefined) {
    return { readable: () => true, get: (name) => processEnv[name] };
  }
  return { readable: () => false, get: () => undefined };
}
