// Internal: frame validation and sizing.
import type { Frame } from "../vocabulary/frame.ts";
import { utf8Length } from "../protocol/utf8.ts";

export { utf8Length };

const FRAME_TYPES = "text, binary, ping or pong";

/**
 * Describes why `value` is not a valid frame, or returns `undefined` when it is one.
 * Only the shape is checked here; sizes are checked by {@linkcode frameSizeError}.
 */
export function frameShapeError(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") {
    return `expected a frame object with a type of ${FRAME_TYPES}, got ${describe(value)}`;
  }
  const frame = value as { type?: unknown; data?: unknown };
  switch (frame.type) {
    case "text":
      if (typeof frame.data !== "string") {
        return `a text frame needs a string as data, got ${describe(frame.data)}`;
      }
      return wellFormed(frame.data) ? undefined : loneSurrogate(frame.data);
    case "binary":
      return frame.data instanceof Uint8Array
        ? undefined
        : `a binary frame needs a Uint8Array as data, got ${describe(frame.data)}`;
    case "ping":
    case "pong":
      return frame.data === undefined || frame.data instanceof Uint8Array
        ? undefined
        : `a ${frame.type} frame needs a Uint8Array or no data, got ${describe(frame.data)}`;
    default:
      return `expected a frame type of ${FRAME_TYPES}, got ${describe(frame.type)}`;
  }
}

const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** Whether `text` has no lone surrogate (so UTF-8 can encode it as it is). */
function wellFormed(text: string): boolean {
  if (isWellFormed !== undefined) return isWellFormed.call(text);
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Where `text`'s first lone surrogate is, for the message. */
function loneSurrogate(text: string): string {
  let at = 0;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(at + 1);
      if (next >= 0xdc00 && next <= 0xdfff) at++;
      else break;
    } else if (c >= 0xdc00 && c <= 0xdfff) break;
  }
  return `a text frame's data has a lone surrogate (U+${
    text.charCodeAt(at).toString(16).toUpperCase()
  } at index ${at}), which UTF-8 cannot encode: it would be sent as U+FFFD`;
}

/** Describes a size violation of a well-shaped frame, or `undefined`. */
export function frameSizeError(frame: Frame): string | undefined {
  if ((frame.type === "ping" || frame.type === "pong") && (frame.data?.length ?? 0) > 125) {
    return `a ${frame.type} payload is limited to 125 bytes, got ${frame.data!.length}`;
  }
  return undefined;
}

/** The number of payload bytes a frame puts on the wire (exact for text). */
export function frameByteLength(frame: Frame): number {
  if (frame.type === "text") return utf8Length(frame.data);
  return frame.data?.length ?? 0;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "an object";
}
