import type { DomainContext } from "./context";
import { AppError } from "./errors";
import { logError } from "./logs";
import { disconnect } from "./sessions";

/**
 * A cron job's disconnect (idle, billing): the same `disconnect` as the API, so the command log
 * records it with the job as actor. "stopped" only for the call that actually stopped the session,
 * so a repeated tick sends no second email. A failure is logged: billing already stopped
 * (beginStop) before the host was asked, and reconcile removes the container later.
 */
export async function disconnectForJob(ctx: DomainContext, session: { id: string; userId: string }, reason: string): Promise<"stopped" | "unchanged" | "failed"> {
  let stopped = false;
  try {
    await disconnect(ctx, session.userId, session.id, { onStopped: () => (stopped = true) });
  } catch (error) {
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cron", code: error instanceof AppError ? error.code : "internal", message: `${reason} disconnect of ${session.id}`, userId: session.userId });
    return "failed";
  }
  return stopped ? "stopped" : "unchanged";
}
