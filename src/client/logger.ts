/**
 * The logger interface: any console-like object.
 *
 * @module
 */

/**
 * Where the client reports what it does not throw: dropped pushes, failed fire-and-forget
 * sends, reconnect scheduling. Any object with these four methods fits: `console` (the
 * default), a `@std/log` `Logger`, pino, or a test's recorder.
 *
 * @example Record warnings in a test
 * ```ts
 * import type { Logger } from "@parley/client";
 * const warnings: string[] = [];
 * const logger: Logger = {
 *   debug() {},
 *   info() {},
 *   warn: (msg) => void warnings.push(String(msg)),
 *   error: (msg) => void warnings.push(String(msg)),
 * };
 * ```
 */
export interface Logger {
  /** Detailed progress: connect attempts, reconnect delays. */
  debug(message: string, ...args: unknown[]): unknown;
  /** Notable events. */
  info(message: string, ...args: unknown[]): unknown;
  /** Something was dropped or refused. */
  warn(message: string, ...args: unknown[]): unknown;
  /** A client stopped because of an error. */
  error(message: string, ...args: unknown[]): unknown;
}

/**
 * A logger that discards everything.
 *
 * @example
 * ```ts
 * import { silentLogger } from "@parley/client";
 * silentLogger.warn("nobody hears this");
 * ```
 */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/**
 * The default logger: `console` for info, warnings and errors; debug messages (connect
 * attempts, reconnect delays) are dropped. Pass `console` itself to see them.
 *
 * @example
 * ```ts
 * import { defaultLogger } from "@parley/client";
 * defaultLogger.debug("not printed");
 * ```
 */
export const defaultLogger: Logger = Object.freeze({
  debug() {},
  info: (message: string, ...args: unknown[]) => console.info(message, ...args),
  warn: (message: string, ...args: unknown[]) => console.warn(message, ...args),
  error: (message: string, ...args: unknown[]) => console.error(message, ...args),
});
