/** The workspace status the user sees: state, size, transfer progress, last activity and the date it would be deleted. */
import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { parseSshPublicKey, sshFingerprint } from "../../../contract/ssh-keys";
import { WORKSPACE_STATES, workspaces } from "../../../schema";
import { findArchive, movesToColdStorageAt } from "../cold-storage";
import type { DomainContext } from "../context";
import type { GpuHost } from "../hosts";
import { ownedWorkspace, type Workspace } from "../owned";
import { findLiveSession, SessionSchema, sessionView, type SessionView } from "../sessions";
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
    // A union, not .nullable(): on a named schema that documents as allOf [Session, null], which nothing null matches.
    session: z.union([SessionSchema, z.null()]).openapi({ description: "The live session using the workspace" }),
    lastActivityAt: z.string().openapi({ description: "Policy §6: your account's last activity (sign-in, API use, connect, end of a session)" }),
    deletesAt: z
      .string()
      .nullable()
      .openapi({ description: "When the workspace will be deleted for inactivity (60 days after the last activity, at least 7 days after a warning email) unless there is activity first; null while a session is live or it is being deleted" }),
    movesToColdStorageAt: z
      .string()
      .nullable()
      .openapi({ description: "The earliest it may move to cold storage if unused until then (WORKSPACE_COLD_AFTER_DAYS after its last use or session); the next connect brings it back. Null unless it is hot with no live session" }),
    transfer: z
      .object({
        bytes: z.number().int().openapi({ description: "Bytes moved so far" }),
        totalBytes: z.number().int().nullable().openapi({ description: "The size being moved; null until known" }),
      })
      .nullable()
      .openapi({ description: "Progress of the move to cold storage (`archiving`) or back (`restoring`); null otherwise" }),
    sshHostKey: z
      .object({
        publicKey: z.string().openapi({ description: "The host key's public line (`ssh-ed25519 AAAA…`), for known_hosts" }),
        fingerprint: z.string().openapi({ description: "Its SHA-256 fingerprint, as `ssh-keygen -lf` prints it: compare it with what ssh shows on a first connection" }),
      })
      .nullable()
      .openapi({ description: "The workspace's SSH host key, made in the workspace on its first session and the same for every later one; null before a session on an image with SSH" }),
  })
  .openapi("Workspace");
export type WorkspaceView = z.infer<typeof WorkspaceSchema>;

/**
 * Status of the user's workspace. The size is the one the every-minute job measured
 * (recordWorkspaceSizes): measuring on request would make the host walk every volume per call.
 */
export async function getWorkspace(ctx: DomainContext, userId: string): Promise<WorkspaceView> {
  const workspace = await ownedWorkspace(ctx, userId);
  const live = await findLiveSession(ctx, userId);
  const archive = workspace.state === "hot" ? undefined : await findArchive(ctx, userId, workspace.id);
  const lastActivity = await lastActivityOf(ctx, userId, workspace.id);
  const inUse = live !== undefined || workspace.state === "deleting";
  const view = toWorkspaceView(workspace, live ? await sessionView(ctx, live) : null, lastActivity, inUse ? null : deletionDate(lastActivity, workspace.deletionWarnedAt, ctx.clock.now()));
  view.movesToColdStorageAt = (await movesToColdStorageAt(ctx, workspace, live !== undefined))?.toISOString() ?? null;
  view.sshHostKey = await hostKeyView(workspace.sshHostKey);
  if (workspace.state === "cold" && archive?.sizeBytes != null) {
    view.sizeBytes = archive.sizeBytes;
    view.sizeMeasuredAt = (archive.completedAt ?? archive.updatedAt).toISOString();
  }
  if (workspace.state === "archiving" || workspace.state === "restoring") {
    view.transfer = { bytes: workspace.transferBytes ?? 0, totalBytes: archive?.sizeBytes ?? workspace.sizeBytes };
  }
  return view;
}

/** Chunks of one D1 batch: a host with many workspaces is written in a few round trips, not one per workspace. */
const SIZES_PER_BATCH = 100;

/**
 * Every minute, per host: the size of each hot workspace on it, from one listing. Only a
 * workspace D1 places on that host is written, so a host cannot report another host's workspace.
 */
export async function recordWorkspaceSizes(ctx: DomainContext, host: GpuHost): Promise<{ measured: number }> {
  const sizes = (await (await ctx.provisioner(host)).workspaceSizes()).filter((w) => w.sizeBytes !== null);
  const now = ctx.clock.now();
  let measured = 0;
  for (let i = 0; i < sizes.length; i += SIZES_PER_BATCH) {
    const updates = sizes
      .slice(i, i + SIZES_PER_BATCH)
      .map(({ workspaceId, sizeBytes }) =>
        ctx.db
          .update(workspaces)
          .set({ sizeBytes, sizeMeasuredAt: now })
          .where(and(eq(workspaces.id, workspaceId), eq(workspaces.hostId, host.id), eq(workspaces.state, "hot")))
          .returning({ id: workspaces.id }),
      );
    const [first, ...rest] = updates;
    if (!first) break;
    for (const rows of await ctx.db.batch([first, ...rest])) measured += rows.length;
  }
  return { measured };
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
    movesToColdStorageAt: null,
    transfer: null,
    sshHostKey: null,
  };
}

async function hostKeyView(publicKey: string | null): Promise<WorkspaceView["sshHostKey"]> {
  const parsed = publicKey ? parseSshPublicKey(publicKey) : null;
  return parsed?.ok ? { publicKey: parsed.key, fingerprint: await sshFingerprint(parsed.blob) } : null;
}
