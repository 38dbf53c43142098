// Internal: where names live. Local names are this module copy's; global names are shared by
// every copy of @parley/client in the realm through a Symbol.for key.

import { NameTakenError } from "./errors.ts";
import type { ClientName, NameRegistry } from "./name.ts";

const local = new Map<string | symbol, unknown>();
const GLOBAL_KEY = Symbol.for("@parley/client.globalRegistry");

function globalMap(): Map<string, unknown> {
  const g = globalThis as unknown as Record<symbol, Map<string, unknown> | undefined>;
  return (g[GLOBAL_KEY] ??= new Map<string, unknown>());
}

/** A printable form of a name, for messages. */
export function nameText(name: ClientName): string {
  if (typeof name === "string") return JSON.stringify(name);
  if (typeof name === "symbol") return name.toString();
  if ("global" in name) return `{ global: ${JSON.stringify(name.global)} }`;
  return `{ via: …, key: ${
    typeof name.key === "string" ? JSON.stringify(name.key) : String(name.key)
  } }`;
}

/** Registers `client` under `name`, throwing {@linkcode NameTakenError} when it is taken. */
export function register(name: ClientName, client: unknown): void {
  if (typeof name === "string" || typeof name === "symbol") {
    const existing = local.get(name);
    if (existing !== undefined) throw new NameTakenError(nameText(name), existing);
    local.set(name, client);
  } else if ("global" in name) {
    const map = globalMap();
    const existing = map.get(name.global);
    if (existing !== undefined) throw new NameTakenError(nameText(name), existing);
    map.set(name.global, client);
  } else {
    const via: NameRegistry = name.via;
    if (!via.register(name.key, client)) {
      throw new NameTakenError(nameText(name), via.whereis(name.key));
    }
  }
}

/** Removes `name` if `client` holds it. */
export function unregister(name: ClientName, client: unknown): void {
  if (typeof name === "string" || typeof name === "symbol") {
    if (local.get(name) === client) local.delete(name);
  } else if ("global" in name) {
    const map = globalMap();
    if (map.get(name.global) === client) map.delete(name.global);
  } else if (name.via.whereis(name.key) === client) {
    name.via.unregister(name.key);
  }
}

/** The client registered under `name`, or `undefined`. */
export function lookup(name: ClientName): unknown {
  if (typeof name === "string" || typeof name === "symbol") return local.get(name);
  if ("global" in name) return globalMap().get(name.global);
  return name.via.whereis(name.key);
}
