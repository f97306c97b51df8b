import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { loginSessions, refreshTokens, singleUseTokens, users } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import { auditEvent } from "../audit";
import { afterResponse, type DomainContext } from "../context";
import { newId } from "../db";
import { AppError } from "../errors";
import { findUser, type User } from "../owned";
import { checkNewPassword, hashPassword, verifyPassword } from "./passwords";
import { liveSignIn, revokeSignIns } from "./sign-ins";
import { consumedNow, consumeToken, discardTokens, link, RESET_TTL_MS, singleUseToken } from "./single-use";
import { ACCESS_TOKEN_TTL_S, hashToken, LOGIN_SESSION_TTL_MS, newOpaqueToken, REFRESH_TOKEN_TTL_MS, signAccessToken, verifyAccessToken } from "./tokens";

export interface TokenPair {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string;
}

async function tokenPair(ctx: DomainContext, userId: string, loginSessionId: string, refreshToken: string): Promise<TokenPair> {
  const accessToken = await signAccessToken(ctx.config, { userId, loginSessionId }, ctx.clock.now());
  return { accessToken, tokenType: "Bearer", expiresIn: ACCESS_TOKEN_TTL_S, refreshToken };
}

/** A new sign-in (login session) with its first refresh token, as statements for one batch. */
function newLoginSession(ctx: DomainContext, userId: string) {
  const now = ctx.clock.now();
  const id = newId();
  const refreshToken = newOpaqueToken();
  const expiresAt = new Date(now.getTime() + LOGIN_SESSION_TTL_MS);
  return {
    id,
    refreshToken,
    statements: [
      ctx.db.insert(loginSessions).values({ id, userId, createdAt: now, lastUsedAt: now, expiresAt }),
      ctx.db.insert(refreshTokens).values({
        tokenHash: hashToken(refreshToken),
        loginSessionId: id,
        userId,
        createdAt: now,
        expiresAt: new Date(Math.min(now.getTime() + REFRESH_TOKEN_TTL_MS, expiresAt.getTime())),
      }),
    ] as const,
  };
}

/** Live account by username or email address. */
async function findByLogin(ctx: DomainContext, login: string): Promise<User | undefined> {
  const column = login.includes("@") ? users.email : users.username;
  return ctx.db.query.users.findFirst({ where: and(eq(column, login), isNull(users.deletedAt)) });
}

/** Same status, body and (one bcrypt) cost whether the account exists or not. */
export async function login(
  ctx: DomainContext,
  input: { login: string; password: string },
  limitAccount: (accountKey: string) => Promise<void>,
): Promise<TokenPair> {
  const user = await findByLogin(ctx, input.login);
  await limitAccount(user?.id ?? input.login);
  const ok = await verifyPassword(input.password, user?.passwordHash, ctx.config);
  if (!user || !ok) {
    // Off the response path: an unknown account has nothing to record, and must not answer faster.
    if (user) afterResponse(ctx, "audit_login_failed", () => auditEvent(ctx, user.id, "login_failed").run());
    throw new AppError("invalid_credentials", "The username, email or password is not correct.");
  }
  const session = newLoginSession(ctx, user.id);
  await ctx.db.batch([
    ...session.statements,
    ctx.db.update(users).set({ lastActiveAt: ctx.clock.now() }).where(eq(users.id, user.id)),
    auditEvent(ctx, user.id, "login", { loginSessionId: session.id }),
  ]);
  return tokenPair(ctx, user.id, session.id, session.refreshToken);
}

/**
 * Rotation: each refresh token works once. Presenting a used one means it was stolen (or
 * replayed), so the whole family (the login session) is revoked.
 */
export async function refresh(ctx: DomainContext, refreshToken: string): Promise<TokenPair> {
  const now = ctx.clock.now();
  const oldHash = hashToken(refreshToken);
  const next = newOpaqueToken();
  const nextExpiry = now.getTime() + REFRESH_TOKEN_TTL_MS;
  // One batch (a transaction): the new token is inserted only if the old one is unused, unexpired,
  // and its login session and account are live; then the old one is marked used. Query builders,
  // not `db.run(sql)`: drizzle's D1 batch cannot bind the parameters of a raw statement.
  const [inserted] = await ctx.db.batch([
    ctx.db.insert(refreshTokens).select(sql`
      select ${hashToken(next)}, r.login_session_id, r.user_id, ${now.getTime()}, min(${nextExpiry}, s.expires_at), null
      from ${refreshTokens} r
      join ${loginSessions} s on s.id = r.login_session_id
      join ${users} u on u.id = r.user_id
      where r.token_hash = ${oldHash} and r.used_at is null and r.expires_at > ${now.getTime()}
        and s.revoked_at is null and s.expires_at > ${now.getTime()} and u.deleted_at is null`),
    ctx.db.update(refreshTokens).set({ usedAt: now }).where(and(eq(refreshTokens.tokenHash, oldHash), isNull(refreshTokens.usedAt))),
  ]);
  const row = await ctx.db
    .select({ loginSessionId: refreshTokens.loginSessionId, userId: refreshTokens.userId, usedAt: refreshTokens.usedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, oldHash))
    .get();
  if (!row) throw new AppError("unauthorized", "The refresh token is not valid.");
  if (inserted.meta.changes !== 1) {
    if (row.usedAt && row.usedAt.getTime() !== now.getTime()) {
      const revoked = await revokeSignIns(ctx, eq(loginSessions.id, row.loginSessionId), "refresh_token_reuse", now)
        .returning({ id: loginSessions.id });
      if (revoked.length > 0) await auditEvent(ctx, row.userId, "refresh_reuse_detected", { loginSessionId: row.loginSessionId });
    }
    throw new AppError("unauthorized", "The refresh token is not valid.");
  }
  await ctx.db.batch([
    ctx.db.update(loginSessions).set({ lastUsedAt: now }).where(eq(loginSessions.id, row.loginSessionId)),
    ctx.db.update(users).set({ lastActiveAt: now }).where(eq(users.id, row.userId)),
  ]);
  return tokenPair(ctx, row.userId, row.loginSessionId, next);
}

export interface Principal {
  user: User;
  loginSessionId: string;
}

const ACTIVITY_RESOLUTION_MS = 3_600_000;

/** Verifies the access token and that its login session is still live (logout, password change, deletion revoke). */
export async function authenticate(ctx: DomainContext, accessToken: string): Promise<Principal> {
  const now = ctx.clock.now();
  const claims = await verifyAccessToken(ctx.config, accessToken, now);
  const user = await liveSignIn(ctx, claims.loginSessionId, claims.userId);
  if (!user) throw new AppError("unauthorized", "The sign-in has ended; sign in again.");
  // Last activity feeds workspace retention (policy §6); hourly resolution keeps writes rare, and
  // the write runs after the answer. The remembered copy moves on too, so a burst writes once.
  if (now.getTime() - user.lastActiveAt.getTime() > ACTIVITY_RESOLUTION_MS) {
    user.lastActiveAt = now;
    ctx.waitUntil(ctx.db.update(users).set({ lastActiveAt: now }).where(eq(users.id, user.id)).run());
  }
  return { user, loginSessionId: claims.loginSessionId };
}

export async function logout(ctx: DomainContext, principal: Principal): Promise<void> {
  await ctx.db.batch([
    revokeSignIns(ctx, and(eq(loginSessions.id, principal.loginSessionId), eq(loginSessions.userId, principal.user.id)), "logout"),
    auditEvent(ctx, principal.user.id, "logout", { loginSessionId: principal.loginSessionId }),
  ]);
}

/** Same answer whether or not the address has an account. */
export async function requestPasswordReset(ctx: DomainContext, email: string): Promise<void> {
  const user = await ctx.db.query.users.findFirst({ where: and(eq(users.email, email), isNull(users.deletedAt)) });
  if (!user?.email) return;
  const address = user.email;
  // Off the response path, so an address without an account answers after the same work.
  afterResponse(ctx, "password_reset_request", async () => {
    const reset = singleUseToken(ctx, user.id, "reset_password", RESET_TTL_MS);
    await ctx.db.batch([reset.insert, auditEvent(ctx, user.id, "password_reset_requested")]);
    ctx.email.send(address, accountEmails.passwordReset(link(ctx, "/reset-password", reset.token)));
  });
}

/** Sets a new password and ends every sign-in. Proves control of the address, so it verifies it too. */
export async function confirmPasswordReset(ctx: DomainContext, input: { token: string; password: string }): Promise<void> {
  const now = ctx.clock.now();
  const tokenHash = hashToken(input.token);
  const row = await ctx.db
    .select({ user: users })
    .from(singleUseTokens)
    .innerJoin(users, eq(users.id, singleUseTokens.userId))
    .where(
      and(
        eq(singleUseTokens.tokenHash, tokenHash),
        eq(singleUseTokens.purpose, "reset_password"),
        isNull(singleUseTokens.usedAt),
        gt(singleUseTokens.expiresAt, now),
        isNull(users.deletedAt),
      ),
    )
    .get();
  if (!row) throw new AppError("token_invalid");
  const { user } = row;
  checkNewPassword(input.password, "password", { username: user.username, email: user.email ?? undefined });
  const passwordHash = await hashPassword(input.password, ctx.config);
  const applies = consumedNow(tokenHash, now);
  const [consumed] = await ctx.db.batch([
    consumeToken(ctx, tokenHash, now),
    ctx.db
      .update(users)
      .set({ passwordHash, emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now.getTime()})` })
      .where(and(eq(users.id, user.id), applies)),
    revokeSignIns(ctx, and(eq(loginSessions.userId, user.id), applies), "password_reset", now),
    // Every other link dies: an email change the intruder asked for, and older reset links.
    discardTokens(ctx, user.id, ["change_email", "reset_password"], applies),
    auditEvent(ctx, user.id, "password_reset"),
  ]);
  if (consumed.length === 0) throw new AppError("token_invalid");
  if (user.email) ctx.email.send(user.email, accountEmails.passwordChanged());
}

/** Needs the current password; ends every sign-in (the caller's too) and returns a fresh one. */
export async function changePassword(ctx: DomainContext, principal: Principal, input: { currentPassword: string; newPassword: string }): Promise<TokenPair> {
  const user = await findUser(ctx, principal.user.id);
  if (!(await verifyPassword(input.currentPassword, user.passwordHash, ctx.config))) throw new AppError("current_password_incorrect");
  checkNewPassword(input.newPassword, "newPassword", { username: user.username, email: user.email ?? undefined });
  const passwordHash = await hashPassword(input.newPassword, ctx.config);
  const session = newLoginSession(ctx, user.id);
  await ctx.db.batch([
    ctx.db.update(users).set({ passwordHash }).where(and(eq(users.id, user.id), isNull(users.deletedAt))),
    revokeSignIns(ctx, eq(loginSessions.userId, user.id), "password_changed"),
    discardTokens(ctx, user.id, ["change_email", "reset_password"]),
    ...session.statements,
    auditEvent(ctx, user.id, "password_changed"),
  ]);
  if (user.email) ctx.email.send(user.email, accountEmails.passwordChanged());
  return tokenPair(ctx, user.id, session.id, session.refreshToken);
}
