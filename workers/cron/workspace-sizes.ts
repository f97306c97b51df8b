import { forEachHost, hostsToVisit } from "../domain/hosts";
import { recordWorkspaceSizes } from "../domain/workspaces";
import { hostJob } from "./job";

/** Hosts visited per tick, least recently seen first, as the reconcile job does. */
const MAX_HOSTS_PER_TICK = 50;

/** Every minute: each host's workspace sizes in one listing, for GET /v1/workspace to read from D1. */
export const workspaceSizesJob = hostJob("workspace-sizes", async (ctx) => forEachHost(ctx, await hostsToVisit(ctx, MAX_HOSTS_PER_TICK), (host) => recordWorkspaceSizes(ctx, host)));
