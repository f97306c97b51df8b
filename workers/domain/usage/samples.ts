/**
 * Usage samples (policy §1 usage data: GPU utilization, VRAM; CPU and memory for resource
 * management): once a minute the `usage-metrics` cron job asks every host that runs live sessions
 * for its metrics and keeps one sample per running session. Kept 12 months (policy §6, the
 * inventory's rule; purged by the retention job).
 */
import { and, desc, eq, ne } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { gpuHosts, type Session, sessions, usageSamples } from "../../../schema";
import type { DomainContext } from "../context";
import { type ContainerMetrics, forEachHost, type GpuHost, markHostSeen, type PerHostResult, readHostMetrics } from "../hosts";

export type UsageSample = typeof usageSamples.$inferInsert;

/** Bounds per tick: D1 statements per batch, and sessions sampled per host. */
const MAX_HOSTS_PER_TICK = 50;
const MAX_SESSIONS_PER_HOST = 500;

/** One sample of a session's container; every figure the host could not read stays null. */
export function toSample(session: Pick<Session, "id" | "userId">, at: Date, metrics: ContainerMetrics): UsageSample {
  const gpus = metrics.gpus;
  const utilization = gpus.map((g) => g.utilizationPercent);
  const known = <T>(values: (T | null)[]): values is T[] => values.length > 0 && values.every((v) => v !== null);
  const used = gpus.map((g) => g.memoryUsedMb);
  const total = gpus.map((g) => g.memoryTotalMb);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    sessionId: session.id,
    userId: session.userId,
    at,
    gpuCount: gpus.length,
    // A mean over some GPUs would misstate the session: one unreadable GPU makes the figure unknown.
    gpuUtilizationPercent: known(utilization) ? Math.round((sum(utilization) / utilization.length) * 100) / 100 : null,
    gpuUtilizationMaxPercent: known(utilization) ? Math.max(...utilization) : null,
    gpuMemoryUsedMb: known(used) ? Math.round(sum(used)) : null,
    gpuMemoryTotalMb: known(total) ? Math.round(sum(total)) : null,
    gpus: gpus.map((g) => ({
      utilizationPercent: g.utilizationPercent,
      memoryUsedMb: g.memoryUsedMb === null ? null : Math.round(g.memoryUsedMb),
      memoryTotalMb: g.memoryTotalMb === null ? null : Math.round(g.memoryTotalMb),
    })),
    cpuPercent: metrics.cpuPercent,
    memoryUsedBytes: metrics.memoryUsedBytes === null ? null : Math.round(metrics.memoryUsedBytes),
    shellsAttached: metrics.shell.attached,
  };
}

/** Hosts that run a session D1 holds as running. */
async function hostsWithRunningSessions(ctx: DomainContext): Promise<GpuHost[]> {
  const rows = await ctx.db
    .selectDistinct({ host: gpuHosts })
    .from(gpuHosts)
    .innerJoin(sessions, eq(sessions.hostId, gpuHosts.id))
    .where(and(eq(sessions.state, "running"), ne(gpuHosts.status, "offline")))
    .orderBy(gpuHosts.lastSeenAt, gpuHosts.id)
    .limit(MAX_HOSTS_PER_TICK);
  return rows.map((r) => r.host);
}

/**
 * Samples the running sessions of one host. Only containers that D1 holds as a running session of
 * the same user on this host are sampled; the tick's time is the sample's time, so a repeated tick
 * writes nothing new (unique session + time).
 */
export async function sampleHost(ctx: DomainContext, host: GpuHost): Promise<number> {
  const metrics = await readHostMetrics((await ctx.provisioner(host)));
  await markHostSeen(ctx, host.id);
  const running = await ctx.db.query.sessions.findMany({
    where: and(eq(sessions.hostId, host.id), eq(sessions.state, "running")),
    columns: { id: true, userId: true },
    limit: MAX_SESSIONS_PER_HOST,
  });
  const byId = new Map(running.map((s) => [s.id, s]));
  const at = ctx.clock.now();
  const inserts: BatchItem<"sqlite">[] = [];
  for (const container of metrics.containers) {
    const session = byId.get(container.sessionId);
    if (!session || session.userId !== container.tenantId || container.state !== "running") continue;
    inserts.push(ctx.db.insert(usageSamples).values(toSample(session, at, container)).onConflictDoNothing());
  }
  const [first, ...rest] = inserts;
  if (first) await ctx.db.batch([first, ...rest]);
  return inserts.length;
}

/** The `usage-metrics` job's work: one sample per running session on every host that runs one. */
export async function collectUsage(ctx: DomainContext): Promise<PerHostResult> {
  return forEachHost(ctx, await hostsWithRunningSessions(ctx), (host) => sampleHost(ctx, host));
}

/** When a session was last known to run: its latest usage sample, else its start. */
export async function lastSeenAt(ctx: DomainContext, session: Pick<Session, "id" | "userId" | "startedAt" | "createdAt">): Promise<Date> {
  const [latest] = await ctx.db
    .select({ at: usageSamples.at })
    .from(usageSamples)
    .where(and(eq(usageSamples.sessionId, session.id), eq(usageSamples.userId, session.userId)))
    .orderBy(desc(usageSamples.at))
    .limit(1);
  const started = session.startedAt ?? session.createdAt;
  return latest && latest.at > started ? latest.at : started;
}

