/** The lease on a cold copy's archive row: one restore at a time, and a dead one is taken over only once its lease ran out. */
import { and, eq, exists, isNull, lte, or, sql } from "drizzle-orm";
import { workspaceArchives } from "../../../schema";
import type { DomainContext } from "../context";
import type { WorkspaceArchive } from "./copy";

/** A restore holds the cold copy this long past its last progress; after that a connect takes it over. */
export const RESTORE_LEASE_MS = 2 * 60_000;

export const holdsLease = (ctx: DomainContext, archive: WorkspaceArchive, until: Date) =>
  exists(
    ctx.db
      .select({ one: sql`1` })
      .from(workspaceArchives)
      .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.leaseUntil, until))),
  );

export const releaseRestoreLease = (ctx: DomainContext, archive: WorkspaceArchive, until: Date) =>
  ctx.db
    .update(workspaceArchives)
    .set({ leaseUntil: null })
    .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.leaseUntil, until)));

/** The lease on a complete cold copy, for a restore (or for reverting a dead one): taken only once the last one ran out. */
export async function takeRestoreLease(ctx: DomainContext, archive: { workspaceId: string; userId: string }, now: Date): Promise<WorkspaceArchive | undefined> {
  const [held] = await ctx.db
    .update(workspaceArchives)
    .set({ leaseUntil: new Date(now.getTime() + RESTORE_LEASE_MS), updatedAt: now })
    .where(
      and(
        eq(workspaceArchives.workspaceId, archive.workspaceId),
        eq(workspaceArchives.userId, archive.userId),
        eq(workspaceArchives.phase, "complete"),
        or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now)),
      ),
    )
    .returning();
  return held;
}
