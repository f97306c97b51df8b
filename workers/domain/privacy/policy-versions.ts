/**
 * Policy versions (policy §11): the current one is the newest published to D1, or the built-in
 * version when none is newer. An admin publishes a version; a material one is emailed, by the
 * policy-notices cron job, to every live account with a verified address, once each.
 */
import { and, desc, eq, isNotNull, isNull, lt, notExists, sql } from "drizzle-orm";
import { policyNotices, policyVersions, users } from "../../../schema";
import { noticeEmails } from "../../adapters/email";
import { auditEvent, auditEventWhere } from "../audit";
import { actingUserId, type DomainContext } from "../context";
import { isUniqueViolation } from "../db";
import { AppError, fieldError } from "../errors";
import { requireAdmin } from "../owned";
import { CURRENT_POLICY_VERSION } from "./policy";
import { CURRENT_POLICY_TEXT } from "./policy-text";

/** Where the text of the current version is served (workers/api/routes/meta.ts). */
export const POLICY_PATH = "/privacy";

/** A tick that claimed a notice and died before sending it leaves it to a tick this much later. */
export const NOTICE_CLAIM_TIMEOUT_MS = 10 * 60_000;

export interface PolicyVersion {
  version: string;
  publishedAt: Date;
  material: boolean;
  summary: string;
  text: string;
  /** The merger, acquisition or sale of assets this version announces (policy §4), or null. */
  transfer: string | null;
}

/** The version users accepted before any was published to D1: the policy the code was written to. */
const BUILT_IN: PolicyVersion = {
  version: CURRENT_POLICY_VERSION,
  publishedAt: new Date(`${CURRENT_POLICY_VERSION}T00:00:00Z`),
  material: false,
  summary: "The first published version.",
  text: CURRENT_POLICY_TEXT,
  transfer: null,
};

export async function currentPolicy(ctx: DomainContext): Promise<PolicyVersion> {
  const [newest] = await ctx.db.select().from(policyVersions).orderBy(desc(policyVersions.version)).limit(1);
  return newest && newest.version >= BUILT_IN.version ? newest : BUILT_IN;
}

/** The newest published version as a subquery, for a caller that reads it in its own statement. */
export const newestPolicyVersion = sql<string | null>`(select max(${policyVersions.version}) from ${policyVersions})`;

/** The current version given the newest published one (currentPolicy without the read). */
export const currentPolicyVersion = (newestPublished: string | null) =>
  newestPublished !== null && newestPublished >= BUILT_IN.version ? newestPublished : BUILT_IN.version;

/** Newest first, the built-in version included. */
export async function listPolicyVersions(ctx: DomainContext): Promise<PolicyVersion[]> {
  await requireAdmin(ctx);
  const rows = await ctx.db.select().from(policyVersions).orderBy(desc(policyVersions.version));
  return rows.some((r) => r.version === BUILT_IN.version) ? rows : [...rows, BUILT_IN].sort((a, b) => b.version.localeCompare(a.version));
}

export type NewPolicyVersion = Omit<PolicyVersion, "publishedAt">;

/** A version is newer than the current one or refused: publishing one twice is a conflict, never two email rounds. */
export async function publishPolicyVersion(ctx: DomainContext, input: NewPolicyVersion): Promise<PolicyVersion> {
  await requireAdmin(ctx);
  const current = await currentPolicy(ctx);
  if (input.version === current.version) throw new AppError("policy_version_exists", `Version ${input.version} is already published.`);
  if (input.version < current.version) throw new AppError("policy_version_exists", `Version ${input.version} is older than the current version ${current.version}.`);
  // Policy §4 promises every user is told of a business transfer: the notice goes only with a material version.
  if (input.transfer !== null && !input.material) throw fieldError("material", "A version announcing a business transfer is a material change: it is emailed to every account.");
  const row = { ...input, publishedAt: ctx.clock.now() };
  try {
    await ctx.db.batch([ctx.db.insert(policyVersions).values(row), auditEvent(ctx, actingUserId(ctx.actor)!, "policy_published", { version: input.version, material: input.material, transfer: input.transfer !== null })]);
  } catch (error) {
    // Two admins publishing the same version at once: one wins.
    if (isUniqueViolation(error)) throw new AppError("policy_version_exists", `Version ${input.version} is already published.`);
    throw error;
  }
  return row;
}

/** Only the current version can be accepted: accepting an old one would record consent to text no longer in force. */
export async function acceptPolicy(ctx: DomainContext, userId: string, version: string): Promise<void> {
  const current = await currentPolicy(ctx);
  if (version !== current.version) throw fieldError("version", `Accept the current privacy policy (version ${current.version}).`);
  const live = and(eq(users.id, userId), isNull(users.deletedAt));
  const now = ctx.clock.now();
  await ctx.db.batch([auditEventWhere(ctx, userId, "policy_accepted", { version }, live), ctx.db.update(users).set({ policyVersion: version, policyAcceptedAt: now }).where(live)]);
}

/**
 * One cron tick of a material version's notices: claims up to the batch size in D1 first (insert
 * or ignore on the (user, version) key, so overlapping ticks claim disjoint accounts), sends only
 * what this tick claimed, then marks it sent. A claim older than the timeout and still unsent is
 * taken again: a tick that died midway is resumed by a later one without emailing anyone twice.
 */
export async function sendPolicyNotices(ctx: DomainContext): Promise<{ version: string | null; sent: number }> {
  const current = await currentPolicy(ctx);
  if (!current.material) return { version: null, sent: 0 };
  const now = ctx.clock.now();
  const limit = ctx.config.policyNoticeBatch;
  const reclaimed = await ctx.db
    .update(policyNotices)
    .set({ claimedAt: now })
    .where(
      and(
        eq(policyNotices.version, current.version),
        isNull(policyNotices.sentAt),
        lt(policyNotices.claimedAt, new Date(now.getTime() - NOTICE_CLAIM_TIMEOUT_MS)),
        sql`${policyNotices.userId} in (select ${policyNotices.userId} from ${policyNotices} where ${policyNotices.version} = ${current.version} and ${policyNotices.sentAt} is null limit ${limit})`,
      ),
    )
    .returning({ userId: policyNotices.userId });
  const fresh = await ctx.db
    .insert(policyNotices)
    .select(
      ctx.db
        .select({ userId: users.id, version: sql<string>`${current.version}`.as("version"), claimedAt: sql<number>`${now.getTime()}`.as("claimed_at"), sentAt: sql<null>`null`.as("sent_at") })
        .from(users)
        .where(
          and(
            isNull(users.deletedAt),
            isNotNull(users.emailVerifiedAt),
            isNotNull(users.email),
            notExists(ctx.db.select({ one: sql`1` }).from(policyNotices).where(and(eq(policyNotices.userId, users.id), eq(policyNotices.version, current.version)))),
          ),
        )
        .limit(Math.max(0, limit - reclaimed.length)),
    )
    .onConflictDoNothing()
    .returning({ userId: policyNotices.userId });
  const claimed = [...reclaimed, ...fresh].map((r) => r.userId);
  if (claimed.length === 0) return { version: current.version, sent: 0 };
  const recipients = await ctx.db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(and(sql`${users.id} in (select value from json_each(${JSON.stringify(claimed)}))`, isNull(users.deletedAt), isNotNull(users.emailVerifiedAt)));
  const url = `${ctx.config.appUrl}${POLICY_PATH}`;
  const email =
    current.transfer === null ? noticeEmails.policyChanged(current.version, current.summary, url) : noticeEmails.businessTransfer(current.version, current.transfer, current.summary, url);
  for (const r of recipients) if (r.email) ctx.email.send(r.email, email);
  await ctx.db
    .update(policyNotices)
    .set({ sentAt: now })
    .where(and(eq(policyNotices.version, current.version), sql`${policyNotices.userId} in (select value from json_each(${JSON.stringify(claimed)}))`));
  return { version: current.version, sent: recipients.length };
}
