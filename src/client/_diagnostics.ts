// Internal: the client's events on Node's `diagnostics_channel` (also in Deno and Bun), where
// the runtime has it: channels `parley:connecting`, `parley:connected`, `parley:disconnected`,
// `parley:reconnecting` and `parley:stopped`, each message `{ client, name, event }`. Looked up
// synchronously through `process.getBuiltinModule`, so a browser loads nothing.

import type { ClientEvent } from "./events.ts";

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

interface DiagnosticsChannel {
  channel(name: string): Channel;
}

const dc = (() => {
  try {
    const process = (globalThis as {
      process?: { getBuiltinModule?: (id: string) => unknown };
    }).process;
    return process?.getBuiltinModule?.("node:diagnostics_channel") as
      | DiagnosticsChannel
      | undefined;
  } catch {
    return undefined;
  }
})();

const channels = new Map<string, Channel>();

/** Publishes `event` of `client` where anyone subscribes to its channel. */
export function publish(client: unknown, name: unknown, event: ClientEvent): void {
  if (dc === undefined) return;
  let channel = channels.get(event.type);
  if (channel === undefined) {
    channel = dc.channel(`parley:${event.type}`);
    channels.set(event.type, channel);
  }
  if (channel.hasSubscribers) channel.publish({ client, name, event });
}
