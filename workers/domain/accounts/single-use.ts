/** Single-use tokens (email verification and change, password reset): stored as hashes, sent as links to the website. */
import { singleUseTokens } from "../../../schema";
import type { DomainContext } from "../context";
import { hashToken, newOpaqueToken } from "./tokens";

export const VERIFY_TTL_MS = 24 * 3_600_000;

export const RESET_TTL_MS = 3_600_000;

export const link = (ctx: DomainContext, path: string, token: string) => `${ctx.config.appUrl}${path}#token=${token}`;

/** A new single-use token row (stored as a hash) and the token to put in the email. */
export function singleUseToken(ctx: DomainContext, userId: string, purpose: (typeof singleUseTokens.$inferInsert)["purpose"], ttlMs: number, newEmail?: string) {
  const token = newOpaqueToken();
  const now = ctx.clock.now();
  const insert = ctx.db.insert(singleUseTokens).values({
    tokenHash: hashToken(token),
    userId,
    purpose,
    newEmail: newEmail ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlMs),
  });
  return { token, insert };
}
