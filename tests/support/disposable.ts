// Test servers as fixtures: `await using server = await startWsServer();` closes the server at
// the end of the block, after the clients declared below it (they are disposed first).

/**
 * Returns `resource` with an idempotent `close` (later calls share the first call's promise) and
 * a `[Symbol.asyncDispose]` that calls it, so that a test may close the server itself (to see what
 * a client does then) and still declare it with `await using`.
 */
export function closedAtEnd<T extends { close(): Promise<unknown> }>(
  resource: T,
): T & AsyncDisposable {
  const close = resource.close.bind(resource) as T["close"];
  let closing: ReturnType<T["close"]> | undefined;
  const once = () => (closing ??= close() as ReturnType<T["close"]>);
  return Object.assign(resource, {
    close: once,
    [Symbol.asyncDispose]: async () => void await once(),
  });
}

/** `T` before {@linkcode closedAtEnd} adds its dispose method (to type the object passed to it). */
export type BeforeDispose<T extends AsyncDisposable> = Omit<T, typeof Symbol.asyncDispose>;
