import { loadConfig } from "../domain/config";
import { type DomainContext, fixedClock } from "../domain/context";
import { openDb } from "../domain/db";
import { logError } from "../adapters/log";
import type { Env } from "../env";
import { archiveJob } from "./archive";
import { billingEnforcementJob } from "./billing-enforcement";
import { idleDisconnectJob } from "./idle-disconnect";
import { meteringJob } from "./metering";
import { reconcileJob } from "./reconcile";
import { retentionJob } from "./retention";
import { usageLimitJob } from "./usage-limit";
import { usageMetricsJob } from "./usage-metrics";
import { workspaceRetentionJob } from "./workspace-retention";

export interface Job {
  name: string;
  run(ctx: DomainContext): Promise<unknown>;
}

/** Cron expression → the named jobs it runs. Keep in step with wrangler.toml `[triggers]`. */
export const CRON_JOBS: Record<string, Job[]> = {
  "17 * * * *": [retentionJob, meteringJob, workspaceRetentionJob],
  // GPU sessions (issue 3): samples first, so reconcile knows when a vanished session was last
  // seen and the idle check reads this minute's sample.
  // The usage-limit check after the jobs that end sessions: it reads their end times.
  // Cold storage last: it works until its own time budget runs out (COLD_STORAGE_TICK_SECONDS).
  "* * * * *": [usageMetricsJob, reconcileJob, idleDisconnectJob, billingEnforcementJob, usageLimitJob, archiveJob],
};

/**
 * The scheduled handler: dispatches by cron expression. Each job runs with the scheduled time as
 * its clock (tests drive it with a controlled time) and as a system actor. Jobs are idempotent:
 * cron delivery is at least once. One failing job does not stop the others.
 */
export async function scheduled(controller: ScheduledController, env: Env, executionCtx: ExecutionContext): Promise<void> {
  const jobs = CRON_JOBS[controller.cron];
  if (!jobs) {
    console.error(JSON.stringify({ event: "unknown_cron", cron: controller.cron }));
    return;
  }
  const config = await loadConfig(env);
  const failures: string[] = [];
  for (const job of jobs) {
    const requestId = `cron:${job.name}:${controller.scheduledTime}`;
    const ctx: DomainContext = {
      env,
      db: openDb(env.DB),
      config,
      clock: fixedClock(controller.scheduledTime),
      actor: { kind: "system", job: job.name },
      requestId,
      waitUntil: (promise) => executionCtx.waitUntil(promise),
    };
    try {
      const result = await job.run(ctx);
      console.info(JSON.stringify({ event: "job_done", job: job.name, result }));
    } catch (error) {
      failures.push(job.name);
      logError(env.DB, executionCtx, { requestId, source: "cron", code: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) });
    }
  }
  // Surface failure to Cloudflare's cron status (so it shows as failed) after every job had its turn.
  if (failures.length > 0) throw new Error(`cron jobs failed: ${failures.join(", ")}`);
}
