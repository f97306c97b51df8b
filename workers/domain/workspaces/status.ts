/** The workspace status the user sees: state, size, transfer progress, last activity and the date it would be deleted. */
import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { WORKSPACE_STATES, workspaces } from "../../../schema";
import { findArchive } from "../cold-storage";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { ownedWorkspace, type Workspace } from "../owned";
import { findLiveSession, SessionSchema, type SessionView, toSessionView } from "../sessions";
import { deletionDate, lastActivityOf } from "./retention";

/** The workspace as the API shows it (and the OpenAPI document describes it). */
export const WorkspaceSchema = z
  .object({
    id: z.string(),
    state: z.enum(WORKSPACE_STATES),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    deletedAt: z.string().nullable(),
    sizeBytes: z.number().int().nullable().openapi({ description: "Last measured size in bytes (in cold storage: the archive's size)" }),
    sizeMeasuredAt: z.string().nullable(),
    session: SessionSchema.nullable().openapi({ description: "The live session using the workspace" }),
    lastActivityAt: z.string().openapi({ description: "Policy §6: your account's last activity (sign-in, API use, connect, end of a session)" }),
    deletesAt: z
      .string()
      .nullable()
      .openapi({ description: "When the workspace will be deleted for inactivity (60 days after the last activity, at least 7 days after a warning email) unless there is activity first; null while a session is live or it is being deleted" }),
    transfer: z
      .object({
        bytes: z.number().int().openapi({ description: "Bytes moved so far" }),
        totalBytes: z.number().int().nullable().openapi({ description: "The size being moved; null until known" }),
      })
      .nullable()
      .openapi({ description: "Progress of the move to cold storage (`archiving`) or back (`restoring`); null otherwise" }),
  })
  .openapi("Workspace");
export type WorkspaceView = z.infer<typeof WorkspaceSchema>;

/** Status of the user's workspace, with its size measured now when its host answers (the last size otherwise). */
export async function getWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  let workspace = await ownedWorkspace(ctx, userId);
  if (workspace.state === "hot" && workspace.hostId) {
    const client = (await ctx.provisioner(workspace.hostId));
    try {
      const sizeBytes = await client.workspaceSize(workspace.id);
      if (sizeBytes !== null) {
        const [measured] = await ctx.db
          .update(workspaces)
          .set({ sizeBytes, sizeMeasuredAt: ctx.clock.now() })
          .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, userId)))
          .returning();
        workspace = measured ?? workspace;
      }
    } catch (error) {
      // A host that is down does not hide the workspace: the last known size is shown, with its date.
      if (!(error instanceof AppError && error.code === "provisioner_unavailable")) throw error;
    }
  }
  const live = await findLiveSession(ctx, userId);
  const archive = workspace.state === "hot" ? undefined : await findArchive(ctx, userId, workspace.id);
  const lastActivity = await lastActivityOf(ctx, userId, workspace.id);
  const inUse = live !== undefined || workspace.state === "deleting";
  const view = toWorkspaceView(workspace, live ? toSessionView(live) : null, lastActivity, inUse ? null : deletionDate(lastActivity, workspace.deletionWarnedAt, ctx.clock.now()));
  if (workspace.state === "cold" && archive?.sizeBytes != null) {
    view.sizeBytes = archive.sizeBytes;
    view.sizeMeasuredAt = (archive.completedAt ?? archive.updatedAt).toISOString();
  }
  if (workspace.state === "archiving" || workspace.state === "restoring") {
    view.transfer = { bytes: workspace.transferBytes ?? 0, totalBytes: archive?.sizeBytes ?? workspace.sizeBytes };
  }
  return view;
}

export function toWorkspaceView(w: Workspace, session: SessionView | null, lastActivity: Date, deletesAt: Date | null): WorkspaceView {
  return {
    id: w.id,
    state: w.state,
    createdAt: w.createdAt.toISOString(),
    lastUsedAt: w.lastUsedAt.toISOString(),
    deletedAt: w.deletedAt?.toISOString() ?? null,
    sizeBytes: w.sizeBytes,
    sizeMeasuredAt: w.sizeMeasuredAt?.toISOString() ?? null,
    session,
    lastActivityAt: lastActivity.toISOString(),
    deletesAt: deletesAt?.toISOString() ?? null,
    transfer: null,
  };
}
