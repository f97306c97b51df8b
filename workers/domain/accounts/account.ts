import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import { loginSessions, type Role, singleUseTokens, users, workspaces } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import { auditEvent } from "../audit";
import { cancelSubscriptionOfDeletedAccount, eraseBillingDetails } from "../billing";
import type { DomainContext } from "../context";
import { isUniqueViolation } from "../db";
import { AppError } from "../errors";
import { findUser, type User } from "../owned";
import { type Entitlement, type SubscriptionStanding, userEntitlement } from "../plans";
import { setUsageLimit } from "../usage";
import { destroyWorkspace } from "../workspaces";
import { verifyPassword } from "./passwords";
import { link, singleUseToken, VERIFY_TTL_MS } from "./single-use";
import { hashToken } from "./tokens";

export interface AccountView {
  id: string;
  username: string;
  email: string;
  emailVerified: boolean;
  pendingEmail: string | null;
  role: Role;
  planId: string | null;
  createdAt: string;
  lastActiveAt: string;
  policyVersion: string;
  /** Unverified accounts may sign in but not start GPU sessions: the state is visible here. */
  canStartSessions: boolean;
  restrictions: string[];
  usageLimitHours: number | null;
}

export async function getAccount(ctx: DomainContext, userId: string): Promise<AccountView> {
  const user = await findUser(ctx, userId);
  const pending = await ctx.db
    .select({ newEmail: singleUseTokens.newEmail })
    .from(singleUseTokens)
    .where(
      and(
        eq(singleUseTokens.userId, userId),
        eq(singleUseTokens.purpose, "change_email"),
        isNull(singleUseTokens.usedAt),
        gt(singleUseTokens.expiresAt, ctx.clock.now()),
      ),
    )
    .orderBy(sql`${singleUseTokens.createdAt} desc`)
    .limit(1);
  return toView(user, pending[0]?.newEmail ?? null, await userEntitlement(ctx, user));
}

function toView(user: User, pendingEmail: string | null, { plan, restrictions, subscription }: Entitlement & { subscription: SubscriptionStanding | null }): AccountView {
  return {
    id: user.id,
    username: user.username,
    email: user.email ?? "",
    emailVerified: user.emailVerifiedAt !== null,
    pendingEmail,
    role: user.role,
    // The plan sessions run on; else the one granted or subscribed to, even while restricted.
    planId: plan?.id ?? user.planId ?? subscription?.planId ?? null,
    createdAt: user.createdAt.toISOString(),
    lastActiveAt: user.lastActiveAt.toISOString(),
    policyVersion: user.policyVersion,
    canStartSessions: restrictions.length === 0,
    restrictions,
    usageLimitHours: user.usageLimitHours,
  };
}

/**
 * Only the latest email change may complete, and none survives a new password: the link goes to
 * an address the requester chose, so it must not outlive an owner locking an intruder out.
 */
export const cancelEmailChanges = (ctx: DomainContext, userId: string) =>
  ctx.db.delete(singleUseTokens).where(and(eq(singleUseTokens.userId, userId), eq(singleUseTokens.purpose, "change_email"), isNull(singleUseTokens.usedAt)));

export interface AccountPatch {
  username?: string;
  email?: string;
  usageLimitHours?: number | null;
}

/** Correction (policy §7): a new username applies at once; a new email once verified at that address. */
export async function updateAccount(ctx: DomainContext, userId: string, patch: AccountPatch): Promise<AccountView> {
  const user = await findUser(ctx, userId);
  if (patch.username !== undefined && patch.username !== user.username) {
    try {
      await ctx.db.batch([
        ctx.db.update(users).set({ username: patch.username }).where(and(eq(users.id, userId), isNull(users.deletedAt))),
        auditEvent(ctx, userId, "username_changed"),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("username_taken", "That username is taken; choose another.", { fields: [{ field: "username", message: "taken" }] });
      throw error;
    }
  }
  if (patch.email !== undefined && patch.email === user.email) {
    // Going back to the current address withdraws a pending change.
    await cancelEmailChanges(ctx, userId).run();
  } else if (patch.email !== undefined) {
    const change = singleUseToken(ctx, userId, "change_email", VERIFY_TTL_MS, patch.email);
    await ctx.db.batch([cancelEmailChanges(ctx, userId), change.insert, auditEvent(ctx, userId, "email_change_requested")]);
    ctx.email.send(patch.email, accountEmails.changeAddress(link(ctx, "/verify-email", change.token)));
  }
  if (patch.usageLimitHours !== undefined) await setUsageLimit(ctx, user, patch.usageLimitHours);
  return getAccount(ctx, userId);
}

/** Consumes a verify_email or change_email token. */
export async function verifyEmail(ctx: DomainContext, token: string): Promise<void> {
  const now = ctx.clock.now();
  const row = await ctx.db
    .select({ tokenHash: singleUseTokens.tokenHash, purpose: singleUseTokens.purpose, newEmail: singleUseTokens.newEmail, userId: users.id, oldEmail: users.email })
    .from(singleUseTokens)
    .innerJoin(users, eq(users.id, singleUseTokens.userId))
    .where(
      and(
        eq(singleUseTokens.tokenHash, hashToken(token)),
        or(eq(singleUseTokens.purpose, "verify_email"), eq(singleUseTokens.purpose, "change_email")),
        isNull(singleUseTokens.usedAt),
        gt(singleUseTokens.expiresAt, now),
        isNull(users.deletedAt),
      ),
    )
    .get();
  if (!row) throw new AppError("token_invalid");
  const consume = ctx.db
    .update(singleUseTokens)
    .set({ usedAt: now })
    .where(and(eq(singleUseTokens.tokenHash, row.tokenHash), isNull(singleUseTokens.usedAt)))
    .returning({ tokenHash: singleUseTokens.tokenHash });
  const isChange = row.purpose === "change_email" && row.newEmail;
  // The consume runs first in the batch; the effect is conditional on the token being unused
  // (`used_at = now` only by this batch), so two concurrent uses apply once.
  const applies = sql`exists (select 1 from ${singleUseTokens} where ${singleUseTokens.tokenHash} = ${row.tokenHash} and ${singleUseTokens.usedAt} = ${now.getTime()})`;
  try {
    const [consumed] = await ctx.db.batch([
      consume,
      ctx.db
        .update(users)
        .set(isChange ? { email: row.newEmail, emailVerifiedAt: now } : { emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.getTime()})` })
        .where(and(eq(users.id, row.userId), applies)),
      auditEvent(ctx, row.userId, isChange ? "email_changed" : "email_verified"),
    ]);
    if (consumed.length === 0) throw new AppError("token_invalid");
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("email_taken", "That email address belongs to another account.");
    throw error;
  }
  if (isChange && row.oldEmail) ctx.email.send(row.oldEmail, accountEmails.addressChanged(row.newEmail!));
}

/**
 * Deletion (policy §7): revokes every sign-in at once and erases the personal fields; the id
 * stays as a pseudonym for what billing law requires us to keep (policy §6).
 */
export async function deleteAccount(ctx: DomainContext, userId: string, password: string): Promise<void> {
  const user = await findUser(ctx, userId);
  if (!(await verifyPassword(password, user.passwordHash, ctx.config))) throw new AppError("current_password_incorrect");
  const now = ctx.clock.now();
  await ctx.db.batch([
    ctx.db
      .update(users)
      .set({ deletedAt: now, username: `deleted-${user.id}`, email: null, passwordHash: null })
      .where(and(eq(users.id, userId), isNull(users.deletedAt))),
    ctx.db
      .update(loginSessions)
      .set({ revokedAt: now, revokedReason: "account_deleted" })
      .where(and(eq(loginSessions.userId, userId), isNull(loginSessions.revokedAt))),
    ctx.db.delete(singleUseTokens).where(eq(singleUseTokens.userId, userId)),
    // Nothing of a deleted account keeps running or stays on a host: the workspace is marked for
    // deletion with the account, so if the host cannot be reached now (or this Worker stops
    // midway) the reconcile job finishes it. A workspace in cold storage or in transfer is
    // destroyed below; if that fails, the workspace-retention job finishes it (finishLeftoverDeletions).
    ctx.db
      .update(workspaces)
      .set({ state: "deleting" })
      .where(and(eq(workspaces.userId, userId), eq(workspaces.state, "hot"))),
    eraseBillingDetails(ctx, userId),
    auditEvent(ctx, userId, "account_deleted"),
  ]);
  if (user.email) ctx.email.send(user.email, accountEmails.accountDeleted());
  cancelSubscriptionOfDeletedAccount(ctx, userId);
  // The live session ends and the volume goes now when the host answers; the account's deletion
  // never waits on, or fails with, a GPU host.
  ctx.waitUntil(
    destroyWorkspace(ctx, userId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "not_found") return; // no workspace
      ctx.log.warn("account_workspace_left_for_reconcile", { code: error instanceof AppError ? error.code : "internal" });
    }),
  );
}

