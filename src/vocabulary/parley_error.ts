/**
 * The base class of every named error of `@parley/client`.
 *
 * @module
 */

/**
 * The base class of every named Parley error, so `instanceof ParleyError` catches them all.
 *
 * @example
 * ```ts
 * import { ParleyError } from "@parley/client";
 * try {
 *   // await conn.sendFrame(...)
 * } catch (e) {
 *   if (e instanceof ParleyError) console.warn(e.name, e.message);
 * }
 * ```
 */
export class ParleyError extends Error {
  /**
   * Creates the error.
   * @param message What failed and why.
   * @param options `cause`, kept as the standard `Error` cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
