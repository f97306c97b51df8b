import type { DomainContext } from "../domain/context";
import { AppError } from "../domain/errors";

/** A named cron job: one line calling its domain verb. Jobs are idempotent (cron delivery is at least once). */
export interface Job {
  name: string;
  run(ctx: DomainContext): Promise<unknown>;
}

/**
 * A job that looks after GPU hosts. A Worker without provisioner settings (accounts only, no
 * hosts yet) has no session to look after: the job is skipped, not failed every minute.
 */
export const hostJob = (name: string, run: Job["run"]): Job => ({
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
