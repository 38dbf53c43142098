// wss:// through nginx: an npm:ws test server (servers.ts's startWsServer: the routes, commands
// and records of server_routes.ts) behind nginx terminating TLS (nginx_proxy.ts), with the
// control channel of servers.ts's startControlledServer. A restart restarts both, as a
// deployment would: the backend closes every connection with 1001 "going away" (which nginx
// relays), nginx shuts down, and after the pause the backend and then nginx listen again on
// their ports, so that a client reconnecting meanwhile finds nothing listening.

import type { KeyPair } from "./certs.ts";
import { startNginxProxy } from "./nginx_proxy.ts";
import { type ConnectionRecord, controlChannel } from "./server_routes.ts";
import { serveControl, startWsServer } from "./servers.ts";

/** npm:ws behind nginx, with a control channel. */
export interface NginxWssServer {
  /** `wss://127.0.0.1:<nginx port>` (no path) */
  readonly url: string;
  /** `http://127.0.0.1:<control port>` */
  readonly control: string;
  /** Closes the control channel, nginx and the backend. */
  close(): Promise<void>;
}

/** Starts npm:ws behind nginx with the certificate `server` (for IP:127.0.0.1). */
export async function startNginxWssServer(server: KeyPair): Promise<NginxWssServer> {
  let backend = await startWsServer();
  const backendPort = backend.port;
  let nginx;
  try {
    nginx = await startNginxProxy(server, backendPort);
  } catch (error) {
    await backend.close();
    throw error;
  }
  const proxy = nginx;
  const earlier: ConnectionRecord[] = [];
  const channel = controlChannel(
    proxy.port,
    () => [...earlier, ...backend.connections],
    async (down) => {
      earlier.push(...backend.connections);
      await backend.close();
      await proxy.stop();
      await new Promise((r) => setTimeout(r, down));
      backend = await startWsServer(backendPort);
      await proxy.start();
    },
  );
  const control = await serveControl(channel);
  return {
    url: `wss://127.0.0.1:${proxy.port}`,
    control: control.url,
    close: async () => {
      await control.close();
      await proxy.close();
      await backend.close();
    },
  };
}
