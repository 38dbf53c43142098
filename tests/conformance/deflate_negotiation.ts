// The fuzzing server's side of the permessage-deflate negotiation, as autobahn-python's server
// does it for the compression cases: it parses each permessage-deflate offer of the client's
// Sec-WebSocket-Extensions (PerMessageDeflateOffer.parse), picks the first offer the case's
// accept rule takes (accept1-accept7 in case12_x_x.py), answers with what
// PerMessageDeflateOfferAccept.get_extension_string writes, and compresses with what
// PerMessageDeflate.create_from_offer_accept makes of it.

/** An offer as autobahn-python reads it. */
export interface DeflateOffer {
  /** The client accepts `client_no_context_takeover` (autobahn-python assumes so, always). */
  readonly acceptNoContextTakeover: boolean;
  /** The client offered `client_max_window_bits`, so the server may set its window. */
  readonly acceptMaxWindowBits: boolean;
  /** The client asked for `server_no_context_takeover`. */
  readonly requestNoContextTakeover: boolean;
  /** The client asked for `server_max_window_bits` (0: it did not). */
  readonly requestMaxWindowBits: number;
}

/**
 * A case's accept rule: the choices it tries in order, each `[requestNoContextTakeover,
 * requestMaxWindowBits]` (0: no window asked of the client); the first that an offer allows
 * wins (a window needs an offer with client_max_window_bits).
 */
export type DeflateAccept = ReadonlyArray<readonly [boolean, number]>;

/** What both sides compress with, once agreed (window bits 8-15). */
export interface DeflateParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

/** The result of a negotiation: what the server answers and compresses with, or nothing. */
export type Negotiation =
  | { readonly kind: "accepted"; readonly response: string; readonly params: DeflateParams }
  | { readonly kind: "declined" }
  | { readonly kind: "invalid"; readonly why: string };

/** The window sizes autobahn's fuzzing server (the version the suite pins) accepts. */
const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/**
 * Parses a Sec-WebSocket-Extensions value into its extensions and their parameters (values
 * unquoted), as autobahn-python's _parseExtensionsHeader does.
 */
function parseExtensions(header: string): Array<[string, Array<[string, string | true]>]> {
  const out: Array<[string, Array<[string, string | true]>]> = [];
  for (const element of header.split(",")) {
    const parts = element.split(";").map((p) => p.trim());
    if (parts[0] === "") continue;
    const params: Array<[string, string | true]> = [];
    for (const p of parts.slice(1)) {
      const eq = p.indexOf("=");
      if (eq < 0) params.push([p.toLowerCase(), true]);
      else {
        params.push([
          p.slice(0, eq).trim().toLowerCase(),
          p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"),
        ]);
      }
    }
    out.push([parts[0].toLowerCase(), params]);
  }
  return out;
}

/** PerMessageDeflateOffer.parse: one offer, or why it is invalid. */
function parseOffer(params: Array<[string, string | true]>): DeflateOffer | string {
  let acceptMaxWindowBits = false;
  let requestNoContextTakeover = false;
  let requestMaxWindowBits = 0;
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) return `multiple occurrence of extension parameter '${name}'`;
    seen.add(name);
    switch (name) {
      case "client_max_window_bits":
        if (value !== true && !WINDOW_BITS.test(value)) {
          return `illegal value '${value}' for '${name}'`;
        }
        acceptMaxWindowBits = true;
        break;
      case "client_no_context_takeover":
        if (value !== true) return `illegal value '${value}' for '${name}'`;
        break;
      case "server_max_window_bits":
        if (value === true || !WINDOW_BITS.test(value)) {
          return `illegal value '${value}' for '${name}'`;
        }
        requestMaxWindowBits = Number(value);
        break;
      case "server_no_context_takeover":
        if (value !== true) return `illegal value '${value}' for '${name}'`;
        requestNoContextTakeover = true;
        break;
      default:
        return `illegal extension parameter '${name}'`;
    }
  }
  // autobahn-python takes no-context-takeover as accepted whether offered or not.
  return {
    acceptNoContextTakeover: true,
    acceptMaxWindowBits,
    requestNoContextTakeover,
    requestMaxWindowBits,
  };
}

/** Negotiates permessage-deflate for a case whose accept rule is `accept`. */
export function negotiateDeflate(header: string | undefined, accept: DeflateAccept): Negotiation {
  const offers: DeflateOffer[] = [];
  for (const [name, params] of parseExtensions(header ?? "")) {
    if (name !== "permessage-deflate") continue;
    const offer = parseOffer(params);
    if (typeof offer === "string") return { kind: "invalid", why: offer };
    offers.push(offer);
  }
  for (const [noContextTakeover, windowBits] of accept) {
    const offer = offers.find((o) =>
      (!noContextTakeover || o.acceptNoContextTakeover) &&
      (windowBits === 0 || o.acceptMaxWindowBits)
    );
    if (offer === undefined) continue;
    let response = "permessage-deflate";
    if (offer.requestNoContextTakeover) response += "; server_no_context_takeover";
    if (offer.requestMaxWindowBits !== 0) {
      response += `; server_max_window_bits=${offer.requestMaxWindowBits}`;
    }
    if (noContextTakeover) response += "; client_no_context_takeover";
    if (windowBits !== 0) response += `; client_max_window_bits=${windowBits}`;
    return {
      kind: "accepted",
      response,
      params: {
        serverNoContextTakeover: offer.requestNoContextTakeover,
        clientNoContextTakeover: noContextTakeover,
        serverMaxWindowBits: offer.requestMaxWindowBits || 15,
        clientMaxWindowBits: windowBits || 15,
      },
    };
  }
  return { kind: "declined" };
}
