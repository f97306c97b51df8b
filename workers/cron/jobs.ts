/** The cron jobs by name: each one line calling its domain verb. Jobs are idempotent (cron delivery is at least once). */
import { disconnectUnentitledSessions, meterUsage } from "../domain/billing";
import { archiveIdleWorkspaces } from "../domain/cold-storage";
import type { DomainContext } from "../domain/context";
import { AppError } from "../domain/errors";
import { forEachHost, hostsToVisit } from "../domain/hosts";
import { purgeExpired } from "../domain/privacy";
import { disconnectIdleSessions, reconcileHost } from "../domain/sessions";
import { checkUsageLimits, collectUsage } from "../domain/usage";
import { deleteInactiveWorkspaces, finishLeftoverDeletions, warnInactiveWorkspaces } from "../domain/workspaces";

export interface Job {
  name: string;
  run(ctx: DomainContext): Promise<unknown>;
}

/** Hosts visited per reconcile tick, least recently seen first, so every host gets its turn. */
const MAX_HOSTS_PER_TICK = 50;

/**
 * A job that looks after GPU hosts. A Worker without provisioner settings (accounts only, no
 * hosts yet) has no session to look after: the job is skipped, not failed every minute.
 */
const hostJob = (name: string, run: Job["run"]): Job => ({
  name,
  async run(ctx) {
    try {
      void ctx.config.provisioner;
    } catch (error) {
      if (error instanceof AppError && error.code === "not_configured") return { skipped: "provisioner_not_configured" };
      throw error;
    }
    return run(ctx);
  },
});

/** Policy §6: every table with a time rule in the data inventory is purged in bounded chunks. */
export const retentionJob: Job = { name: "retention", run: purgeExpired };

/** Each billed session's time per closed clock hour, to Stripe's billing meter. */
export const meteringJob: Job = { name: "metering", run: meterUsage };

/**
 * Policy §6: workspaces inactive for 60 days are deleted (hot volume and cold copy) after a warning
 * email 7 days before; deletions left unfinished are finished. Deletions run before warnings: a
 * warning sent now is never due for deletion in the same tick anyway.
 */
export const workspaceRetentionJob: Job = {
  name: "workspace-retention",
  async run(ctx) {
    const deletions = await deleteInactiveWorkspaces(ctx);
    const leftovers = await finishLeftoverDeletions(ctx);
    const warned = await warnInactiveWorkspaces(ctx);
    return { ...deletions, leftoversFinished: leftovers.finished, leftoversFailed: leftovers.failed, warned };
  },
};

/** One usage sample per running session (policy §1 usage data; §6 kept 12 months). */
export const usageMetricsJob = hostJob("usage-metrics", collectUsage);

/** D1 and each host agree again (orphan containers, vanished containers, interrupted steps). */
export const reconcileJob = hostJob("reconcile", async (ctx) => forEachHost(ctx, await hostsToVisit(ctx, MAX_HOSTS_PER_TICK), (host) => reconcileHost(ctx, host)));

/** After the usage samples of the tick are in: idle sessions are disconnected and their users emailed. */
export const idleDisconnectJob = hostJob("idle-disconnect", disconnectIdleSessions);

/** Sessions whose subscription lapsed past its grace period are disconnected. */
export const billingEnforcementJob = hostJob("billing-enforcement", disconnectUnentitledSessions);

/**
 * Every minute, not hourly: on an 8-GPU plan an hour is a large part of a limit, so a warning an
 * hour late could come after the limit was passed. Each tick reads only users with a live or
 * just-ended session (indexed), so running it often stays cheap.
 */
export const usageLimitJob: Job = { name: "usage-limit", run: checkUsageLimits };

/** Idle workspaces move to cold storage (R2), a bounded amount per tick, resumed by the next. */
export const archiveJob = hostJob("cold-storage-archive", archiveIdleWorkspaces);
