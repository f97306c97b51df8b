/**
 * Tenant networks (docs/decisions/0036-connect-reuse.md): each tenant's containers get a bridge of
 * their own, made on the tenant's first connect to this host and kept while its workspace lives
 * here, so a reconnect makes no network. The network goes with the workspace (destroy, the archive
 * to cold storage, reconcile). Docker's address pools are finite (about 30 networks with its
 * defaults): when none is left, the networks of tenants with no container here are reclaimed, and
 * made again on their next connect.
 */
import type Docker from "dockerode";
import { dockerStatus } from "../errors.ts";
import { BRIDGE_NAME_OPTION, LABELS, tenantBridgeName, tenantNetworkName } from "./spec.ts";

/** Docker's answer when no address pool has a subnet left for a new network. */
const poolsExhausted = (error: unknown) => error instanceof Error && /non-overlapping|address pool/i.test(error.message);

/**
 * The tenant's network for its workspace: kept when it is there (a reconnect), made otherwise. One
 * made before bridges had names is replaced; so is one left by an earlier workspace of the tenant
 * whose deletion missed it, unless a container of the tenant still uses it (a leftover the
 * reconcile job removes): it is the tenant's own bridge all the same, so it is shared meanwhile.
 */
export async function ensureTenantNetwork(docker: Docker, tenantId: string, workspaceId: string): Promise<void> {
  const name = tenantNetworkName(tenantId);
  const bridge = tenantBridgeName(tenantId);
  try {
    const network = await docker.getNetwork(name).inspect();
    const named = network.Name === name && network.Options?.[BRIDGE_NAME_OPTION] === bridge;
    if (named && (network.Labels?.[LABELS.workspace] === workspaceId || Object.keys(network.Containers ?? {}).length > 0)) return;
    if (network.Name === name) await docker.getNetwork(name).remove();
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
  const spec = { Name: name, Driver: "bridge", CheckDuplicate: true, Options: { [BRIDGE_NAME_OPTION]: bridge }, Labels: { [LABELS.tenant]: tenantId, [LABELS.workspace]: workspaceId } };
  const create = () =>
    docker.createNetwork(spec).then(
      () => undefined,
      (error: unknown) => {
        if (dockerStatus(error) !== 409) throw error; // 409: made meanwhile by another process
      },
    );
  try {
    await create();
  } catch (error) {
    if (!poolsExhausted(error)) throw error;
    await reclaimIdleTenantNetworks(docker);
    await create();
  }
}

/** Removes the networks made for the workspace (its tenant's); one still in use or gone already is left as it is. */
export async function removeWorkspaceNetworks(docker: Docker, workspaceId: string): Promise<void> {
  const networks = await docker.listNetworks({ filters: { label: [`${LABELS.workspace}=${workspaceId}`] } });
  await Promise.all(networks.map((network) => docker.getNetwork(network.Id).remove().catch(() => undefined)));
}

/**
 * Removes every tenant network whose tenant has no container on this host (created ones count: a
 * container is attached only once started). Callers hold the allocation lock, so no connect is
 * between making its network and its container. The number removed.
 */
export async function reclaimIdleTenantNetworks(docker: Docker): Promise<number> {
  const networks = await docker.listNetworks({ filters: { label: [LABELS.tenant] } });
  let removed = 0;
  for (const network of networks) {
    const tenantId = network.Labels?.[LABELS.tenant];
    if (!tenantId) continue;
    const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.tenant}=${tenantId}`] } });
    if (containers.length > 0) continue;
    await docker
      .getNetwork(network.Id)
      .remove()
      .then(() => removed++)
      .catch(() => undefined); // in use after all, or gone: kept as it is
  }
  return removed;
}
