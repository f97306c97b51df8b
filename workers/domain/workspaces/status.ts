/** The workspace status the user sees: state, size, transfer progress, last activity and the date it would be deleted. */
import { and, eq } from "drizzle-orm";
import { workspaces } from "../../../schema";
import { findArchive } from "../cold-storage";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { findLiveSession, type SessionView, toSessionView } from "../sessions";
import { deletionDate, lastActivityOf } from "./retention";
import { currentWorkspace, type Workspace } from "../owned";

export interface WorkspaceView {
  id: string;
  state: Workspace["state"];
  createdAt: string;
  lastUsedAt: string;
  deletedAt: string | null;
  /** Last measured size (a cold workspace: its archive's); null when never measured. */
  sizeBytes: number | null;
  sizeMeasuredAt: string | null;
  /** The live session using it, if any. */
  session: SessionView | null;
  /** Policy §6: the account's last activity (sign-in, API use, connect, session end). */
  lastActivityAt: string;
  /** When it would be deleted for inactivity if nothing happens; null while in use or being deleted. */
  deletesAt: string | null;
  /** The archive or restore in progress: bytes moved so far of the total (null until known). */
  transfer: { bytes: number; totalBytes: number | null } | null;
}

export const noWorkspace = () => new AppError("not_found", "You have no workspace; connect creates one.");

/** Status of the user's workspace, with its size measured now when its host answers (the last size otherwise). */
export async function getWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  let workspace = await currentWorkspace(ctx, userId);
  if (!workspace) throw noWorkspace();
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
