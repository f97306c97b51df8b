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

/**
 * Unused tokens of these purposes stop working (a newer one replaces them, or the owner locked an
 * intruder out); with `when`, only if that holds when the batch runs.
 */
export const discardTokens = (ctx: DomainContext, userId: string, purposes: TokenPurpose[], when?: SQL) =>
  ctx.db.delete(singleUseTokens).where(and(eq(singleUseTokens.userId, userId), inArray(singleUseTokens.purpose, purposes), isNull(singleUseTokens.usedAt), when));

/**
 * Marks a token used: put it FIRST in the batch of its effect, and condition the effect on
 * `consumedNow`, so two concurrent uses apply once. Returns the row only to the use that won.
 */
export const consumeToken = (ctx: DomainContext, tokenHash: string, now: Date) =>
  ctx.db
    .update(singleUseTokens)
    .set({ usedAt: now })
    .where(and(eq(singleUseTokens.tokenHash, tokenHash), isNull(singleUseTokens.usedAt)))
    .returning({ tokenHash: singleUseTokens.tokenHash });

/** True inside a batch once its `consumeToken` marked this token used (`used_at = now` only by that batch). */
export const consumedNow = (tokenHash: string, now: Date) =>
  sql`exists (select 1 from ${singleUseTokens} where ${singleUseTokens.tokenHash} = ${tokenHash} and ${singleUseTokens.usedAt} = ${now.getTime()})`;
