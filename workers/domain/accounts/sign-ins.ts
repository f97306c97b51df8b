/**
 * Live sign-ins (login sessions): the check every authenticated request makes, and revocation.
 * A verified sign-in is remembered in this isolate for a few seconds, so a burst of requests costs
 * one D1 round trip instead of one each; a revocation made here forgets every remembered sign-in
 * at once, and one made in another isolate takes effect here within SIGN_IN_CACHE_MS.
 */
import { and, eq, gt, isNull, type SQL } from "drizzle-orm";
import { loginSessions, users } from "../../../schema";
import type { DomainContext } from "../context";
import type { User } from "../owned";

/** How stale a remembered sign-in may be: the longest a revocation in another isolate goes unseen. */
export const SIGN_IN_CACHE_MS = 5_000;
/** Bounds the isolate's memory; when full the map starts over rather than evicting one by one. */
const MAX_REMEMBERED = 10_000;

interface Remembered {
  user: User;
  checkedAt: number;
  sessionExpiresAt: number;
}

const remembered = new Map<string, Remembered>();

/** The live user of this login session, or undefined when the sign-in has ended (revoked, expired, account deleted). */
export async function liveSignIn(ctx: DomainContext, loginSessionId: string, userId: string): Promise<User | undefined> {
  const now = ctx.clock.now().getTime();
  const key = `${userId}:${loginSessionId}`;
  const hit = remembered.get(key);
  if (hit && now - hit.checkedAt < SIGN_IN_CACHE_MS && now >= hit.checkedAt && hit.sessionExpiresAt > now) return hit.user;
  const found = await ctx.db
    .select({ user: users, sessionExpiresAt: loginSessions.expiresAt })
    .from(loginSessions)
    .innerJoin(users, eq(users.id, loginSessions.userId))
    .where(and(eq(loginSessions.id, loginSessionId), eq(loginSessions.userId, userId), isNull(loginSessions.revokedAt), gt(loginSessions.expiresAt, new Date(now)), isNull(users.deletedAt)))
    .get();
  if (!found) {
    remembered.delete(key);
    return undefined;
  }
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(key, { user: found.user, checkedAt: now, sessionExpiresAt: found.sessionExpiresAt.getTime() });
  return found.user;
}

/**
 * Every revocation goes through here, as a statement for the caller's batch: `where` narrows
 * the live sign-ins to revoke (a user's, or one). Remembered sign-ins are forgotten now, before
 * the write, so no request in this isolate runs on one after the revocation commits.
 */
export function revokeSignIns(ctx: DomainContext, where: SQL | undefined, reason: string, now = ctx.clock.now()) {
  remembered.clear();
  return ctx.db.update(loginSessions).set({ revokedAt: now, revokedReason: reason }).where(and(isNull(loginSessions.revokedAt), where));
}
