// Byte helpers shared by the test servers and the protocol tests (web APIs only).

const encoder = new TextEncoder();

/** Joins byte arrays (and strings, UTF-8 encoded). */
export function concat(...parts: Array<Uint8Array | string>): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
