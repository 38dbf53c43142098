// A TCP proxy on 127.0.0.1 for the examples, between a client and a server: it forwards both
// ways until `silence()`, after which it forwards nothing and closes nothing, as a dead NAT, a
// sleeping laptop's network or a stuck load balancer would.

/** A running proxy. */
export interface SilentProxy {
  readonly port: number;
  /** From now on nothing is forwarded either way; the connections stay open. */
  silence(): void;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export function startSilentProxy(targetPort: number): SilentProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  let silent = false;
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const buffer = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (!silent) await to.write(buffer.subarray(0, n));
      }
    } catch { /* closed */ }
  };
  const accepting = (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      conns.add(client).add(server);
      pumps.push(pump(client, server), pump(server, client));
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    silence: () => (silent = true),
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      await Promise.allSettled([accepting, ...pumps]);
    },
  };
}
