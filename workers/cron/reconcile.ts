import { forEachHost, hostsToVisit } from "../domain/hosts";
import { reconcileHost } from "../domain/sessions";
import { hostJob } from "./job";

/** Hosts visited per tick, least recently seen first, so every host gets its turn. */
const MAX_HOSTS_PER_TICK = 50;

/** Every minute: D1 and each host agree again (orphan containers, vanished containers, interrupted steps). */
export const reconcileJob = hostJob("reconcile", async (ctx) => forEachHost(ctx, await hostsToVisit(ctx, MAX_HOSTS_PER_TICK), (host) => reconcileHost(ctx, host)));
