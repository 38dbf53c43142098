// Request/response over one WebSocket, JSON-RPC style: `conn.call(request)` runs handleCall,
// which sends the request frame and keeps `from`; handleFrame answers it when the response with
// the same id arrives, in whatever order they come. A call that gets no answer in time rejects
// with CallTimeoutError, and its late answer (if any) is dropped.
//
//   deno run --allow-net=127.0.0.1 examples/json_rpc.ts

import { CallTimeoutError, defineClient, type From, ok, push } from "../mod.ts";
import { startEchoServer } from "./_echo_server.ts";

const server = await startEchoServer();

interface Request {
  readonly method: string;
  readonly params?: { readonly delay?: number };
}
interface State {
  next: number;
  readonly waiting: Map<number, From>;
}

const Rpc = defineClient({
  init: (_: null) => ok<State>({ next: 1, waiting: new Map() }),
  handleCall(request: Request, from, state) {
    const id = state.next++;
    state.waiting.set(id, from);
    // Forget the caller once it stops waiting (a timeout, an abort).
    from.signal.addEventListener("abort", () => state.waiting.delete(id));
    return push({ type: "text", data: JSON.stringify({ id, ...request }) }, state);
  },
  handleFrame(frame, state) {
    if (frame.type !== "text") return ok(state);
    const { id, result } = JSON.parse(frame.data);
    state.waiting.get(id)?.reply(result);
    return ok(state);
  },
});

const conn = await Rpc.start(null, { url: server.url("/rpc") });
// handleCall's push goes out only while connected (while connecting it would be dropped).
await conn.ready();

// Three calls at once; the server answers the quickest first.
const answers = await Promise.all([
  conn.call<string>({ method: "slow", params: { delay: 60 } }),
  conn.call<string>({ method: "medium", params: { delay: 30 } }),
  conn.call<string>({ method: "quick", params: { delay: 0 } }),
]);
console.log(`answers, in the order asked: ${answers.join(", ")}`);

try {
  await conn.call({ method: "never" }, { timeout: 100 });
} catch (e) {
  if (e instanceof CallTimeoutError) console.log(`"never": no answer within ${e.timeout} ms`);
  else throw e;
}

await conn.stop();
await server.close();
