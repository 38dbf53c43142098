// The requests browser_driver.ts sends to driver.ts, one JSON line each, and the answers.

/** A request to the driver process. */
export type DriverRequest =
  | { id: number; op: "open"; chromium: string; url: string }
  | { id: number; op: "call"; name: string; args: unknown[] }
  | { id: number; op: "close" };

/** The driver's answer to request `id`. */
export type DriverAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };
