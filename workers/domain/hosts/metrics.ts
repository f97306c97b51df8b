/**
 * What a host reports about itself (provisioner `GET /v1/metrics`, `GET /v1/containers`), read by
 * the cron jobs. Only the fields the Worker uses are parsed; a number the host could not read is
 * null and stays null (policy §1 usage data is measured, never estimated).
 */
import { eq } from "drizzle-orm";
import { type ContainerMetrics, type HostMetrics, HostMetricsSchema } from "../../../contract/provisioner";
import { gpuHosts } from "../../../schema";
import type { ProvisionerClient } from "../../adapters/provisioner";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import type { GpuHost } from "./registry";

export type { ContainerMetrics, HostMetrics };

export async function readHostMetrics(client: ProvisionerClient): Promise<HostMetrics> {
  const parsed = HostMetricsSchema.safeParse(await client.readJson("/v1/metrics"));
  if (!parsed.success) throw new AppError("provisioner_unavailable", "The GPU host's metrics did not match what the Worker expects.");
  return parsed.data;
}

/** The hosts a cron tick visits: every registered host not taken out of service, least recently seen first. */
export const hostsToVisit = (ctx: DomainContext, limit: number): Promise<GpuHost[]> =>
  ctx.db.query.gpuHosts.findMany({
    where: (h, { ne }) => ne(h.status, "offline"),
    orderBy: (h, { asc }) => [asc(h.lastSeenAt), asc(h.id)],
    limit,
  });

/** A host answered: the registry says so (gpu_hosts.last_seen_at). */
export const markHostSeen = (ctx: DomainContext, hostId: string) => ctx.db.update(gpuHosts).set({ lastSeenAt: ctx.clock.now() }).where(eq(gpuHosts.id, hostId));

export interface PerHostResult {
  ok: Record<string, unknown>;
  /** Hosts skipped this tick (down, slow, failing): the error code only. */
  failed: Record<string, string>;
}

/**
 * Runs `work` on each host concurrently; one host failing (down, slow) is logged and skipped and
 * never stops the others. The next tick tries it again.
 */
export async function forEachHost<T>(ctx: DomainContext, hosts: GpuHost[], work: (host: GpuHost) => Promise<T>): Promise<PerHostResult> {
  const settled = await Promise.allSettled(hosts.map(work));
  const result: PerHostResult = { ok: {}, failed: {} };
  settled.forEach((outcome, i) => {
    const host = hosts[i]!;
    if (outcome.status === "fulfilled") result.ok[host.id] = outcome.value;
    else {
      const error = outcome.reason;
      const code = error && typeof error === "object" && "code" in error && typeof error.code === "string" ? error.code : error instanceof Error ? error.name : "unknown";
      result.failed[host.id] = code;
      ctx.log.warn("host_skipped", { host: host.id, code });
    }
  });
  return result;
}
