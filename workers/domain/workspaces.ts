/**
 * The user's workspace: its status, and destroy (ARCHITECTURE "Lifecycles": remove the container
 * and delete the workspace). The Worker knows a workspace's size, never its content (policy §3).
 */
import { and, eq, inArray, notExists } from "drizzle-orm";
import { sessions, workspaces } from "../../schema";
import { commandEvent } from "./audit";
import { loadProvisionerConfig } from "./config";
import type { DomainContext } from "./context";
import { AppError } from "./errors";
import { findHost } from "./hosts";
import { provisionerClient } from "./provisioner";
import { beginStop, findLiveSession, finishStopping, type SessionView, toSessionView } from "./sessions";
import { currentWorkspace, type Workspace, workspaceBusy } from "./workspace-records";

export interface WorkspaceView {
  id: string;
  state: Workspace["state"];
  createdAt: string;
  lastUsedAt: string;
  deletedAt: string | null;
  /** Last measured size; null when never measured. */
  sizeBytes: number | null;
  sizeMeasuredAt: string | null;
  /** The live session using it, if any. */
  session: SessionView | null;
}

const toWorkspaceView = (w: Workspace, session: SessionView | null): WorkspaceView => ({
  id: w.id,
  state: w.state,
  createdAt: w.createdAt.toISOString(),
  lastUsedAt: w.lastUsedAt.toISOString(),
  deletedAt: w.deletedAt?.toISOString() ?? null,
  sizeBytes: w.sizeBytes,
  sizeMeasuredAt: w.sizeMeasuredAt?.toISOString() ?? null,
  session,
});

const noWorkspace = () => new AppError("not_found", "You have no workspace; connect creates one.");

/** Status of the user's workspace, with its size measured now when its host answers (the last size otherwise). */
export async function getWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  let workspace = await currentWorkspace(ctx, userId);
  if (!workspace) throw noWorkspace();
  if (workspace.state === "hot" && workspace.hostId) {
    const settings = await loadProvisionerConfig(ctx.env);
    const client = provisionerClient(ctx, settings, await findHost(ctx, workspace.hostId));
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
  return toWorkspaceView(workspace, live ? toSessionView(live) : null);
}

/**
 * Destroy: ends the live session (its container is removed), deletes the workspace volume on its
 * host and marks the workspace deleted. Resumable: a destroy interrupted by a host fault leaves
 * the workspace `deleting`, and the next destroy finishes it.
 * TODO(issue 5): delete the cold copy in R2 too, once cold storage exists.
 */
export async function destroyWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  const workspace = await currentWorkspace(ctx, userId);
  if (!workspace) throw noWorkspace();
  if (workspace.state !== "hot" && workspace.state !== "deleting") throw workspaceBusy(workspace.state);
  const settings = await loadProvisionerConfig(ctx.env);

  // Marked `deleting` in one statement that also checks no connect is starting a session on it;
  // a connect checks the mark after its own insert, so one of the two always sees the other.
  const [marked] = await ctx.db
    .update(workspaces)
    .set({ state: "deleting" })
    .where(
      and(
        eq(workspaces.id, workspace.id),
        eq(workspaces.userId, userId),
        inArray(workspaces.state, ["hot", "deleting"]),
        notExists(
          ctx.db
            .select({ id: sessions.id })
            .from(sessions)
            .where(and(eq(sessions.userId, userId), eq(sessions.state, "starting"))),
        ),
      ),
    )
    .returning();
  if (!marked) throw new AppError("session_busy", "Your session is starting; destroy once it runs.", { headers: { "Retry-After": "5" } });

  let live = await findLiveSession(ctx, userId);
  if (live?.state === "running") {
    const [[stopping]] = await ctx.db.batch([beginStop(ctx, live), commandEvent(ctx, userId, "destroy", live.id)]);
    live = stopping ?? (await findLiveSession(ctx, userId));
  } else {
    await commandEvent(ctx, userId, "destroy", live?.id ?? null);
  }
  if (live?.state === "stopping") await finishStopping(ctx, settings, live);

  if (marked.hostId) await provisionerClient(ctx, settings, await findHost(ctx, marked.hostId)).deleteWorkspace(marked.id);
  const [deleted] = await ctx.db
    .update(workspaces)
    .set({ state: "deleted", deletedAt: ctx.clock.now() })
    .where(and(eq(workspaces.id, marked.id), eq(workspaces.userId, userId), eq(workspaces.state, "deleting")))
    .returning();
  if (!deleted) throw noWorkspace(); // a concurrent destroy finished first
  return toWorkspaceView(deleted, null);
}
