import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import {
  billingAccounts,
  loginSessions,
  policyNotices,
  privacyRequests,
  type Role,
  singleUseTokens,
  sshKeys,
  type UsageLimitAction,
  users,
  workspaces,
} from "../../../schema";
import { accountEmails, type Email } from "../../adapters/email";
import { type AccountEventType, auditEvent, auditEventWhere } from "../audit";
import { closeBillingAccount, queueCustomerEmailUpdate } from "../billing";
import { forgetDeletedAccountsLines } from "../access-logs";
import { afterResponse, type DomainContext } from "../context";
import { isUniqueViolation, preparedQuery } from "../db";
import { AppError, fieldError } from "../errors";
import { findUser, noUser, type User } from "../owned";
import { type Entitlement, type SubscriptionStanding, entitlementOf } from "../plans";
import { completeOwnRequests, currentPolicyVersion, newestPolicyVersion } from "../privacy";
import { setUsageLimit } from "../usage";
import { destroyWorkspace } from "../workspaces";
import { verifyPassword } from "./passwords";
import { consumedNow, consumeToken, discardTokens, link, RESET_TTL_MS, REVERT_TTL_MS, singleUseToken, VERIFY_TTL_MS } from "./single-use";
import { revokeSignIns } from "./sign-ins";
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
  policy: { acceptedVersion: string; acceptedAt: string; currentVersion: string; newerAvailable: boolean };
  /** Unverified accounts may sign in but not start GPU sessions: the state is visible here. */
  canStartSessions: boolean;
  restrictions: string[];
  usageLimitHours: number | null;
  usageLimitAction: UsageLimitAction;
  /** Policy §7 objections in force. */
  privacy: { aggregateAnalysisObjectedAt: string | null };
}

/** One statement: the live account, its pending address change, its subscription standing and the newest policy version. */
const accountQuery = preparedQuery((db) => {
  const pending = db
    .select({ newEmail: singleUseTokens.newEmail })
    .from(singleUseTokens)
    .where(
      and(
        eq(singleUseTokens.userId, sql.placeholder("userId")),
        eq(singleUseTokens.purpose, "change_email"),
        isNull(singleUseTokens.usedAt),
        gt(singleUseTokens.expiresAt, sql.placeholder("now")),
      ),
    )
    .orderBy(sql`${singleUseTokens.createdAt} desc`)
    .limit(1);
  return db
    .select({
      user: users,
      pendingEmail: sql<string | null>`(${pending})`,
      newestPolicyVersion,
      billing: { userId: billingAccounts.userId, status: billingAccounts.subscriptionStatus, planId: billingAccounts.planId, pastDueSince: billingAccounts.pastDueSince },
    })
    .from(users)
    .leftJoin(billingAccounts, eq(billingAccounts.userId, users.id))
    .where(and(eq(users.id, sql.placeholder("userId")), isNull(users.deletedAt)))
    .prepare();
});

export async function getAccount(ctx: DomainContext, userId: string): Promise<AccountView> {
  const row = await accountQuery(ctx.db).get({ userId, now: ctx.clock.now().getTime() });
  if (!row) throw noUser();
  const subscription = row.billing ? { status: row.billing.status, planId: row.billing.planId, pastDueSince: row.billing.pastDueSince } : null;
  return toView(row.user, row.pendingEmail, entitlementOf(ctx, row.user, subscription), currentPolicyVersion(row.newestPolicyVersion));
}

function toView(user: User, pendingEmail: string | null, { plan, restrictions, subscription }: Entitlement & { subscription: SubscriptionStanding | null }, currentVersion: string): AccountView {
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
    policy: {
      acceptedVersion: user.policyVersion,
      acceptedAt: (user.policyAcceptedAt ?? user.createdAt).toISOString(),
      currentVersion,
      // Versions are ISO dates: string order is date order.
      newerAvailable: currentVersion > user.policyVersion,
    },
    canStartSessions: restrictions.length === 0,
    restrictions,
    usageLimitHours: user.usageLimitHours,
    usageLimitAction: user.usageLimitAction,
    privacy: { aggregateAnalysisObjectedAt: user.analysisObjectedAt?.toISOString() ?? null },
  };
}

export interface AccountPatch {
  username?: string;
  email?: string;
  usageLimitHours?: number | null;
  usageLimitAction?: UsageLimitAction;
  /** Needed to change the username or the email: a stolen access token alone cannot take the account. */
  currentPassword?: string;
}

/** Correction (policy §7): a new username applies at once; a new email once verified at that address. */
export async function updateAccount(ctx: DomainContext, userId: string, patch: AccountPatch): Promise<AccountView> {
  const user = await findUser(ctx, userId);
  if (patch.username !== undefined || patch.email !== undefined) {
    if (patch.currentPassword === undefined) throw fieldError("currentPassword", "Send your current password to change your username or email.");
    if (!(await verifyPassword(patch.currentPassword, user.passwordHash, ctx.config))) throw new AppError("current_password_incorrect");
  }
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
    await discardTokens(ctx, userId, ["change_email"]).run();
  } else if (patch.email !== undefined) {
    // Only the latest change may complete.
    const change = singleUseToken(ctx, userId, "change_email", VERIFY_TTL_MS, { newEmail: patch.email });
    await ctx.db.batch([discardTokens(ctx, userId, ["change_email"]), change.insert, auditEvent(ctx, userId, "email_change_requested")]);
    ctx.email.send(patch.email, accountEmails.changeAddress(link(ctx, "/verify-email", change.token)));
  }
  if (patch.usageLimitHours !== undefined || patch.usageLimitAction !== undefined) {
    await setUsageLimit(ctx, user, { hours: patch.usageLimitHours, action: patch.usageLimitAction });
  }
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
  const isChange = row.purpose === "change_email" && row.newEmail;
  const applies = consumedNow(row.tokenHash, now);
  // The old address can undo the change: whoever changed it may hold the account otherwise.
  const revert = isChange && row.oldEmail ? singleUseToken(ctx, row.userId, "revert_email", REVERT_TTL_MS, { newEmail: row.oldEmail, when: applies }) : undefined;
  try {
    const [consumed] = await ctx.db.batch([
      consumeToken(ctx, row.tokenHash, now),
      ctx.db
        .update(users)
        .set(isChange ? { email: row.newEmail, emailVerifiedAt: now } : { emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.getTime()})` })
        .where(and(eq(users.id, row.userId), applies)),
      ...(revert ? [revert.insert] : []),
      // Correction (policy §7) reaches Stripe, which holds the address (§4).
      ...(isChange && row.newEmail ? [queueCustomerEmailUpdate(ctx, row.userId, row.newEmail, applies)] : []),
      auditEvent(ctx, row.userId, isChange ? "email_changed" : "email_verified"),
    ]);
    if (consumed.length === 0) throw new AppError("token_invalid");
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("email_taken", "That email address belongs to another account.");
    throw error;
  }
  if (revert && row.oldEmail) ctx.email.send(row.oldEmail, accountEmails.addressChanged(row.newEmail!, link(ctx, "/revert-email", revert.token)));
  if (isChange) await completeOwnRequests(ctx, row.userId, ["correction"], row.newEmail);
}

/**
 * The old address undoes an email change from the notice's link: it becomes the account's address
 * again, every sign-in ends, and the password stops working (whoever made the change knew it),
 * so the owner sets a new one from the reset link sent to the restored address.
 */
export async function revertEmailChange(ctx: DomainContext, token: string): Promise<void> {
  const now = ctx.clock.now();
  const row = await ctx.db
    .select({ tokenHash: singleUseTokens.tokenHash, restored: singleUseTokens.newEmail, userId: users.id })
    .from(singleUseTokens)
    .innerJoin(users, eq(users.id, singleUseTokens.userId))
    .where(
      and(
        eq(singleUseTokens.tokenHash, hashToken(token)),
        eq(singleUseTokens.purpose, "revert_email"),
        isNull(singleUseTokens.usedAt),
        gt(singleUseTokens.expiresAt, now),
        isNull(users.deletedAt),
      ),
    )
    .get();
  if (!row?.restored) throw new AppError("token_invalid");
  const applies = consumedNow(row.tokenHash, now);
  const reset = singleUseToken(ctx, row.userId, "reset_password", RESET_TTL_MS, { when: applies });
  try {
    const [consumed] = await ctx.db.batch([
      consumeToken(ctx, row.tokenHash, now),
      ctx.db
        .update(users)
        .set({ email: row.restored, emailVerifiedAt: now, passwordHash: null })
        .where(and(eq(users.id, row.userId), isNull(users.deletedAt), applies)),
      revokeSignIns(ctx, and(eq(loginSessions.userId, row.userId), applies), "email_change_reverted", now),
      // Links the other address asked for (a reset, a further change) die with the change.
      discardTokens(ctx, row.userId, ["change_email", "reset_password", "verify_email"], applies),
      reset.insert,
      queueCustomerEmailUpdate(ctx, row.userId, row.restored, applies),
      auditEventWhere(ctx, row.userId, "email_change_reverted", {}, and(eq(users.id, row.userId), applies)),
    ]);
    if (consumed.length === 0) throw new AppError("token_invalid");
  } catch (error) {
    // Someone else took the old address meanwhile: nothing changed, the owner contacts support.
    if (isUniqueViolation(error)) throw new AppError("email_taken", "That email address now belongs to another account; contact privacy@ozekai.dev.");
    throw error;
  }
  ctx.email.send(row.restored, accountEmails.emailChangeReverted(link(ctx, "/reset-password", reset.token)));
}

export interface ErasureReason {
  audit: Extract<AccountEventType, "account_deleted" | "account_deleted_minor">;
  detail?: Record<string, string>;
  notice: Email;
}

const SELF_DELETION: ErasureReason = { audit: "account_deleted", notice: accountEmails.accountDeleted() };

/** Self-service deletion: the account's own password stands for the user's consent. */
export async function deleteAccount(ctx: DomainContext, userId: string, password: string): Promise<void> {
  const user = await findUser(ctx, userId);
  if (!(await verifyPassword(password, user.passwordHash, ctx.config))) throw new AppError("current_password_incorrect");
  await eraseAccount(ctx, user);
}

/**
 * Deletion (policy §7): revokes every sign-in at once and erases the personal fields — of the
 * account (its dates become the deletion time), of the access logs it can be tied to (IP, user
 * agent), and of billing — all in one batch with the outbox row that makes Stripe cancel the
 * subscription and delete the customer. The id stays as a pseudonym for what billing law
 * requires us to keep (policy §6; the inventory's `onDeletion: "keep"` tables).
 *
 * The one deletion path, whoever asks for it (the user, or an admin for an account that must not
 * exist, such as a minor's): callers decide whether the deletion is allowed, and say how it is
 * audited and which notice the address gets (sent before the address is erased).
 */
export async function eraseAccount(ctx: DomainContext, user: User, reason: ErasureReason = SELF_DELETION): Promise<void> {
  const userId = user.id;
  const now = ctx.clock.now();
  await ctx.db.batch([
    ctx.db
      .update(users)
      .set({
        deletedAt: now,
        username: `deleted-${user.id}`,
        email: null,
        passwordHash: null,
        role: "user",
        planId: null,
        createdAt: now,
        emailVerifiedAt: null,
        lastActiveAt: now,
        ageConfirmedAt: now,
        usageLimitHours: null,
        usageLimitAction: "notify",
        usageAlertMonth: null,
        usageAlertPercent: null,
        analysisObjectedAt: null,
        policyAcceptedAt: null,
      })
      .where(and(eq(users.id, userId), isNull(users.deletedAt))),
    revokeSignIns(ctx, eq(loginSessions.userId, userId), "account_deleted", now),
    ctx.db.delete(singleUseTokens).where(eq(singleUseTokens.userId, userId)),
    ctx.db.delete(policyNotices).where(eq(policyNotices.userId, userId)),
    ctx.db.delete(sshKeys).where(eq(sshKeys.userId, userId)),
    // Nothing of a deleted account keeps running or stays on a host: the workspace is marked for
    // deletion with the account, so if the host cannot be reached now (or this Worker stops
    // midway) the reconcile job finishes it. A workspace in cold storage or in transfer is
    // destroyed below; if that fails, the workspace-retention job finishes it (finishLeftoverDeletions).
    ctx.db
      .update(workspaces)
      .set({ state: "deleting" })
      .where(and(eq(workspaces.userId, userId), eq(workspaces.state, "hot"))),
    ...closeBillingAccount(ctx, userId, now),
    // The free text may say anything about the person; the request itself stays as proof it was answered.
    ctx.db.update(privacyRequests).set({ message: null }).where(eq(privacyRequests.userId, userId)),
    auditEvent(ctx, userId, reason.audit, reason.detail),
  ]);
  // The account's access-log lines (made signed in, or signed out but named by its audit rows: sign-up,
  // sign-in, verification) lose their IP and user agent in R2: started now, finished by the every-minute job.
  afterResponse(ctx, "access_log_forget", () => forgetDeletedAccountsLines(ctx));
  await completeOwnRequests(ctx, userId, ["deletion"], user.email);
  if (user.email) ctx.email.send(user.email, reason.notice);
  // The live session ends and the volume goes now when the host answers; the account's deletion
  // never waits on, or fails with, a GPU host.
  ctx.waitUntil(
    destroyWorkspace(ctx, userId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "not_found") return; // no workspace
      ctx.log.warn("account_workspace_left_for_reconcile", { code: error instanceof AppError ? error.code : "internal" });
    }),
  );
}

