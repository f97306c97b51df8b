/** Single-use tokens (email verification, change and revert, password reset): stored as hashes, sent as links to the website. */
import { and, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import { singleUseTokens, type TokenPurpose } from "../../../schema";
import type { DomainContext } from "../context";
import { hashToken, newOpaqueToken } from "./tokens";

export const VERIFY_TTL_MS = 24 * 3_600_000;

export const RESET_TTL_MS = 3_600_000;

/** The old address may not be read for days (a holiday): long enough to undo a takeover on return. */
export const REVERT_TTL_MS = 7 * 24 * 3_600_000;

export const link = (ctx: DomainContext, path: string, token: string) => `${ctx.config.appUrl}${path}#token=${token}`;

/**
 * A new single-use token row (stored as a hash) and the token to put in the email. With `when`,
 * the row is written only if that condition holds when its batch runs (a token issued by a change
 * that may lose a race).
 */
export function singleUseToken(ctx: DomainContext, userId: string, purpose: TokenPurpose, ttlMs: number, options: { newEmail?: string; when?: SQL } = {}) {
  const token = newOpaqueToken();
  const now = ctx.clock.now();
  const row = { tokenHash: hashToken(token), userId, purpose, newEmail: options.newEmail ?? null, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) };
  const insert =
    options.when === undefined
      ? ctx.db.insert(singleUseTokens).values(row)
      : ctx.db
          .insert(singleUseTokens)
          .select(
            sql`select ${row.tokenHash}, ${userId}, ${purpose}, ${row.newEmail}, ${now.getTime()}, ${row.expiresAt.getTime()}, null where ${options.when}`,
          );
  return { token, insert };
}

/** Unused tokens of these purposes stop working (a newer one replaces them, or the owner locked an intruder out). */
export const discardTokens = (ctx: DomainContext, userId: string, ...purposes: TokenPurpose[]) =>
  ctx.db.delete(singleUseTokens).where(and(eq(singleUseTokens.userId, userId), inArray(singleUseTokens.purpose, purposes), isNull(singleUseTokens.usedAt)));
