// Internal: the key `start()` hands to the `ClientHandle` constructor. No public module exports
// it, so a handle cannot be built from outside the library.

/** Proves to `ClientHandle`'s constructor that `start()` is calling it. */
export const handleKey: symbol = Symbol("parley.ClientHandle");
