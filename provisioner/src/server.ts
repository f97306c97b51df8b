import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type Docker from "dockerode";
import { LISTEN_HOST, type ProvisionerConfig } from "./config.ts";
import { guardTenantNetworks, type Iptables, runIptables } from "./containers/network-guard.ts";
import { newApp } from "./http/app.ts";
import { createServices, type Services } from "./services.ts";
import { attachSessionSockets } from "./sockets.ts";
import { pruneStaleHelpers } from "./workspaces/volumes.ts";

export type RunningProvisioner = {
  services: Services;
  server: Server;
  address: AddressInfo;
  /** http://127.0.0.1:PORT */
  url: string;
  close: () => Promise<void>;
};

/**
 * Starts the HTTP service on 127.0.0.1 (never another address) and the session sockets (shell, exec, port forwards) on it,
 * once tenant networks are guarded (network-guard.ts): it throws, and never listens, otherwise.
 */
export async function startProvisioner(config: ProvisionerConfig, options: { docker?: Docker; iptables?: Iptables } = {}): Promise<RunningProvisioner> {
  await guardTenantNetworks({ iptables: options.iptables ?? runIptables, listenHost: LISTEN_HOST, allowOpenNetwork: config.allowOpenNetwork });
  const services = createServices(config, options.docker);
  await pruneStaleHelpers(services.docker).catch(() => undefined); // Docker may come up later
  const app = newApp(services);
  // serve() calls listen() at once; the session sockets are attached before the first connection can arrive.
  const server = serve({ fetch: app.fetch, hostname: LISTEN_HOST, port: config.port, overrideGlobalObjects: false }) as Server;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("listening", () => resolve(server.address() as AddressInfo));
    server.once("error", reject);
  });
  const wss = attachSessionSockets(server, services);
  return {
    services,
    server,
    address,
    url: `http://${LISTEN_HOST}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
