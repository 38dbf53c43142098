// The messages every client sends and every receiver checks. A pool of distinct pseudo-random
// messages is made once per size, before any timing (so generating payloads costs nothing in the
// timed region, the same for every client); message k of a run is pool[k % POOL_SIZE], and its
// first 4 bytes carry k % POOL_SIZE. A receiver knows which message must come next, so a lost,
// repeated, reordered, truncated or altered message fails the check.

/** Distinct messages per size (a lost message shifts every later index, so 2 would do). */
export const POOL_SIZE = 64;

const pools = new Map<number, Uint8Array[]>();

/** The pool of `size`-byte messages (the same bytes in every runtime and in the server). */
export function pool(size: number): Uint8Array[] {
  let entries = pools.get(size);
  if (entries) return entries;
  entries = [];
  let x = (size * 2654435761) >>> 0 || 1; // xorshift32, seeded by the size
  for (let i = 0; i < POOL_SIZE; i++) {
    const bytes = new Uint8Array(size);
    for (let j = 0; j < size; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[j] = x;
    }
    if (size >= 4) new DataView(bytes.buffer).setUint32(0, i, true);
    entries.push(bytes);
  }
  pools.set(size, entries);
  return entries;
}

const jsonPools = new Map<number, string[]>();

/**
 * The pool of `size`-byte compressible JSON texts (ASCII, so bytes and characters agree): market
 * data updates whose keys repeat and whose values vary, message k's sequence number first, cut to
 * the size.
 */
export function jsonPool(size: number): string[] {
  let entries = jsonPools.get(size);
  if (entries) return entries;
  entries = [];
  let x = (size * 40503) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "ADA-EUR", "DOT-EUR", "XRP-USD", "LTC-GBP"];
  for (let i = 0; i < POOL_SIZE; i++) {
    let text = `{"seq":${String(i).padStart(4, "0")},"type":"book_update","updates":[`;
    while (text.length < size) {
      const price = 100 + (next() % 900_000) / 100;
      text += JSON.stringify({
        symbol: symbols[next() % symbols.length],
        side: next() % 2 ? "bid" : "ask",
        price: price.toFixed(2),
        size: ((next() % 100_000) / 1000).toFixed(3),
        orders: next() % 40,
        ts: 1_733_500_000_000 + (next() % 10_000_000),
      }) + ",";
    }
    entries.push(text.slice(0, size));
  }
  jsonPools.set(size, entries);
  return entries;
}

/** How many bytes a sampled check reads besides the index and the last bytes. */
const SAMPLES = 64;

/**
 * Why `got` is not message `k` of the `size` pool, or `undefined` when it is. `full` compares
 * every byte; otherwise the index, the last 4 bytes and 64 bytes spread over the message (a
 * shifted, truncated or foreign message fails with near certainty; the full check runs during
 * every warm-up and throughout `--check` runs).
 */
export function mismatch(
  got: Uint8Array,
  k: number,
  size: number,
  full: boolean,
): string | undefined {
  const want = pool(size)[k % POOL_SIZE];
  if (got.length !== size) return `message ${k}: ${got.length} bytes, expected ${size}`;
  const step = full ? 1 : Math.max(1, Math.floor(size / SAMPLES));
  for (let i = 0; i < size; i += step) {
    if (got[i] !== want[i]) return `message ${k}: byte ${i} differs`;
  }
  for (let i = Math.max(0, size - 4); i < size; i++) {
    if (got[i] !== want[i]) return `message ${k}: byte ${i} differs`;
  }
  for (let i = 0; i < Math.min(4, size); i++) {
    if (got[i] !== want[i]) return `message ${k}: index byte ${i} differs`;
  }
  return undefined;
}
