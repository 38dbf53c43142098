// Internal: frame validation and sizing.
import type { Frame } from "./frame.ts";

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
      return typeof frame.data === "string"
        ? undefined
        : `a text frame needs a string as data, got ${describe(frame.data)}`;
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

/** UTF-8 length of a string without encoding it. Lone surrogates count as U+FFFD (3 bytes). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
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
