/**
 * Limits on what the server may send, so a hostile or broken server cannot exhaust memory.
 *
 * @module
 */

/**
 * Receive limits. A server that exceeds one fails the connection with close code 1009.
 *
 * @example
 * ```ts
 * import type { Limits } from "@parley/client";
 * const limits: Limits = { maxMessageSize: 1024 * 1024 };
 * ```
 */
export interface Limits {
  /** The largest payload of one frame, in bytes. Default: `maxMessageSize`. */
  readonly maxFrameSize?: number;
  /** The largest message (all its fragments together), in bytes. Default 64 MiB. */
  readonly maxMessageSize?: number;
  /** The most frames one message may be split into. Default 131,072. */
  readonly maxFragments?: number;
}

/** Limits with every field filled in. */
export interface ResolvedLimits {
  readonly maxFrameSize: number;
  readonly maxMessageSize: number;
  readonly maxFragments: number;
}

/** The defaults: they pass a conformance suite's 16 MiB messages and 65,537 fragments. */
export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxFrameSize: 64 * 1024 * 1024,
  maxMessageSize: 64 * 1024 * 1024,
  maxFragments: 131_072,
});
