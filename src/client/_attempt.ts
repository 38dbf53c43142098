// Internal: a connection attempt's URL, headers and subprotocols, computed before the attempt
// when the options give functions for them. What a function returns is checked like the static
// option (the same error class, the message saying which function returned it); a function that
// throws or rejects fails the attempt with a HandshakeError whose cause is what it threw.

import {
  type Config,
  functionSource,
  parseHeaders,
  parseSubprotocols,
  parseUrl,
  type Source,
} from "./_options.ts";
import type { AttemptContext } from "./options.ts";
import { HandshakeError } from "../vocabulary/handshake_error.ts";

/** What one attempt connects with. */
export interface AttemptParams {
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
}

/** Whether any connection parameter is a function (and the attempt must wait for it). */
export function isDynamic(config: Config): boolean {
  return typeof config.url === "function" || typeof config.headers === "function" ||
    typeof config.subprotocols === "function";
}

/** The attempt's parameters: the static ones as they are, the functions' results checked. */
export async function attemptParams(
  config: Config,
  context: AttemptContext,
): Promise<AttemptParams> {
  const [url, headers, subprotocols] = await Promise.all([
    typeof config.url === "function" ? computed("url", config.url, context, parseUrl) : config.url,
    typeof config.headers === "function"
      ? computed("headers", config.headers, context, parseHeaders)
      : config.headers,
    typeof config.subprotocols === "function"
      ? computed("subprotocols", config.subprotocols, context, parseSubprotocols)
      : config.subprotocols,
  ]);
  return { url, headers, subprotocols };
}

async function computed<T, R>(
  what: string,
  fn: (context: AttemptContext) => T | Promise<T>,
  context: AttemptContext,
  parse: (value: unknown, source: Source) => R,
): Promise<R> {
  let value: T;
  try {
    value = await fn(context);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new HandshakeError(`Cannot connect as the ${what} function failed: ${detail}`, {
      cause,
    });
  }
  return parse(value, functionSource(what));
}
