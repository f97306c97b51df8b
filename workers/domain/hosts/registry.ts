/**
 * The GPU host registry and placement (ARCHITECTURE "Many GPU hosts"): a host with free GPUs of
 * the plan's type, in an allowed US region (policy §9). Free GPUs are counted from D1 (live sessions per host); the host itself is the
 * final judge and answers `gpus_unavailable` when D1 was wrong.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { configuredHostId } from "../../../contract/provisioner-token";
import { gpuHosts, LIVE_SESSION_STATES, sessions } from "../../../schema";
import type { ProvisionerConfig } from "../config";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import type { Plan } from "../plans";

export type GpuHost = typeof gpuHosts.$inferSelect;

/** Local dev and tests: the one host named by PROVISIONER_URL, registered (or refreshed) in D1. */
async function registerConfiguredHost(ctx: DomainContext, configured: NonNullable<ProvisionerConfig["configuredHost"]>): Promise<GpuHost> {
  const id = await configuredHostId(configured.baseUrl);
  const [host] = await ctx.db
    .insert(gpuHosts)
    .values({
      id,
      name: `configured ${configured.baseUrl}`,
      transport: "url",
      baseUrl: configured.baseUrl,
      gpuType: configured.gpuType,
      gpuCount: configured.gpuCount,
      status: "active",
      region: configured.region,
      registeredAt: ctx.clock.now(),
    })
    // An operator's status (draining, offline) is kept; the GPUs and the region follow the configuration.
    .onConflictDoUpdate({ target: gpuHosts.id, set: { gpuType: configured.gpuType, gpuCount: configured.gpuCount, region: configured.region } })
    .returning();
  return host!;
}

export async function findHost(ctx: DomainContext, hostId: string): Promise<GpuHost> {
  const host = await ctx.db.query.gpuHosts.findFirst({ where: eq(gpuHosts.id, hostId) });
  if (!host) throw new AppError("internal", "The workspace's GPU host is not in the registry.");
  return host;
}

/** GPUs and sessions each host has live, from D1. */
async function hostLoad(ctx: DomainContext, hostIds: string[]): Promise<Map<string, { gpus: number; sessions: number }>> {
  if (hostIds.length === 0) return new Map();
  const rows = await ctx.db
    .select({ hostId: sessions.hostId, gpus: sql<number>`coalesce(sum(${sessions.gpuCount}), 0)`, sessions: sql<number>`count(*)` })
    .from(sessions)
    .where(and(inArray(sessions.hostId, hostIds), inArray(sessions.state, LIVE_SESSION_STATES)))
    .groupBy(sessions.hostId);
  return new Map(rows.map((r) => [r.hostId, { gpus: Number(r.gpus), sessions: Number(r.sessions) }]));
}

const offers = (host: GpuHost, plan: Plan) => plan.gpuCount === 0 || (host.gpuType?.toLowerCase() === plan.gpuType?.toLowerCase() && host.gpuCount >= plan.gpuCount);

/** Policy §9: the Services are hosted in the United States; a host elsewhere gets no session, and says so in the log. */
function inAllowedRegion(ctx: DomainContext, host: GpuHost): boolean {
  if (ctx.config.provisioner.allowedRegions.includes(host.region)) return true;
  ctx.log.warn("host_region_refused", { hostId: host.id, region: host.region });
  return false;
}

/**
 * Whether `host` can take one more session of `plan` now (as far as D1 knows). A draining host
 * still runs the workspaces it holds; only new workspaces go elsewhere.
 */
export async function hostHasRoom(ctx: DomainContext, host: GpuHost, plan: Plan): Promise<boolean> {
  if (host.status === "offline" || !offers(host, plan) || !inAllowedRegion(ctx, host)) return false;
  const used = (await hostLoad(ctx, [host.id])).get(host.id)?.gpus ?? 0;
  return host.gpuCount - used >= plan.gpuCount;
}

export const noCapacity = () => new AppError("no_capacity", "No GPU host has room for your plan right now; try again shortly.", { headers: { "Retry-After": "60" } });

/**
 * Picks the host for a new workspace. With a configured host (local dev, tests) that host is the
 * only candidate; otherwise every active registry host is. Most free GPUs first, then fewest sessions.
 * Capacity outside the allowed regions is never used: with none left inside, `no_capacity`.
 */
export async function placeWorkspace(ctx: DomainContext, plan: Plan): Promise<GpuHost> {
  const { configuredHost } = ctx.config.provisioner;
  const candidates = configuredHost
    ? [await registerConfiguredHost(ctx, configuredHost)]
    : await ctx.db.query.gpuHosts.findMany({ where: eq(gpuHosts.status, "active") });
  const offering = candidates.filter((host) => host.status === "active" && offers(host, plan) && inAllowedRegion(ctx, host));
  const load = await hostLoad(
    ctx,
    offering.map((h) => h.id),
  );
  const ranked = offering
    .map((host) => ({ host, free: host.gpuCount - (load.get(host.id)?.gpus ?? 0), sessions: load.get(host.id)?.sessions ?? 0 }))
    .filter((c) => c.free >= plan.gpuCount)
    .sort((a, b) => b.free - a.free || a.sessions - b.sessions || a.host.id.localeCompare(b.host.id));
  if (!ranked[0]) throw noCapacity();
  return ranked[0].host;
}
