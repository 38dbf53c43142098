// Internal: whether a NO_PROXY list excludes a host from the proxy, by curl's rules (its
// CURLOPT_NOPROXY and libcurl-env documentation), with two additions other clients make (Node's
// own NO_PROXY support, Go's httpproxy): `*.example.com` is read as `.example.com`, and an entry
// may name a port (`example.com:8080`, `[::1]:8080`, `10.0.0.1:8080`), which then matches that
// port only. Pure: no environment access here.
//
// - Entries are separated by commas and blanks. `*` (as the whole list or as an entry) matches
//   every host.
// - A name matches itself and every name below it: `example.com` and `.example.com` both match
//   example.com and www.example.com, not notexample.com. Case does not count; a trailing dot on
//   either side is ignored.
// - An IPv4 or IPv6 address (IPv6 with or without brackets) matches that address, or with a
//   `/bits` suffix (CIDR) every address in that network. Addresses match addresses only: no name
//   is resolved, so `localhost` does not match 127.0.0.1.

/** One entry of a NO_PROXY list. */
type Entry =
  | { readonly kind: "any" }
  | { readonly kind: "name"; readonly name: string; readonly port: number | undefined }
  | {
    readonly kind: "address";
    readonly bytes: Uint8Array;
    readonly bits: number;
    readonly port: number | undefined;
  };

/**
 * Whether `list` (a NO_PROXY value) excludes `hostname` (as a URL gives it: lowercase, an IPv6
 * address in brackets) on `port`.
 */
export function noProxyMatches(list: string, hostname: string, port: number): boolean {
  const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  const address = parseAddress(host);
  const name = host.toLowerCase().replace(/\.$/, "");
  for (const text of list.split(/[,\s]+/)) {
    if (text === "") continue;
    const entry = parseEntry(text);
    if (entry === undefined) continue;
    if (entry.kind === "any") return true;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.kind === "name") {
      if (address === undefined && (name === entry.name || name.endsWith(`.${entry.name}`))) {
        return true;
      }
    } else if (address !== undefined && inNetwork(address, entry.bytes, entry.bits)) {
      return true;
    }
  }
  return false;
}

/** Parses one entry; undefined for one that can match nothing (say a bad address). */
function parseEntry(text: string): Entry | undefined {
  if (text === "*") return { kind: "any" };
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else {
    // One colon: host:port. More: an IPv6 address without brackets (no port then).
    const colon = text.indexOf(":");
    if (colon >= 0 && colon === text.lastIndexOf(":")) {
      const digits = text.slice(colon + 1);
      if (!/^[0-9]+$/.test(digits)) return undefined;
      host = text.slice(0, colon);
      port = Number(digits);
    }
  }
  const slash = host.indexOf("/");
  const ip = parseAddress(slash < 0 ? host : host.slice(0, slash));
  if (ip !== undefined) {
    const max = ip.length * 8;
    if (slash < 0) return { kind: "address", bytes: ip, bits: max, port };
    const suffix = host.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(suffix) || Number(suffix) > max) return undefined;
    return { kind: "address", bytes: ip, bits: Number(suffix), port };
  }
  if (slash >= 0 || host.includes(":")) return undefined;
  // "*.example.com" and ".example.com" mean "example.com": the name and all below it.
  const name = host.toLowerCase().replace(/^\*?\.+/, "").replace(/\.$/, "");
  if (name === "" || name.includes("*")) return undefined;
  return { kind: "name", name, port };
}

/** Whether the first `bits` bits of `address` and `network` agree (and they are one family). */
function inNetwork(address: Uint8Array, network: Uint8Array, bits: number): boolean {
  if (address.length !== network.length) return false;
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (address[i] !== network[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (address[i] & mask) === (network[i] & mask);
}

/** The bytes of an IPv4 (4) or IPv6 (16) address, or undefined for anything else. */
export function parseAddress(text: string): Uint8Array | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^[0-9]{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    out[i] = Number(parts[i]);
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (!text.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        // A trailing IPv4 address: two groups.
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}
