/** The owner's rows every group reads: the live account and the current workspace (the owner is in every WHERE). */
import { and, eq, isNotNull, isNull, ne } from "drizzle-orm";
import { users, workspaces, type WorkspaceState } from "../../schema";
import { actingUserId, type DomainContext } from "./context";
import { AppError } from "./errors";

export type Workspace = typeof workspaces.$inferSelect;

/** The user's workspace that is not deleted (at most one: a partial unique index). */
export const currentWorkspace = (ctx: DomainContext, userId: string) =>
  ctx.db.query.workspaces.findFirst({ where: and(eq(workspaces.userId, userId), ne(workspaces.state, "deleted")) });

export const noWorkspace = () => new AppError("not_found", "You have no workspace; connect creates one.");

/** The user's current workspace, or `not_found`. */
export async function ownedWorkspace(ctx: DomainContext, userId: string): Promise<Workspace> {
  const workspace = await currentWorkspace(ctx, userId);
  if (!workspace) throw noWorkspace();
  return workspace;
}

const BUSY: Partial<Record<WorkspaceState, string>> = {
  deleting: "Your workspace is being destroyed; run destroy again to finish it.",
  deleted: "Your workspace was just destroyed; connect again for a new one.",
  // Connect cancels an archive still uploading: this is the short window after it was verified, while the hot copy is deleted.
  archiving: "Your workspace has just been moved to cold storage; connect again in a minute to bring it back.",
  restoring: "Your workspace is coming back from cold storage; try again shortly.",
  cold: "Your workspace is in cold storage; connect to bring it back.",
};

export const workspaceBusy = (state: WorkspaceState) =>
  new AppError("workspace_busy", BUSY[state] ?? "Your workspace is busy; try again shortly.");

export type User = typeof users.$inferSelect;

/** Live (not deleted) account by id, as a query a caller may batch; the owner filter of every account query. */
export const liveUserQuery = (ctx: DomainContext, userId: string) => ctx.db.query.users.findFirst({ where: and(eq(users.id, userId), isNull(users.deletedAt)) });

export const noUser = () => new AppError("not_found", "The account does not exist.");

export async function findUser(ctx: DomainContext, userId: string): Promise<User> {
  const user = await liveUserQuery(ctx, userId);
  if (!user) throw noUser();
  return user;
}

/**
 * Every admin verb starts here, before it looks up what it acts on, so a non-admin learns nothing
 * about which accounts or requests exist. The role is read from D1, not from the sign-in a request
 * may reuse for a few seconds, so a demotion applies at once.
 */
export async function requireAdmin(ctx: DomainContext): Promise<void> {
  const actorId = actingUserId(ctx.actor);
  const actor = actorId === undefined ? undefined : await liveUserQuery(ctx, actorId);
  if (actorId === undefined || actor?.role !== "admin") throw new AppError("forbidden", "Only an administrator may do this.");
  ctx.actor = { kind: "admin", userId: actorId };
}

/** Where operators are told of what needs them: every live admin with a verified address. */
export async function adminAddresses(ctx: DomainContext): Promise<string[]> {
  const rows = await ctx.db
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.deletedAt), isNotNull(users.emailVerifiedAt), isNotNull(users.email)));
  return rows.map((row) => row.email!);
}
