// Internal to the library (not exported from mod.ts): URLs as messages and logs may show them.
// Credentials travel in URLs (ws://user:pass@host/, wss://host/feed?token=...), and messages and
// logs end up in places credentials must not: the user name and password become `***`, and so
// do every query-string value and the fragment; the scheme, host, port, path and parameter names
// stay. Text that does not parse as a URL is redacted by string rules (see `redactText`), so a
// rejected URL can be quoted too.

/** `url` with its userinfo, query-string values and fragment replaced by `***`. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return redactText(String(url));
  }
  // Without a host the parser saw no user info: `bob:hunter2@host` is the scheme "bob:" and an
  // opaque path. Such text goes by the string rules.
  if (parsed.host === "") return redactText(parsed.href);
  if (
    parsed.username === "" && parsed.password === "" && parsed.search === "" &&
    parsed.hash === ""
  ) return parsed.href;
  const copy = new URL(parsed.href);
  if (copy.username !== "" || copy.password !== "") {
    copy.username = "***";
    copy.password = "";
  }
  const search = copy.search;
  const hash = copy.hash;
  copy.search = "";
  copy.hash = "";
  return `${copy.href}${redactQuery(search)}${hash === "" ? "" : "#***"}`;
}

/**
 * Text that failed to parse as a URL, redacted by string rules: the query runs from the first
 * `?` to the first `#`, and its values become `***`; a fragment becomes `#***`; and before the
 * query, everything from the start of the authority (after the first `//`, or the start of the
 * text without one) to the last `@` becomes `***`. A password may hold a `/` in text the parser
 * refused, so the authority is taken to run to the query: a path with an `@` in it is masked up
 * to that `@`, which shows less than it could, never more.
 */
export function redactText(text: string): string {
  const hashAt = text.indexOf("#");
  const beforeHash = hashAt < 0 ? text : text.slice(0, hashAt);
  const fragment = hashAt < 0 ? "" : "#***";
  const queryAt = beforeHash.indexOf("?");
  let head = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt < 0 ? "" : redactQuery(beforeHash.slice(queryAt));
  const slashes = head.indexOf("//");
  const start = slashes < 0 ? 0 : slashes + 2;
  const at = head.lastIndexOf("@");
  if (at >= start) head = `${head.slice(0, start)}***${head.slice(at)}`;
  return `${head}${query}${fragment}`;
}

/** A query string (`?a=1&b`, or `""`) with every value replaced by `***`. */
function redactQuery(search: string): string {
  if (search === "") return "";
  return `?${
    search.slice(1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? pair : `${pair.slice(0, eq)}=***`;
    }).join("&")
  }`;
}
