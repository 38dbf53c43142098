// Serves the test page and the bundle from a directory on 127.0.0.1, port 0, and records every
// path asked for (the test checks the page never asks for the dialer chunks).

/** The page: loads the bundled page.ts as a module; no favicon request. */
const INDEX = `<!doctype html>
<html>
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>parley</title></head>
<body><script type="module" src="/page.js"></script></body>
</html>
`;

/** A running static server. */
export interface StaticServer {
  readonly url: string;
  /** Paths requested, in order. */
  readonly requested: string[];
  close(): Promise<void>;
}

/** Serves `/` (the page) and the files in `dir`. */
export function serveStatic(dir: string): Promise<StaticServer> {
  const requested: string[] = [];
  const ac = new AbortController();
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}/`,
          requested,
          close: async () => {
            ac.abort();
            await server.finished;
          },
        }),
    }, async (req) => {
      const path = new URL(req.url).pathname;
      requested.push(path);
      if (path === "/") return new Response(INDEX, { headers: { "content-type": "text/html" } });
      if (!/^\/[\w.-]+\.js$/.test(path)) return new Response("not found", { status: 404 });
      try {
        const body = await Deno.readFile(`${dir}${path}`);
        return new Response(body, { headers: { "content-type": "text/javascript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
  });
}
