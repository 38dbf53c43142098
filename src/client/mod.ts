/**
 * The client: definitions, handles, results, options, names, errors and supervision.
 *
 * @module
 */

export * from "./define_client.ts";
export * from "./client.ts";
export * from "./results.ts";
export * from "./reasons.ts";
export * from "./errors.ts";
export * from "./options.ts";
export * from "./name.ts";
export * from "./logger.ts";
export * from "./backoff.ts";
export * from "./addressing.ts";
export * from "./supervisor.ts";
export * from "./events.ts";
export * from "./call.ts";
