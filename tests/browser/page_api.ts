// What the browser page (page.ts) exposes on `globalThis.parleyPage`, shared by the page and the
// test that drives it. Only structured-cloneable values cross: binary data travels as number[].

/** A frame as it crosses between the page and the test. */
export type WireFrame =
  | { type: "text"; data: string }
  | { type: "binary"; data: number[] }
  | { type: "ping" | "pong"; data: number[] };

/** An error as the page saw it. */
export interface ErrorReport {
  name: string;
  message: string;
  /** `instanceof ParleyError` in the page. */
  parley: boolean;
  /** `instanceof UnsupportedError` in the page. */
  unsupported: boolean;
}

/** One callback call the page's client saw. */
export type PageEvent =
  | { type: "connected"; protocol: string; status: number }
  | { type: "frame"; frame: WireFrame }
  | { type: "disconnected"; kind: string; code?: number; reason?: string; error?: string };

/** Options the page passes to `start`, beside the `url`. */
export interface PageStartOptions {
  /** `reconnect: { baseDelay, maxDelay }`, when given. */
  backoff?: { baseDelay: number; maxDelay: number };
  headers?: Record<string, string>;
  transport?: "auto" | "web" | "socket";
  tls?: boolean;
  limits?: { maxMessageSize: number };
  /** Whether the callbacks include `handlePing`. */
  handlePing?: boolean;
}

/** The page's functions. */
export interface PageApi {
  /** The names `mod.ts` exports, as the page imported them. */
  exports(): string[];
  /** Starts the page's client; resolves with its transport, or the error `start` threw. */
  start(
    url: string,
    options: PageStartOptions,
  ): Promise<{ transport: string } | { error: ErrorReport }>;
  /** Waits up to `timeout` ms for the next event of `type` the client saw. */
  next(type: PageEvent["type"], timeout: number): Promise<PageEvent>;
  /** `conn.sendFrame(frame)`; resolves with the error it threw, if any. */
  send(frame: WireFrame): Promise<ErrorReport | null>;
  /** `conn.state`. */
  state(): string;
  /** `conn.disconnect({ code, reason })`. */
  disconnect(code: number, reason: string): Promise<void>;
  /** `conn.stop()`; resolves with the stop reason's kind. */
  stop(): Promise<string>;
  /**
   * The web transport's cases (tests/transport/web_cases.ts) and the API the page's transport
   * is built on.
   */
  webCases(): { path: "WebSocket" | "WebSocketStream"; names: string[] };
  /** Runs one of those cases against the peer at `peer` (`ws://127.0.0.1:<port>`). */
  webCase(name: string, peer: string): Promise<WebCaseResult>;
}

/** How a web transport case went in the page. */
export interface WebCaseResult {
  readonly ok: boolean;
  /** Its findings, if any. */
  readonly info?: string;
  /** Why it failed. */
  readonly error?: string;
}
