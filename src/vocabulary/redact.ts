// Internal to the library (not exported from mod.ts): URLs as messages and logs may show them.
// Credentials travel in URLs (ws://user:pass@host/, wss://host/feed?token=...), and messages and
// logs end up in places credentials must not: the user name and password become `***`, and so
// does every query-string value; the scheme, host, port, path and parameter names stay.

/** `url` with its userinfo and query-string values replaced by `***`. */
export function redactUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === "string" ? new URL(url) : url;
  } catch {
    return redactText(String(url));
  }
  if (parsed.username === "" && parsed.password === "" && parsed.search === "") return parsed.href;
  const copy = new URL(parsed.href);
  if (copy.username !== "" || copy.password !== "") {
    copy.username = "***";
    copy.password = "";
  }
  const search = copy.search;
  const hash = copy.hash;
  copy.search = "";
  copy.hash = "";
  const query = search === "" ? "" : `?${
    search.slice(1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? pair : `${pair.slice(0, eq)}=***`;
    }).join("&")
  }`;
  return `${copy.href}${query}${hash}`;
}

/** Text that failed to parse as a URL, with anything after `?` or before `@` replaced. */
export function redactText(text: string): string {
  return text
    .replace(/(\/\/)[^/@?#\s]*@/g, "$1***@")
    .replace(/\?[^#\s"']*/g, (q) =>
      "?" + q.slice(1).split("&").map((pair) => {
        const eq = pair.indexOf("=");
        return eq < 0 ? pair : `${pair.slice(0, eq)}=***`;
      }).join("&"));
}
