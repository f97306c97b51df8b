/**
 * The monthly usage limit a user may set (policy §2 billing notifications), in
 * hours of GPU time. GPU time is session time, the unit the Stripe meter bills and
 * `GET /v1/usage` totals as `seconds` (a plan's price is per session hour, whatever its GPU
 * count): each session's started_at → ended_at, a live one up to now, clipped to the current UTC
 * month. One billing email when usage passes 80% of the limit and one when it reaches 100%, each
 * at most once per month. What happens at 100% is the user's choice (`users.usage_limit_action`,
 * docs/decisions/0024): "notify", the default, emails only; "disconnect" also has the running
 * session disconnected (by the sessions group's job, through the normal disconnect) and new ones
 * refused until the month ends or the limit is raised or removed.
 *
 * State: users.usage_alert_month ("YYYY-MM") and usage_alert_percent, the highest threshold
 * emailed that month. A new month starts afresh. Setting a different limit clears the state: a
 * new limit is a new budget, so a limit raised above the month's usage warns again at 80% of it,
 * and one set below it says at once that it is reached.
 */
import { and, eq, isNull, sql, type SQL } from "drizzle-orm";
import { LIVE_SESSION_STATES, type UsageLimitAction, users } from "../../../schema";
import { billingEmails } from "../../adapters/email";
import { auditEvent } from "../audit";
import type { DomainContext } from "../context";

export const USAGE_LIMIT_MAX_HOURS = 10_000;
const HOUR_MS = 3_600_000;
/** Highest first: usage past both thresholds at once gets the 100% email only. */
const THRESHOLDS = [100, 80] as const;
/**
 * A session that ended since the last tick has final minutes to count; an hour of lookback keeps
 * that true across missed cron ticks (cron delivery is at least once, not every time).
 */
const ENDED_LOOKBACK_MS = HOUR_MS;
/** Bounded work per tick. Candidates are users with a live (or just ended) session, at most one live session each. */
export const USAGE_LIMIT_USERS_PER_TICK = 1000;

const utcMonth = (at: Date) => at.toISOString().slice(0, 7);

/**
 * The user's GPU time (ms) in the UTC month of `at`, up to `at`: each session clipped to the
 * month, a live one counted up to `at`. The one definition the job and GET /v1/usage share.
 */
const usedThisMonth = (userId: SQL, at: Date) => {
  const now = at.getTime();
  const monthStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  return sql`(select coalesce(sum(max(0, min(coalesce(s.ended_at, ${now}), ${now}) - max(s.started_at, ${monthStart}))), 0)
              from sessions s
             where s.user_id = ${userId} and s.started_at is not null and s.started_at < ${now}
               and (s.ended_at is null or s.ended_at > ${monthStart}))`;
};

export interface MonthToDate {
  /** The current UTC month, "YYYY-MM". */
  month: string;
  /** GPU time used in it so far. */
  usedSeconds: number;
  /** The limit the user set (hours a month), or null. */
  limitHours: number | null;
  /** What happens at the limit: a notice only, or the session disconnected. */
  limitAction: UsageLimitAction;
  /** The limit is reached and the user chose to be disconnected at it: connect is refused. */
  sessionsRefused: boolean;
}

/** What GET /v1/usage shows beside the window: this month's GPU time against the user's limit. */
export async function monthToDate(ctx: DomainContext, userId: string): Promise<MonthToDate> {
  const at = ctx.clock.now();
  // The limit is read here with the usage, not from the sign-in, which may be a few seconds old.
  const [row] = await ctx.db.all<{ usedMs: number; limitHours: number | null; limitAction: UsageLimitAction | null }>(
    sql`select ${usedThisMonth(sql`${userId}`, at)} as usedMs,
               (select ${users.usageLimitHours} from ${users} where ${users.id} = ${userId}) as limitHours,
               (select ${users.usageLimitAction} from ${users} where ${users.id} = ${userId}) as limitAction`,
  );
  const usedMs = row?.usedMs ?? 0;
  const limitHours = row?.limitHours ?? null;
  const limitAction = row?.limitAction ?? "notify";
  return {
    month: utcMonth(at),
    usedSeconds: Math.floor(usedMs / 1000),
    limitHours,
    limitAction,
    sessionsRefused: limitAction === "disconnect" && limitHours !== null && usedMs >= limitHours * HOUR_MS,
  };
}

/** The first instant of the UTC month after `at`: when a month's limit starts afresh. */
export const nextMonthStart = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));

/**
 * Connect's check: null, or this month's usage when the user chose to be disconnected at a limit
 * that is reached. A disconnected session is not started again by the next connect: that would
 * loop (connect, disconnect a minute later) and bill a minute each time.
 */
export async function usageLimitRefusal(ctx: DomainContext, userId: string): Promise<MonthToDate | null> {
  const month = await monthToDate(ctx, userId);
  return month.sessionsRefused ? month : null;
}

export interface SessionAtLimit {
  id: string;
  userId: string;
  limitHours: number;
  usedMs: number;
}

/**
 * Running sessions of users who chose to be disconnected at their limit and reached it this month,
 * at most `limit`. Candidates come from the live-session partial index; users by primary key.
 */
export async function sessionsAtUsageLimit(ctx: DomainContext, limit: number): Promise<SessionAtLimit[]> {
  const at = ctx.clock.now();
  // Literals, not bound parameters: SQLite uses a partial index only for a WHERE it can match as written.
  const live = sql.raw(LIVE_SESSION_STATES.map((state) => `'${state}'`).join(", "));
  return ctx.db.all<SessionAtLimit>(sql`
    select * from (
      select s.id as id, s.user_id as userId, u.usage_limit_hours as limitHours, ${usedThisMonth(sql`u.id`, at)} as usedMs
        from sessions s join users u on u.id = s.user_id
       where s.state in (${live}) and s.state = 'running'
         and u.usage_limit_action = 'disconnect' and u.usage_limit_hours is not null and u.deleted_at is null)
     where usedMs >= limitHours * ${HOUR_MS}
     limit ${limit}`);
}

interface LimitedUser {
  id: string;
  limitHours: number;
  limitAction: UsageLimitAction;
  usedMs: number;
}

/**
 * Users with a limit, a verified address and no email yet at 100% this month, with their GPU time
 * this month; only those whose id `candidates` (a subquery of user ids) yields.
 */
async function limitedUsers(ctx: DomainContext, candidates: ReturnType<typeof sql>): Promise<LimitedUser[]> {
  const at = ctx.clock.now();
  return ctx.db.all<LimitedUser>(sql`
    select u.id as id, u.usage_limit_hours as limitHours, u.usage_limit_action as limitAction, ${usedThisMonth(sql`u.id`, at)} as usedMs
      from users u
     where u.id in (${candidates})
       and u.usage_limit_hours is not null and u.deleted_at is null and u.email is not null and u.email_verified_at is not null
       and (coalesce(u.usage_alert_month, '') <> ${utcMonth(at)} or coalesce(u.usage_alert_percent, 0) < 100)
     limit ${USAGE_LIMIT_USERS_PER_TICK}`);
}

/**
 * Emails each user the highest threshold their usage passed and they were not yet told of this
 * month. The conditional UPDATE … RETURNING claims the email: of overlapping runs (or a run and a
 * limit change) one sends it, and none does for a limit that changed since it was read.
 */
async function sendDueAlerts(ctx: DomainContext, limited: LimitedUser[]): Promise<number> {
  const month = utcMonth(ctx.clock.now());
  let emailed = 0;
  for (const user of limited) {
    const percent = THRESHOLDS.find((p) => user.usedMs >= (user.limitHours * HOUR_MS * p) / 100);
    if (!percent) continue;
    const [claimed] = await ctx.db
      .update(users)
      .set({ usageAlertMonth: month, usageAlertPercent: percent })
      .where(
        and(
          eq(users.id, user.id),
          eq(users.usageLimitHours, user.limitHours),
          isNull(users.deletedAt),
          sql`(coalesce(${users.usageAlertMonth}, '') <> ${month} or coalesce(${users.usageAlertPercent}, 0) < ${percent})`,
        ),
      )
      .returning({ email: users.email });
    if (!claimed?.email) continue;
    ctx.email.send(claimed.email, billingEmails.usageLimit(percent, { month, usedHours: user.usedMs / HOUR_MS, limitHours: user.limitHours, action: user.limitAction }));
    emailed++;
  }
  return emailed;
}

/**
 * The every-minute job: usage grows only while a session runs, so only users with a live session
 * or one that ended within the lookback are checked (the live-session partial index and
 * sessions_ended_at_idx find them; the users table is read by primary key).
 */
export async function checkUsageLimits(ctx: DomainContext): Promise<{ checked: number; emailed: number }> {
  // Literals, not bound parameters: SQLite uses a partial index only for a WHERE it can match as written.
  const live = sql.raw(LIVE_SESSION_STATES.map((state) => `'${state}'`).join(", "));
  const endedSince = ctx.clock.now().getTime() - ENDED_LOOKBACK_MS;
  const limited = await limitedUsers(ctx, sql`select user_id from sessions where state in (${live}) union select user_id from sessions where ended_at > ${endedSince}`);
  return { checked: limited.length, emailed: await sendDueAlerts(ctx, limited) };
}

/**
 * PATCH /v1/account `usageLimitHours` (null removes the limit) and `usageLimitAction`. A different
 * limit clears the month's alert state and is checked at once, so a limit set below this month's
 * usage is told now, not at the next session. A running session of a user who now chooses
 * "disconnect" past the limit is disconnected by the next minute's job (this group does not stop
 * sessions).
 */
export async function setUsageLimit(
  ctx: DomainContext,
  user: { id: string; usageLimitHours: number | null; usageLimitAction: UsageLimitAction },
  change: { hours?: number | null; action?: UsageLimitAction },
): Promise<void> {
  const hours = change.hours === undefined ? user.usageLimitHours : change.hours;
  const action = change.action ?? user.usageLimitAction;
  const live = and(eq(users.id, user.id), isNull(users.deletedAt));
  const writes = [];
  if (hours !== user.usageLimitHours) {
    writes.push(
      ctx.db.update(users).set({ usageLimitHours: hours, usageAlertMonth: null, usageAlertPercent: null }).where(live),
      auditEvent(ctx, user.id, "usage_limit_changed", { usageLimitHours: hours, previous: user.usageLimitHours }),
    );
  }
  if (action !== user.usageLimitAction) {
    writes.push(
      ctx.db.update(users).set({ usageLimitAction: action }).where(live),
      auditEvent(ctx, user.id, "usage_limit_action_changed", { usageLimitAction: action, previous: user.usageLimitAction }),
    );
  }
  const [first, ...rest] = writes;
  if (!first) return;
  await ctx.db.batch([first, ...rest]);
  if (hours !== null && hours !== user.usageLimitHours) await sendDueAlerts(ctx, await limitedUsers(ctx, sql`select ${user.id}`));
}
