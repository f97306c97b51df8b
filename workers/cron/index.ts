import { createLog } from "../adapters/log";
import { accessLogCompactionJob, accessLogDeadLettersJob, accessLogForgetJob, accessLogRetentionJob } from "./access-logs";
import { createDomainContext } from "../context";
import { fixedClock } from "../domain/context";
import type { Env } from "../env";
import { billingEnforcementJob } from "./billing-enforcement";
import { databaseSizeJob } from "./database-size";
import { archiveJob } from "./cold-storage-archive";
import { idleDisconnectJob } from "./idle-disconnect";
import type { Job } from "./job";
import { meteringJob } from "./metering";
import { policyNoticesJob } from "./policy-notices";
import { privacyRemindersJob } from "./privacy-reminders";
import { reconcileJob } from "./reconcile";
import { retentionJob } from "./retention";
import { stripeErasureJob } from "./stripe-erasure";
import { usageLimitJob } from "./usage-limit";
import { workspaceSizesJob } from "./workspace-sizes";
import { usageMetricsJob } from "./usage-metrics";
import { usageRollupJob } from "./usage-rollup";
import { workspaceRetentionJob } from "./workspace-retention";

export type { Job };

/** Cron expression → the named jobs it runs. Keep in step with wrangler.toml `[triggers]`. */
export const CRON_JOBS: Record<string, Job[]> = {
  // Daily, in the operators' morning (UTC): the privacy requests whose 30-day deadline is near or
  // past, how full the database is, and access-log lines the queue could not deliver.
  "0 8 * * *": [privacyRemindersJob, databaseSizeJob, accessLogDeadLettersJob],
  // The rollup before the purge: an hour's samples are rolled up long before they expire anyway.
  // The access logs' day prefixes with the D1 rules: their index rows go in the same tick; the
  // hour that just ended is compacted (17 minutes after it, past COMPACT_AFTER_MS).
  "17 * * * *": [usageRollupJob, retentionJob, accessLogRetentionJob, accessLogCompactionJob, meteringJob, workspaceRetentionJob],
  // Samples first, so reconcile knows when a vanished session was last seen and the idle check
  // reads this minute's sample. The usage-limit check after the jobs that end sessions: it reads
  // their end times. A deleted account's Stripe erasure every minute: its subscription must stop
  // soon, and a failed attempt is first retried a minute later. Cold storage last: it works until
  // its own time budget runs out. Policy-change notices every minute in bounded batches: a
  // material change reaches every account within hours without one tick sending thousands.
  "* * * * *": [usageMetricsJob, reconcileJob, workspaceSizesJob, idleDisconnectJob, billingEnforcementJob, usageLimitJob, stripeErasureJob, policyNoticesJob, accessLogForgetJob, archiveJob],
};

/**
 * The scheduled handler: dispatches by cron expression. Each job runs with the scheduled time as
 * its clock (tests drive it with a controlled time) and as a system actor. One failing job does
 * not stop the others.
 */
export async function scheduled(controller: ScheduledController, env: Env, executionCtx: ExecutionContext): Promise<void> {
  const waitUntil = (promise: Promise<unknown>) => executionCtx.waitUntil(promise);
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    createLog(env.DB, executionCtx, `cron:${controller.scheduledTime}`).warn("unknown_cron", { cron: controller.cron });
    return;
  }
  const failures: string[] = [];
  for (const job of jobs) {
    const requestId = `cron:${job.name}:${controller.scheduledTime}`;
    const ctx = await createDomainContext(env, { actor: { kind: "system", job: job.name }, requestId, waitUntil, clock: fixedClock(controller.scheduledTime) });
    try {
      ctx.log.info("job_done", { job: job.name, result: await job.run(ctx) });
    } catch (error) {
      failures.push(job.name);
      ctx.log.error({ source: "cron", code: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) });
    }
  }
  // Surface failure to Cloudflare's cron status (so it shows as failed) after every job had its turn.
  if (failures.length > 0) throw new Error(`cron jobs failed: ${failures.join(", ")}`);
}
