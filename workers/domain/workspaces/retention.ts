/**
 * Policy §6, "may be deleted 60 days after your account was last active": what "last active"
 * means, when a workspace is due for its warning and for deletion, and the warning itself —
 * never a deletion without a warning at least 7 days before and no activity since
 * (docs/decisions/0011-workspace-retention.md). The deletion itself is destroy's (deletion.ts).
 */
import { and, eq, inArray, isNotNull, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import { LIVE_SESSION_STATES, sessions, users, workspaces, type WorkspaceState } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import type { DomainContext } from "../context";

/** Policy values, not settings: the policy text promises them. */
export const WORKSPACE_RETENTION_DAYS = 60;
export const DELETION_WARNING_DAYS = 7;
const DAY_MS = 86_400_000;
const RETENTION_MS = WORKSPACE_RETENTION_DAYS * DAY_MS;
const WARNING_MS = DELETION_WARNING_DAYS * DAY_MS;

/** At most this many warnings per tick; the rest go on the next tick. */
export const MAX_WARNINGS_PER_TICK = 50;

/**
 * The account's last activity, for a `workspaces` row: the latest of sign-in and API use
 * (users.last_active_at, hourly resolution), connect (workspaces.last_used_at) and the end of the
 * user's last session (disconnect does not touch the workspace row, so sessions.ended_at says it).
 * A live session counts as activity now: see `noLiveSession`.
 */
export const lastActivitySql = sql<number>`max(
  ${workspaces.lastUsedAt},
  coalesce((select ${users.lastActiveAt} from ${users} where ${users.id} = ${workspaces.userId}), 0),
  coalesce((select max(${sessions.endedAt}) from ${sessions} where ${sessions.userId} = ${workspaces.userId}), 0))`;

/** A workspace with a live session is in use: never warned about, never deleted. */
const noLiveSession = sql`not exists (select 1 from ${sessions} where ${sessions.userId} = ${workspaces.userId} and ${inArray(sessions.state, LIVE_SESSION_STATES)})`;

/** A deleted account's workspace goes with the account (accounts/account.ts), never by this rule or with an email. */
const ownerActive = sql`exists (select 1 from ${users} where ${users.id} = ${workspaces.userId} and ${isNull(users.deletedAt)} and ${isNotNull(users.email)})`;

/**
 * Inactive since `cutoff`. The plain `last_used_at` bound is implied by the other and lets the
 * query walk workspaces_last_used_idx instead of every workspace.
 */
const inactiveSince = (cutoff: number) => and(lte(workspaces.lastUsedAt, new Date(cutoff)), sql`${lastActivitySql} <= ${cutoff}`, ownerActive, noLiveSession);

/** A warning counts only if nothing happened after it: activity voids it, and a new one is sent when due. */
const warningStands = and(isNotNull(workspaces.deletionWarnedAt), sql`${workspaces.deletionWarnedAt} >= ${lastActivitySql}`);

/** The states a warning is sent in: every state that holds data (a transfer in progress included). */
const WARNED_STATES: WorkspaceState[] = ["hot", "archiving", "cold", "restoring"];

/** Due for the warning: inactive for 60 − 7 days, with no warning standing. */
export const warningDue = (now: Date): SQL =>
  and(inArray(workspaces.state, WARNED_STATES), inactiveSince(now.getTime() - (RETENTION_MS - WARNING_MS)), or(isNull(workspaces.deletionWarnedAt), sql`not (${warningStands})`)) as SQL;

/** Due for deletion: inactive for 60 days, and warned at least 7 days ago with no activity since. */
export const deletionDue = (now: Date): SQL =>
  and(inactiveSince(now.getTime() - RETENTION_MS), warningStands, lte(workspaces.deletionWarnedAt, new Date(now.getTime() - WARNING_MS))) as SQL;

/** When the workspace would be deleted if nothing happens: never sooner than 7 days after a warning (sent now at the earliest). */
export function deletionDate(lastActivity: Date, warnedAt: Date | null, now: Date): Date {
  const warning = warnedAt && warnedAt >= lastActivity ? warnedAt : now;
  return new Date(Math.max(lastActivity.getTime() + RETENTION_MS, warning.getTime() + WARNING_MS));
}

/** The last activity of the user's workspace (filtered by owner). */
export async function lastActivityOf(ctx: DomainContext, userId: string, workspaceId: string): Promise<Date> {
  const [row] = await ctx.db
    .select({ at: lastActivitySql })
    .from(workspaces)
    .where(and(eq(workspaces.id, workspaceId), eq(workspaces.userId, userId)));
  return new Date(row?.at ?? 0);
}

/**
 * Emails the 7-day warnings that are due. Each is claimed by one conditional UPDATE that checks
 * the rule again, so two overlapping runs (cron delivery is at least once) send one email, and
 * activity between the read and the claim sends none.
 */
export async function warnInactiveWorkspaces(ctx: DomainContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await ctx.db
    .select({ id: workspaces.id, userId: workspaces.userId, email: users.email, lastActivity: lastActivitySql })
    .from(workspaces)
    .innerJoin(users, eq(users.id, workspaces.userId))
    .where(warningDue(now))
    .limit(MAX_WARNINGS_PER_TICK);
  let warned = 0;
  for (const workspace of due) {
    const [claimed] = await ctx.db
      .update(workspaces)
      .set({ deletionWarnedAt: now })
      .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, workspace.userId), warningDue(now)))
      .returning({ id: workspaces.id });
    if (!claimed || !workspace.email) continue;
    const lastActivity = new Date(workspace.lastActivity);
    const deletesAt = deletionDate(lastActivity, now, now);
    ctx.email.send(workspace.email, accountEmails.workspaceDeletionWarning(lastActivity.toISOString().slice(0, 10), `${deletesAt.toISOString().slice(0, 16).replace("T", " ")} UTC`));
    warned++;
  }
  return warned;
}
