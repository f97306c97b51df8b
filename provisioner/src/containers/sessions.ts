import type Docker from "dockerode";
import { dockerStatus, ProvisionerError } from "../errors.ts";
import { readInventory } from "../gpus/host.ts";
import { logUnexpected } from "../http/problem.ts";
import { pickFreeGpus } from "../gpus/inventory.ts";
import type { CreateContainerInput } from "../../../contract/provisioner.ts";
import type { Services } from "../services.ts";
import { discardExport } from "../workspaces/exports.ts";
import { ensureWorkspaceVolume } from "../workspaces/volumes.ts";
import { ensureTenantNetwork } from "./networks.ts";
import { containerSpec, LABELS } from "./spec.ts";
import { setUpSsh } from "./ssh.ts";

/** A session container as Docker's labels describe it. */
export type SessionContainer = {
  sessionId: string;
  workspaceId: string;
  tenantId: string;
  containerId: string;
  name: string;
  image: string;
  /** Docker's state: created, running, exited, ... */
  state: string;
  gpus: string[];
  createdAt: string;
};

export type SessionContainerDetails = SessionContainer & {
  resources: { cpus: number; memoryMb: number; pidsLimit: number | null; gpuCount: number };
  startedAt: string | null;
  finishedAt: string | null;
};

function labelList(value: string | undefined): string[] {
  return value ? value.split(",").filter(Boolean) : [];
}

function fromListing(info: Docker.ContainerInfo): SessionContainer {
  const labels = info.Labels ?? {};
  return {
    sessionId: labels[LABELS.session] ?? "",
    workspaceId: labels[LABELS.workspace] ?? "",
    tenantId: labels[LABELS.tenant] ?? "",
    containerId: info.Id,
    name: (info.Names?.[0] ?? "").replace(/^\//, ""),
    image: info.Image,
    state: info.State,
    gpus: labelList(labels[LABELS.gpus]),
    createdAt: new Date(info.Created * 1000).toISOString(),
  };
}

/** Every session container on this host, rebuilt from labels (no state of our own). */
export async function listSessionContainers(
  docker: Docker,
  filter: { sessionId?: string; workspaceId?: string; tenantId?: string } = {},
): Promise<SessionContainer[]> {
  const label: string[] = [LABELS.session];
  if (filter.sessionId) label.push(`${LABELS.session}=${filter.sessionId}`);
  if (filter.workspaceId) label.push(`${LABELS.workspace}=${filter.workspaceId}`);
  if (filter.tenantId) label.push(`${LABELS.tenant}=${filter.tenantId}`);
  const listing = await docker.listContainers({ all: true, filters: { label } });
  return listing.map(fromListing).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.sessionId.localeCompare(b.sessionId));
}

export async function findSessionContainer(docker: Docker, sessionId: string): Promise<SessionContainer | null> {
  const [container] = await listSessionContainers(docker, { sessionId });
  return container ?? null;
}

async function requireSessionContainer(docker: Docker, sessionId: string): Promise<SessionContainer> {
  const container = await findSessionContainer(docker, sessionId);
  if (!container) throw new ProvisionerError("container_not_found");
  return container;
}

export async function getSessionContainer(docker: Docker, sessionId: string): Promise<SessionContainerDetails> {
  const summary = await requireSessionContainer(docker, sessionId);
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(summary.containerId).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) throw new ProvisionerError("container_not_found");
    throw error;
  }
  const host = info.HostConfig;
  const zeroTime = (time: string | undefined) => (!time || time.startsWith("0001-") ? null : time);
  return {
    ...summary,
    state: info.State.Status,
    resources: {
      cpus: (host.NanoCpus ?? 0) / 1e9,
      memoryMb: Math.round((host.Memory ?? 0) / (1024 * 1024)),
      pidsLimit: host.PidsLimit ?? null,
      gpuCount: summary.gpus.length,
    },
    startedAt: zeroTime(info.State.StartedAt),
    finishedAt: zeroTime(info.State.FinishedAt),
  };
}

export type CreateResult = { created: boolean; container: SessionContainerDetails & { sshHostKey?: string | null } };

/**
 * Creates (and normally starts) the session's container. Idempotent for the same session,
 * workspace and tenant, so the Worker may retry a connect whose answer it lost.
 */
export async function createSessionContainer(services: Services, input: CreateContainerInput): Promise<CreateResult> {
  const { docker } = services;
  const workspaceOptions = { tenantId: input.tenantId, sizeMb: input.plan.workspaceMb };
  // The host's operator decides what runs here; a Worker (or a stolen token) cannot pick another image.
  if (!services.config.images.includes(input.image)) throw new ProvisionerError("image_not_allowed");
  const { created, containerId } = await services.allocation.run(async () => {
    const existing = await findSessionContainer(docker, input.sessionId);
    if (existing) {
      if (existing.workspaceId !== input.workspaceId || existing.tenantId !== input.tenantId) {
        throw new ProvisionerError("container_exists");
      }
      // Its disk may be unmounted (a host reboot) or smaller than the plan now says.
      await ensureWorkspaceVolume(services, input.workspaceId, workspaceOptions);
      return { created: false, containerId: existing.containerId };
    }
    const others = await listSessionContainers(docker, { workspaceId: input.workspaceId });
    if (others.length > 0) throw new ProvisionerError("workspace_in_use", "another session's container mounts this workspace");
    // Independent of each other, so side by side: a first connect makes both (a disk formatted and
    // mounted, a bridge with its firewall rules), and each costs about as much as the other.
    const made = await Promise.allSettled([ensureWorkspaceVolume(services, input.workspaceId, workspaceOptions), ensureTenantNetwork(docker, input.tenantId, input.workspaceId)]);
    for (const outcome of made) if (outcome.status === "rejected") throw outcome.reason;

    let gpuIds: string[] = [];
    if (input.plan.gpuCount > 0) {
      const inventory = await readInventory(services);
      const picked = pickFreeGpus(inventory, input.plan.gpuType ?? "", input.plan.gpuCount);
      if (!picked) throw new ProvisionerError("gpus_unavailable", `${input.plan.gpuCount} × ${input.plan.gpuType} requested`);
      gpuIds = picked;
    }
    try {
      const container = await docker.createContainer(containerSpec({ ...input, gpuIds }));
      return { created: true, containerId: container.id };
    } catch (error) {
      if (dockerStatus(error) === 404) throw new ProvisionerError("image_unavailable");
      if (dockerStatus(error) === 409) throw new ProvisionerError("container_exists", "a container with this session's name exists");
      throw error;
    }
  });
  // From here the volume can change: a staged export of it is no longer a snapshot (cold storage).
  if (created) await discardExport(services, input.workspaceId);

  if (input.start) {
    const container = docker.getContainer(containerId);
    try {
      await container.start();
    } catch (error) {
      if (dockerStatus(error) !== 304) {
        // Never leave a half-made session behind: it would hold its GPUs until a reconcile.
        await container.remove({ force: true, v: false }).catch(() => undefined);
        throw new ProvisionerError("container_start_failed", undefined, { cause: error });
      }
    }
  }
  const container = await getSessionContainer(docker, input.sessionId);
  if (!input.ssh || container.state !== "running") return { created, container };
  // A session whose sshd did not start still runs: SSH is refused, everything else works.
  const sshHostKey = await setUpSsh(services, containerId, input.ssh.authorizedKeys).catch((error: unknown) => {
    logUnexpected(`ssh-${input.sessionId}`, error);
    return null;
  });
  return { created, container: { ...container, sshHostKey } };
}

export async function stopSessionContainer(services: Services, sessionId: string): Promise<SessionContainerDetails> {
  const { containerId } = await requireSessionContainer(services.docker, sessionId);
  try {
    await services.docker.getContainer(containerId).stop({ t: 10 });
  } catch (error) {
    const status = dockerStatus(error);
    if (status === 404) throw new ProvisionerError("container_not_found");
    if (status !== 304) throw error; // 304: already stopped
  }
  return getSessionContainer(services.docker, sessionId);
}

/** Removes the container (its GPUs become free); the workspace volume and the tenant's network are kept for the next session. */
export async function removeSessionContainer(services: Services, sessionId: string): Promise<void> {
  const container = await requireSessionContainer(services.docker, sessionId);
  try {
    await services.docker.getContainer(container.containerId).remove({ force: true, v: false });
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
}
