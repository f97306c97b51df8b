/**
 * Usage metering (policy §1 usage data shared with Stripe under §4): each billed
 * session's time per whole clock hour becomes a `usage_records` row, then a Stripe billing meter
 * event whose identifier is the row's id (session + interval). A retried, repeated or overlapping
 * cron run makes the same rows (unique key) and sends the same identifiers, which Stripe accepts
 * once; `reported_at` says what Stripe has. Stripe down → the rows stay unreported and the next
 * tick catches up, within Stripe's 35-day window; older rows are marked expired and logged.
 * Only sessions of accounts with a Stripe subscription are metered: an admin-granted plan
 * (users.plan_id, operators and comp accounts) is not billed, nor is a deleted account (its billing
 * account is closed and its subscription canceled without a final invoice, decision record 0015).
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { billingAccounts, usageRecords } from "../../../schema";
import type { Stripe } from "../../adapters/stripe";
import type { DomainContext } from "../context";

export const HOUR_MS = 3_600_000;
/** Stripe accepts meter events whose timestamp lies within the past 35 days. */
export const STRIPE_METER_WINDOW_MS = 35 * 86_400_000;
/** Reported a little inside the window, so a slow call does not cross its edge. */
const WINDOW_MARGIN_MS = 10 * 60_000;
/** The Stripe meter's event name: the plan's metered price is tied to a meter with this name. */
export const METER_EVENT_NAME = "ozekai_session_seconds";
/** Bounded work per tick; the rest waits for the next one (oldest first). */
export const REPORT_BATCH = 500;
const INSERT_CHUNK = 10;

export const usageIdentifier = (sessionId: string, intervalStart: Date) => `ozekai-usage-${sessionId}-${intervalStart.getTime()}`;

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

interface BilledSession {
  id: string;
  userId: string;
  planId: string;
  startedAt: number;
  endedAt: number | null;
  lastEnd: number | null;
}

/** Makes the usage records of every closed clock hour not yet recorded, for billed sessions. */
export async function recordUsage(ctx: DomainContext): Promise<number> {
  const now = ctx.clock.now().getTime();
  const closedUntil = floorHour(now);
  const horizon = now - STRIPE_METER_WINDOW_MS - HOUR_MS;
  const { results } = await ctx.db.$client.prepare(
    `select s.id as id, s.user_id as userId, s.plan_id as planId, s.started_at as startedAt, s.ended_at as endedAt,
            (select max(r.interval_end) from usage_records r where r.session_id = s.id) as lastEnd
       from sessions s
       join billing_accounts b on b.user_id = s.user_id
       join users u on u.id = s.user_id
      where s.started_at is not null and s.started_at < ?1
        and b.stripe_subscription_id is not null and b.closed_at is null and u.plan_id is null
        and (s.ended_at is null or s.ended_at > ?2)`,
  )
    .bind(closedUntil, horizon)
    .all<BilledSession>();
  const rows: (typeof usageRecords.$inferInsert)[] = [];
  for (const s of results) {
    const end = Math.min(s.endedAt ?? closedUntil, closedUntil);
    for (let w = Math.max(s.lastEnd ?? 0, floorHour(s.startedAt)); w < end; w += HOUR_MS) {
      const seconds = Math.round((Math.min(w + HOUR_MS, end) - Math.max(w, s.startedAt)) / 1000);
      if (seconds <= 0) continue;
      const start = new Date(w);
      rows.push({ id: usageIdentifier(s.id, start), sessionId: s.id, userId: s.userId, planId: s.planId, intervalStart: start, intervalEnd: new Date(w + HOUR_MS), quantity: seconds, createdAt: new Date(now) });
    }
  }
  let made = 0;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const result = await ctx.db.insert(usageRecords).values(rows.slice(i, i + INSERT_CHUNK)).onConflictDoNothing();
    made += result.meta.changes;
  }
  return made;
}

const alreadyReported = (error: unknown) => {
  const e = error as { type?: string; code?: string; raw?: { code?: string } } | null;
  return e?.type === "StripeInvalidRequestError" && (e.code === "resource_already_exists" || e.raw?.code === "resource_already_exists");
};

export interface ReportResult {
  reported: number;
  expired: number;
  /** Left unreported because Stripe failed: the next tick tries again. */
  pending: number;
}

/** Sends unreported usage to Stripe's meter, oldest first; stops at the first Stripe failure. */
export async function reportUsage(ctx: DomainContext, stripe: Stripe): Promise<ReportResult> {
  const now = ctx.clock.now().getTime();
  const due = await ctx.db
    .select({ record: usageRecords, customerId: billingAccounts.stripeCustomerId })
    .from(usageRecords)
    .innerJoin(billingAccounts, and(eq(billingAccounts.userId, usageRecords.userId), isNull(billingAccounts.closedAt)))
    .where(and(isNull(usageRecords.reportedAt), isNull(usageRecords.expiredAt)))
    .orderBy(asc(usageRecords.intervalStart))
    .limit(REPORT_BATCH);
  const result: ReportResult = { reported: 0, expired: 0, pending: 0 };
  for (let i = 0; i < due.length; i++) {
    const { record, customerId } = due[i]!;
    const timestamp = record.intervalEnd.getTime() - 1000;
    if (timestamp < now - STRIPE_METER_WINDOW_MS + WINDOW_MARGIN_MS) {
      await ctx.db.update(usageRecords).set({ expiredAt: new Date(now) }).where(and(eq(usageRecords.id, record.id), isNull(usageRecords.reportedAt)));
      ctx.log.warn("usage_not_reportable", { identifier: record.id, quantity: record.quantity });
      result.expired++;
      continue;
    }
    try {
      await stripe.billing.meterEvents.create(
        { event_name: METER_EVENT_NAME, payload: { stripe_customer_id: customerId, value: String(record.quantity) }, identifier: record.id, timestamp: Math.floor(timestamp / 1000) },
        { idempotencyKey: record.id },
      );
    } catch (error) {
      if (!alreadyReported(error)) {
        result.pending = due.length - i;
        ctx.log.warn("usage_report_deferred", { code: (error as { type?: string })?.type ?? "unknown", pending: result.pending });
        break;
      }
    }
    await ctx.db.update(usageRecords).set({ reportedAt: new Date(now) }).where(and(eq(usageRecords.id, record.id), isNull(usageRecords.reportedAt)));
    result.reported++;
  }
  return result;
}

/** The hourly job: record, then report. No Stripe key → records are still made, reported later. */
export async function meterUsage(ctx: DomainContext): Promise<{ recorded: number } & Partial<ReportResult>> {
  const recorded = await recordUsage(ctx);
  if (!ctx.config.billing.stripe) return { recorded };
  return { recorded, ...(await reportUsage(ctx, ctx.stripe())) };
}

