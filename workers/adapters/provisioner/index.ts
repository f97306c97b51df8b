/** The provisioner adapter: the Worker's only way to a GPU host (ARCHITECTURE "Worker ↔ provisioner"). */
import type { ProvisionerConfig } from "../../domain/config";
import type { Log } from "../log";
import { containerCalls } from "./containers";
import { exportCalls } from "./exports";
import { type HostTarget, transport } from "./transport";
import { workspaceCalls } from "./workspaces";

export type { Container, ContainerMetrics, DirectoryListing, ExportStage, RemovedPath, StoredFile, UnpackedArchive } from "../../../contract/provisioner";
export type { CreateContainerInput } from "./containers";
export { type HostTarget, unavailable } from "./transport";

export type ProvisionerClient = ReturnType<typeof provisionerClient>;

/** A client for one registered host; every fault it meets is logged with the request's id. */
export function provisionerClient(settings: ProvisionerConfig, host: HostTarget, log: Log, requestId: string) {
  const t = transport(settings, host, log, requestId);
  return {
    host,
    ...containerCalls(t),
    ...workspaceCalls(t),
    ...exportCalls(t),
    /** A read-only host resource (`/v1/metrics`, `/v1/inventory`): the body of a 200; the caller parses it. */
    async readJson(path: string): Promise<unknown> {
      const reply = await t.request("GET", path);
      if (reply.status !== 200) throw t.unexpected(`GET ${path}`, reply);
      return reply.body;
    },
  };
}
