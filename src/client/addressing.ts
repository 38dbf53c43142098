/**
 * Module-level functions that reach a client by its handle or by its name.
 *
 * @module
 */

import { type AnyClientHandle, ClientHandle, type DisconnectOptions } from "./client.ts";
import { NoSuchClientError } from "./errors.ts";
import type { Frame } from "../vocabulary/frame.ts";
import { checkName } from "./_options.ts";
import { lookup, nameText } from "./_registry.ts";
import type { ClientName } from "./name.ts";
import type { StopReason } from "./reasons.ts";

/**
 * A client handle, or the name a client is registered under.
 *
 * @example
 * ```ts
 * import type { ClientRef } from "@parley/client";
 * const ref: ClientRef = "ticker";
 * ```
 */
export type ClientRef = AnyClientHandle | ClientName;

/**
 * The client registered under `name`, or `undefined`.
 *
 * @example
 * ```ts
 * import { whereis } from "@parley/client";
 * console.log(whereis("ticker")); // undefined when no client holds the name
 * ```
 */
export function whereis(name: ClientName): AnyClientHandle | undefined {
  const found = lookup(checkName(name));
  return found instanceof ClientHandle ? found as AnyClientHandle : undefined;
}
function resolve(ref: ClientRef): AnyClientHandle {
  if (ref instanceof ClientHandle) return ref;
  const found = whereis(ref);
  if (found === undefined) {
    throw new NoSuchClientError(
      `Cannot reach the client ${nameText(ref)} as no client is registered under that name`,
    );
  }
  return found;
}

/**
 * Sends a frame through a client given by handle or name; see `ClientHandle.sendFrame`.
 * Rejects with `NoSuchClientError` for an unknown name.
 *
 * @example
 * ```ts ignore
 * import { sendFrame } from "@parley/client";
 * await sendFrame("ticker", { type: "text", data: "hello" });
 * ```
 */
export function sendFrame(ref: ClientRef, frame: Frame): Promise<void> {
  try {
    return resolve(ref).sendFrame(frame);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Fire-and-forget send through a client given by handle or name. Returns whether a client was
 * found; failures after that go to the client's logger.
 *
 * @example
 * ```ts
 * import { sendFrameAsync } from "@parley/client";
 * const delivered = sendFrameAsync("ticker", { type: "text", data: "hi" });
 * console.log(delivered); // false when no client holds the name
 * ```
 */
export function sendFrameAsync(ref: ClientRef, frame: Frame): boolean {
  const client = ref instanceof ClientHandle ? ref : whereis(ref);
  if (client === undefined) return false;
  client.sendFrameAsync(frame);
  return true;
}

/**
 * Delivers a message to `handleInfo` of a client given by handle or name. Returns whether a
 * client was found.
 *
 * @example
 * ```ts
 * import { sendInfo } from "@parley/client";
 * console.log(sendInfo("ticker", "refresh")); // false when no client holds the name
 * ```
 */
export function sendInfo(ref: ClientRef, message: unknown): boolean {
  const client = ref instanceof ClientHandle ? ref : whereis(ref);
  if (client === undefined) return false;
  client.info(message);
  return true;
}

/**
 * Connects a client given by handle or name; see `ClientHandle.connect`.
 *
 * @example
 * ```ts ignore
 * import { connectClient } from "@parley/client";
 * await connectClient("ticker");
 * ```
 */
export function connectClient(ref: ClientRef): Promise<void> {
  try {
    return resolve(ref).connect();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Disconnects a client given by handle or name; see
 * `ClientHandle.disconnect`.
 *
 * @example
 * ```ts ignore
 * import { disconnectClient } from "@parley/client";
 * await disconnectClient("ticker");
 * ```
 */
export function disconnectClient(ref: ClientRef, options?: DisconnectOptions): Promise<void> {
  try {
    return resolve(ref).disconnect(options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Stops a client given by handle or name; see `ClientHandle.stop`.
 *
 * @example
 * ```ts ignore
 * import { stopClient } from "@parley/client";
 * await stopClient("ticker");
 * ```
 */
export function stopClient(ref: ClientRef, reason?: unknown): Promise<StopReason> {
  try {
    return resolve(ref).stop(reason);
  } catch (error) {
    return Promise.reject(error);
  }
}
