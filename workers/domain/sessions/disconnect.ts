/** Disconnect: stop the container and keep the workspace; billing time stops when the user asks, not when the host is done. */
import { and, eq } from "drizzle-orm";
import { type Command, sessions } from "../../../schema";
import { commandEvent } from "../audit";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { findLiveSession, ownedSession, type Session, sessionView, type SessionView } from "./views";

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
  await (await ctx.provisioner(session.hostId)).removeContainer(session.id);
  const [ended] = await ctx.db
    .update(sessions)
    .set({ state: "ended" })
    .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "stopping")))
    .returning();
  return ended ?? (await ownedSession(ctx, session.userId, session.id));
}

/**
 * Ends `session` for `command` (disconnect, destroy), recorded in the command log with the stop.
 * `onStopped` runs once, in the call that stopped billing, even if the host then fails to remove
 * the container. A session that is not running is returned as it is, once a stop under way is finished.
 */
async function stopSession(ctx: DomainContext, session: Session, command: Command, onStopped?: (session: Session) => void): Promise<Session> {
  let current = session;
  if (current.state === "running") {
    const [[stopping]] = await ctx.db.batch([beginStop(ctx, current), commandEvent(ctx, current.userId, command, current.id)]);
    if (stopping) onStopped?.(stopping);
    current = stopping ?? (await ownedSession(ctx, current.userId, current.id));
  } else {
    await commandEvent(ctx, current.userId, command, current.id);
  }
  return current.state === "stopping" ? finishStopping(ctx, current) : current;
}

/**
 * Stop the container, keep the workspace. Idempotent: an ended session is returned as it is.
 * `onStopped` runs once, in the call that stopped billing (the idle job emails the user then).
 */
export async function disconnect(ctx: DomainContext, userId: string, sessionId: string, options: { onStopped?: (session: Session) => void } = {}): Promise<SessionView> {
  const session = await ownedSession(ctx, userId, sessionId);
  if (session.state === "starting") throw new AppError("session_busy", "The session is still starting; disconnect once it runs.");
  return sessionView(ctx, await stopSession(ctx, session, "disconnect", options.onStopped));
}

/** Destroy's first step: the user's live session, if any, is ended and its container removed (the command is logged either way). */
export async function endLiveSession(ctx: DomainContext, userId: string, command: Command): Promise<void> {
  const live = await findLiveSession(ctx, userId);
  if (live) await stopSession(ctx, live, command);
  else await commandEvent(ctx, userId, command, null);
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

/**
 * A job's disconnects, one after another: `onStopped` (the email, an audit row) runs only for the
 * sessions this call stopped, so a repeated tick tells nobody twice.
 */
export async function disconnectEachForJob<T extends { id: string; userId: string }>(
  ctx: DomainContext,
  list: readonly T[],
  reason: string,
  onStopped: (session: T) => Promise<void> | void,
): Promise<{ disconnected: number; failed: number }> {
  let disconnected = 0;
  let failed = 0;
  for (const session of list) {
    const outcome = await disconnectForJob(ctx, session, reason);
    if (outcome === "failed") failed++;
    if (outcome !== "stopped") continue;
    disconnected++;
    await onStopped(session);
  }
  return { disconnected, failed };
}
