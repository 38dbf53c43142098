/**
 * Client names: local, realm-wide, or held by a registry of your own.
 *
 * @module
 */

/**
 * A registry you supply for the `{ via, key }` name form (like Elixir's `{:via, module, term}`).
 * `register` returns `false` when the key is taken.
 *
 * @example A registry backed by a Map
 * ```ts
 * import type { NameRegistry } from "@parley/client";
 * const map = new Map<unknown, unknown>();
 * const registry: NameRegistry = {
 *   register: (key, client) => map.has(key) ? false : (map.set(key, client), true),
 *   unregister: (key) => void map.delete(key),
 *   whereis: (key) => map.get(key),
 * };
 * ```
 */
export interface NameRegistry {
  /** Registers `client` under `key`; returns `false`, changing nothing, when `key` is taken. */
  register(key: unknown, client: unknown): boolean;
  /** Removes `key`. */
  unregister(key: unknown): void;
  /** The client registered under `key`, or `undefined`. */
  whereis(key: unknown): unknown;
}

/**
 * A client name:
 *
 * - a string or symbol: registered in this module's own registry;
 * - `{ global: string }`: registered in a registry shared by every copy of `@parley/client`
 *   loaded in this JavaScript realm (like Elixir's `{:global, term}`);
 * - `{ via: registry, key }`: registered in your own {@linkcode NameRegistry}.
 *
 * @example
 * ```ts
 * import type { ClientName } from "@parley/client";
 * const local: ClientName = "ticker";
 * const global: ClientName = { global: "ticker" };
 * ```
 */
export type ClientName =
  | string
  | symbol
  | { readonly global: string }
  | { readonly via: NameRegistry; readonly key: unknown };
