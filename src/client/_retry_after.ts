// Internal: the delay a refused upgrade asks for. RFC 9110 §10.2.3: `Retry-After` is either a
// number of seconds or an HTTP date; it is honoured on 429 (Too Many Requests) and 503 (Service
// Unavailable), where servers use it to shed load.

import type { HandshakeError } from "../vocabulary/handshake_error.ts";

/** The delay in ms `error`'s server asked for, or undefined; `now` is `Date.now()`. */
export function retryAfterMs(error: HandshakeError, now: number): number | undefined {
  if (error.status !== 429 && error.status !== 503) return undefined;
  const value = error.headers?.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^[0-9]+$/.test(value)) return Math.min(Number(value) * 1000, 2 ** 31 - 1);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
