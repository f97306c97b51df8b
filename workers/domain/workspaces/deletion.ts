/**
 * The user's workspace: its status, and deletion everywhere it lies (ARCHITECTURE "Lifecycles"):
 * destroy, asked by the user, and inactivity deletion (policy §6, retention.ts) share
 * one path: settle a transfer, mark `deleting`, delete the hot volume and the cold copy, mark
 * `deleted`. The Worker knows a workspace's size, never its content (policy §3).
 */
import { and, eq, exists, inArray, isNotNull, isNull, ne, notExists, or, type SQL } from "drizzle-orm";
import { sessions, users, workspaces, type WorkspaceState } from "../../../schema";
import { auditEventWhere } from "../audit";
import { cancelArchive, deleteColdCopy } from "../cold-storage";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { noWorkspace, ownedWorkspace, type Workspace, workspaceBusy } from "../owned";
import { endLiveSession } from "../sessions";
import { deletionDue, lastActivityOf } from "./retention";
import { toWorkspaceView, type WorkspaceView } from "./status";

// ── Deletion everywhere: the one path of destroy and inactivity deletion ──────────────────────

/**
 * A transfer in progress must settle before deletion: an archive not yet committed is cancelled
 * (the hot copy is still the workspace); a committed archive or a restore is waited for (busy).
 */
async function settleTransfer(ctx: DomainContext, workspace: Workspace): Promise<Workspace> {
  if (workspace.state === "archiving" && (await cancelArchive(ctx, workspace.userId, workspace.id))) return { ...workspace, state: "hot", transferBytes: null };
  if (workspace.state === "archiving" || workspace.state === "restoring") throw workspaceBusy(workspace.state);
  return workspace;
}

/**
 * The mark `deleting`, in one statement that also checks no connect is starting a session on it
 * (a connect checks the mark after its own insert, so one of the two always sees the other).
 * From `deleting` on, the deletion is always finished: by the next destroy, reconcile (a hot
 * volume) or the workspace-retention job (a cold copy).
 */
const deletable = (ctx: DomainContext, workspace: Workspace, from: WorkspaceState[], condition?: SQL) =>
  and(
    eq(workspaces.id, workspace.id),
    eq(workspaces.userId, workspace.userId),
    inArray(workspaces.state, from),
    notExists(
      ctx.db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.userId, workspace.userId), eq(sessions.state, "starting"))),
    ),
    condition,
  );

const markDeleting = (ctx: DomainContext, workspace: Workspace, from: WorkspaceState[], condition?: SQL) =>
  ctx.db.update(workspaces).set({ state: "deleting" }).where(deletable(ctx, workspace, from, condition)).returning();

/** Deletes a `deleting` workspace's hot volume and cold copy, then marks it deleted. Idempotent. */
export async function finishDeletion(ctx: DomainContext, workspace: Workspace): Promise<Workspace | undefined> {
  if (workspace.hostId) {
    await (await ctx.provisioner(workspace.hostId)).deleteWorkspace(workspace.id);
  }
  await deleteColdCopy(ctx, workspace.userId, workspace.id);
  const [deleted] = await ctx.db
    .update(workspaces)
    .set({ state: "deleted", deletedAt: ctx.clock.now() })
    .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, workspace.userId), eq(workspaces.state, "deleting")))
    .returning();
  return deleted;
}

/**
 * Destroy: ends the live session (its container is removed), deletes the workspace wherever it
 * lies — the volume on its host, the cold copy in R2 — and marks it deleted. An archive not yet
 * committed is cancelled first; a committed one or a restore answers 409 (retry shortly).
 * Resumable: a destroy interrupted by a fault leaves the workspace `deleting`, and the next
 * destroy finishes it.
 */
export async function destroyWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  const workspace = await settleTransfer(ctx, await ownedWorkspace(ctx, userId));
  const [marked] = await markDeleting(ctx, workspace, ["hot", "cold", "deleting"]);
  if (!marked) throw new AppError("session_busy", "Your session is starting; destroy once it runs.");
  await endLiveSession(ctx, userId, "destroy");

  const deleted = await finishDeletion(ctx, marked);
  if (!deleted) throw noWorkspace(); // a concurrent destroy finished first
  return toWorkspaceView(deleted, null, await lastActivityOf(ctx, userId, deleted.id), null);
}

/** At most this many inactivity deletions per tick (each calls a host and R2); the rest go on the next tick. */
export const MAX_DELETIONS_PER_TICK = 10;

export interface InactiveDeletions {
  deleted: number;
  /** Waiting for an archive or restore to settle, or claimed by an overlapping run. */
  skipped: number;
  failed: number;
}

/**
 * Policy §6: deletes the workspaces due (retention.ts `deletionDue`), hot and cold
 * copies. The mark `deleting` and the audit row go in one batch under the same condition, checked
 * again at that moment: activity since the read, or an overlapping run that marked it first,
 * leaves neither. No live session exists (the condition says so), so nothing is stopped here.
 */
export async function deleteInactiveWorkspaces(ctx: DomainContext): Promise<InactiveDeletions> {
  const now = ctx.clock.now();
  const result: InactiveDeletions = { deleted: 0, skipped: 0, failed: 0 };
  const due = await ctx.db
    .select()
    .from(workspaces)
    .where(and(inArray(workspaces.state, ["hot", "archiving", "cold"]), deletionDue(now)))
    .limit(MAX_DELETIONS_PER_TICK);
  for (const found of due) {
    try {
      const workspace = await settleTransfer(ctx, found);
      // Audit first, under the condition of the mark that follows: both or neither.
      const due = exists(ctx.db.select({ id: workspaces.id }).from(workspaces).where(deletable(ctx, workspace, ["hot", "cold"], deletionDue(now))));
      const detail = { workspaceId: workspace.id, warnedAt: workspace.deletionWarnedAt?.toISOString() ?? null };
      const [, [marked]] = await ctx.db.batch([
        auditEventWhere(ctx, workspace.userId, "workspace_deleted_inactive", detail, and(eq(users.id, workspace.userId), due)),
        markDeleting(ctx, workspace, ["hot", "cold"], deletionDue(now)),
      ]);
      if (!marked) {
        result.skipped++;
        continue;
      }
      if (await finishDeletion(ctx, marked)) result.deleted++;
    } catch (error) {
      if (error instanceof AppError && error.code === "workspace_busy") {
        result.skipped++;
        continue;
      }
      // Marked `deleting` already, the deletion is finished later (reconcile, the next tick); else retried when due.
      result.failed++;
      ctx.log.error({ source: "cron", code: error instanceof AppError ? error.code : "internal", message: `inactivity deletion of workspace ${found.id}`, userId: found.userId });
    }
  }
  return result;
}

/** At most this many leftover deletions per tick. */
const MAX_LEFTOVERS_PER_TICK = 10;

/**
 * Deletions decided but not finished, retried each tick: a deleted account's workspace that the
 * account deletion could not destroy then (a transfer in progress, a fault), and a cold workspace
 * left `deleting` (reconcile finishes those with a volume on a host). Reads the workspaces not
 * deleted (workspaces_deleted_at_idx), never the deleted history.
 */
export async function finishLeftoverDeletions(ctx: DomainContext): Promise<{ finished: number; failed: number }> {
  const leftovers = await ctx.db
    .select({ workspace: workspaces })
    .from(workspaces)
    .innerJoin(users, eq(users.id, workspaces.userId))
    .where(
      and(
        isNull(workspaces.deletedAt),
        or(and(eq(workspaces.state, "deleting"), isNull(workspaces.hostId)), and(ne(workspaces.state, "deleting"), isNotNull(users.deletedAt))),
      ),
    )
    .limit(MAX_LEFTOVERS_PER_TICK);
  const result = { finished: 0, failed: 0 };
  for (const { workspace } of leftovers) {
    try {
      // The account deletion's own destroy, retried (it ends a session, cancels an archive).
      if (workspace.state === "deleting") await finishDeletion(ctx, workspace);
      else await destroyWorkspace(ctx, workspace.userId);
      result.finished++;
    } catch (error) {
      if (error instanceof AppError && (error.code === "workspace_busy" || error.code === "session_busy")) continue; // next tick
      result.failed++;
      ctx.log.error({ source: "cron", code: error instanceof AppError ? error.code : "internal", message: `finish deletion of workspace ${workspace.id}`, userId: workspace.userId });
    }
  }
  return result;
}
