/**
 * The cold copy of a workspace in R2 (ARCHITECTURE "Lifecycles"), as far as the rest of the
 * domain needs it: where it lies, cancelling an archive that has not yet been committed, and
 * deleting the cold copy (destroy, inactivity deletion, after a restore). The archive and restore
 * transfers themselves are archive.ts and restore.ts.
 */
import { and, eq, ne, notExists, sql } from "drizzle-orm";
import { workspaceArchives, workspaces } from "../../../schema";
import type { DomainContext } from "../context";

/** The R2 key of a workspace's cold copy: one object per workspace, replaced by each archive. */
export const coldObjectKey = (workspaceId: string) => `workspaces/${workspaceId}.tar`;

export type WorkspaceArchive = typeof workspaceArchives.$inferSelect;

export const findArchive = (ctx: DomainContext, userId: string, workspaceId: string) =>
  ctx.db.query.workspaceArchives.findFirst({ where: and(eq(workspaceArchives.workspaceId, workspaceId), eq(workspaceArchives.userId, userId)) });

/**
 * Turns an `archiving` workspace back to `hot` while its hot copy is still authoritative (the
 * archive is not committed). One statement, so it and the archiver's commit never both win.
 * The cold copy made so far is deleted. False when there was nothing to cancel.
 */
export async function cancelArchive(ctx: DomainContext, userId: string, workspaceId: string): Promise<boolean> {
  const [cancelled] = await ctx.db
    .update(workspaces)
    .set({ state: "hot", transferBytes: null })
    .where(
      and(
        eq(workspaces.id, workspaceId),
        eq(workspaces.userId, userId),
        eq(workspaces.state, "archiving"),
        notExists(
          ctx.db
            .select({ one: sql`1` })
            .from(workspaceArchives)
            .where(and(eq(workspaceArchives.workspaceId, workspaceId), ne(workspaceArchives.phase, "uploading"))),
        ),
      ),
    )
    .returning({ id: workspaces.id });
  if (!cancelled) return false;
  await deleteColdCopy(ctx, userId, workspaceId);
  return true;
}

/**
 * Deletes the cold copy: aborts a multipart upload in progress, deletes the object, then the row
 * that describes it (last, so an interrupted delete is found and finished by the next caller).
 * Idempotent; R2 failing → 503 `cold_storage_unavailable` with the row kept, for the next try.
 */
export async function deleteColdCopy(ctx: DomainContext, userId: string, workspaceId: string): Promise<void> {
  const archive = await findArchive(ctx, userId, workspaceId);
  const key = archive?.objectKey ?? coldObjectKey(workspaceId);
  if (archive?.uploadId) await ctx.coldStore.abortUpload(key, archive.uploadId);
  await ctx.coldStore.delete(key);
  if (archive) await ctx.db.delete(workspaceArchives).where(and(eq(workspaceArchives.workspaceId, workspaceId), eq(workspaceArchives.userId, userId)));
}
