/** Disconnect: stop the container and keep the workspace; billing time stops when the user asks, not when the host is done. */
import { and, eq } from "drizzle-orm";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { sessions } from "../../../schema";
import { commandEvent } from "../audit";


/**
 * Moves a running session to `stopping` with its end time and duration: billing time stops at
 * the moment the user disconnects, not when the host is done. Null if it was not running.
 */
export function beginStop(ctx: DomainContext, session: Session) {
  const now = ctx.clock.now();
  return ctx.db
    .update(sessions)
    .set({ state: "stopping", endedAt: now, durationMs: Math.max(0, now.getTime() - (session.startedAt ?? now).getTime()) })
    .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "running")))
    .returning();
}

/** Stops and removes the container of a `stopping` session (the workspace stays), then ends it. */
export async function finishStopping(ctx: DomainContext, session: Session): Promise<Session> {
  const client = (await ctx.provisioner(session.hostId));
  await client.removeContainer(session.id);
  const [ended] = await ctx.db
    .update(sessions)
    .set({ state: "ended" })
    .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "stopping")))
    .returning();
  return ended ?? (await ownedSession(ctx, session.userId, session.id));
}

/**
 * Stop the container, keep the workspace. Idempotent: an ended session is returned as it is.
 * `onStopped` runs once, in the call that stopped billing (the idle job emails the user then),
 * even if the host then fails to remove the container.
 */
export async function disconnect(ctx: DomainContext, userId: string, sessionId: string, options: { onStopped?: (session: Session) => void } = {}): Promise<SessionView> {
  let session = await ownedSession(ctx, userId, sessionId);
  if (session.state === "starting") throw sessionBusy("The session is still starting; disconnect once it runs.");
  if (session.state === "running") {
    const [[stopping]] = await ctx.db.batch([beginStop(ctx, session), commandEvent(ctx, userId, "disconnect", session.id)]);
    if (stopping) options.onStopped?.(stopping);
    session = stopping ?? (await ownedSession(ctx, userId, sessionId));
  } else {
    await commandEvent(ctx, userId, "disconnect", session.id);
  }
  if (session.state === "stopping") session = await finishStopping(ctx, session);
  return toSessionView(session);
}

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
    ctx.log.error({ source: "cron", code: error instanceof AppError ? error.code : "internal", message: `${reason} disconnect of ${session.id}`, userId: session.userId });
    return "failed";
  }
  return stopped ? "stopped" : "unchanged";
}

import type { Session } from "./views";
import type { SessionView } from "./views";
import { ownedSession } from "./views";
import { sessionBusy } from "./connect";
import { toSessionView } from "./views";