/**
 * Privacy requests (policy §7): a user asks for a right, an admin answers it within 30 days.
 * Every change is an audit row (batched with it) and an email to the user.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or } from "drizzle-orm";
import { privacyRequests, type PrivacyRequestKind, type PrivacyRequestState, type ReminderStage, users } from "../../../schema";
import { daysToMs } from "../../../schema/inventory";
import { accountEmails } from "../../adapters/email";
import { auditEvent, auditEventWhere } from "../audit";
import type { DomainContext } from "../context";
import { newId } from "../db";
import { AppError, fieldError } from "../errors";
import { adminAddresses, findUser, requireAdmin } from "../owned";

/** Policy §7: "We will respond to requests within 30 days." */
export const ANSWER_WITHIN_DAYS = 30;
/** The admins hear of a request this long before its deadline, and again once it has passed. */
export const REMIND_BEFORE_DAYS = 7;
export const MESSAGE_MAX_CHARS = 2000;

type Row = typeof privacyRequests.$inferSelect;

export interface PrivacyRequestView {
  id: string;
  kind: PrivacyRequestKind;
  message: string | null;
  state: PrivacyRequestState;
  reason: string | null;
  createdAt: string;
  dueAt: string;
  updatedAt: string;
}

const toView = (row: Row): PrivacyRequestView => ({
  id: row.id,
  kind: row.kind,
  message: row.message,
  state: row.state,
  reason: row.reason,
  createdAt: row.createdAt.toISOString(),
  dueAt: row.dueAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const FINAL: readonly PrivacyRequestState[] = ["completed", "rejected"];
const isOpen = inArray(privacyRequests.state, ["open", "in_progress"]);

function tellUser(ctx: DomainContext, email: string | null, row: Row): void {
  if (!email) return;
  ctx.email.send(email, accountEmails.privacyRequestChanged({ id: row.id, kind: row.kind, state: row.state, dueOn: row.dueAt.toISOString().slice(0, 10), reason: row.reason }));
}

/** The request row and its audit row, to batch with whatever else opens it. */
export function newRequest(ctx: DomainContext, userId: string, kind: PrivacyRequestKind, message: string | null) {
  const now = ctx.clock.now();
  const row: Row = { id: newId(), userId, kind, message, state: "open", reason: null, createdAt: now, dueAt: new Date(now.getTime() + daysToMs(ANSWER_WITHIN_DAYS)), updatedAt: now, reminded: null };
  return { row, writes: [ctx.db.insert(privacyRequests).values(row), auditEvent(ctx, userId, "privacy_request_opened", { requestId: row.id, kind })] as const };
}

export async function createRequest(ctx: DomainContext, userId: string, input: { kind: PrivacyRequestKind; message?: string }): Promise<PrivacyRequestView> {
  const user = await findUser(ctx, userId);
  const { row, writes } = newRequest(ctx, userId, input.kind, input.message?.trim() || null);
  await ctx.db.batch(writes);
  tellUser(ctx, user.email, row);
  return toView(row);
}

export async function listOwnRequests(ctx: DomainContext, userId: string): Promise<PrivacyRequestView[]> {
  const rows = await ctx.db.select().from(privacyRequests).where(eq(privacyRequests.userId, userId)).orderBy(desc(privacyRequests.createdAt), desc(privacyRequests.id));
  return rows.map(toView);
}

const notFound = () => new AppError("not_found", "No such privacy request.");

/** The owner is in the WHERE: another user's id answers 404, as one that does not exist. */
export async function getOwnRequest(ctx: DomainContext, userId: string, id: string): Promise<PrivacyRequestView> {
  const row = await ctx.db.query.privacyRequests.findFirst({ where: and(eq(privacyRequests.id, id), eq(privacyRequests.userId, userId)) });
  if (!row) throw notFound();
  return toView(row);
}

export interface QueuedRequest extends PrivacyRequestView {
  userId: string;
  overdue: boolean;
}

/** The admins' queue: open and in-progress requests, the earliest deadline (so the overdue) first. */
export async function listQueue(ctx: DomainContext): Promise<QueuedRequest[]> {
  await requireAdmin(ctx);
  const now = ctx.clock.now().getTime();
  const rows = await ctx.db.select().from(privacyRequests).where(isOpen).orderBy(asc(privacyRequests.dueAt), asc(privacyRequests.id));
  return rows.map((row) => ({ ...toView(row), userId: row.userId, overdue: row.dueAt.getTime() <= now }));
}

/**
 * An admin moves a request on. Completed and rejected are final; a rejection says why. The change
 * is a compare-and-set on the state read here, batched after its audit row under the same
 * condition, so two admins deciding at once record one decision.
 */
export async function decideRequest(ctx: DomainContext, id: string, input: { state: "in_progress" | "completed" | "rejected"; reason?: string }): Promise<QueuedRequest> {
  await requireAdmin(ctx);
  const reason = input.reason?.trim() || null;
  if (input.state === "rejected" && !reason) throw fieldError("reason", "A rejection says why.");
  const row = await ctx.db.query.privacyRequests.findFirst({ where: eq(privacyRequests.id, id) });
  if (!row) throw notFound();
  if (FINAL.includes(row.state)) throw new AppError("request_closed", `The request is already ${row.state}.`);
  if (row.state === input.state) return { ...toView(row), userId: row.userId, overdue: row.dueAt.getTime() <= ctx.clock.now().getTime() };
  const updated = await changeState(ctx, [row], input.state, input.state === "rejected" ? reason : null);
  if (updated.length === 0) return decideRequest(ctx, id, input);
  const [next] = updated as [Row];
  const user = await ctx.db.query.users.findFirst({ where: and(eq(users.id, next.userId), isNull(users.deletedAt)) });
  tellUser(ctx, user?.email ?? null, next);
  return { ...toView(next), userId: next.userId, overdue: next.dueAt.getTime() <= ctx.clock.now().getTime() };
}

/** Audit rows first, each written only while its request is still in the state read (see auditEventWhere). */
async function changeState(ctx: DomainContext, rows: Row[], state: PrivacyRequestState, reason: string | null): Promise<Row[]> {
  const now = ctx.clock.now();
  const changed: Row[] = [];
  for (const row of rows) {
    const unchanged = and(eq(privacyRequests.id, row.id), eq(privacyRequests.state, row.state));
    const [, updated] = await ctx.db.batch([
      auditEventWhere(ctx, row.userId, "privacy_request_changed", { requestId: row.id, kind: row.kind, from: row.state, to: state }, unchanged, privacyRequests),
      ctx.db.update(privacyRequests).set({ state, reason, updatedAt: now }).where(unchanged).returning(),
    ]);
    changed.push(...updated);
  }
  return changed;
}

/**
 * A self-service action that answers a right (an address corrected, the account deleted)
 * completes the user's own open requests of those kinds; `email` is where the user now hears of it.
 */
export async function completeOwnRequests(ctx: DomainContext, userId: string, kinds: readonly PrivacyRequestKind[], email: string | null): Promise<number> {
  const rows = await ctx.db.select().from(privacyRequests).where(and(eq(privacyRequests.userId, userId), inArray(privacyRequests.kind, [...kinds]), isOpen));
  const completed = await changeState(ctx, rows, "completed", null);
  for (const row of completed) tellUser(ctx, email, row);
  return completed.length;
}

/**
 * The daily reminder to the admins: open requests due within REMIND_BEFORE_DAYS, and overdue
 * ones, each once per stage. A request is claimed for its stage by a conditional update of
 * `reminded` before the email goes, so overlapping runs never send the same stage twice.
 */
export async function remindAdmins(ctx: DomainContext): Promise<{ dueSoon: number; overdue: number; admins: number }> {
  const now = ctx.clock.now().getTime();
  const soon = now + daysToMs(REMIND_BEFORE_DAYS);
  const stageOf = (row: Row): ReminderStage | null => (row.dueAt.getTime() <= now ? "overdue" : row.dueAt.getTime() <= soon ? "due_soon" : null);
  const admins = await adminAddresses(ctx);
  // Nobody to tell: nothing is claimed, so the first admin hears of every stage still due.
  if (admins.length === 0) {
    ctx.log.warn("privacy_reminders_no_admin", {});
    return { dueSoon: 0, overdue: 0, admins: 0 };
  }
  const candidates = await ctx.db
    .select()
    .from(privacyRequests)
    .where(and(isOpen, lte(privacyRequests.dueAt, new Date(soon)), or(isNull(privacyRequests.reminded), and(eq(privacyRequests.reminded, "due_soon"), lte(privacyRequests.dueAt, new Date(now))))))
    .orderBy(asc(privacyRequests.dueAt));
  const claimed: { row: Row; stage: ReminderStage }[] = [];
  for (const row of candidates) {
    const stage = stageOf(row);
    if (!stage || row.reminded === stage) continue;
    const still = row.reminded === null ? isNull(privacyRequests.reminded) : eq(privacyRequests.reminded, row.reminded);
    const won = await ctx.db.update(privacyRequests).set({ reminded: stage }).where(and(eq(privacyRequests.id, row.id), still)).returning({ id: privacyRequests.id });
    if (won.length > 0) claimed.push({ row, stage });
  }
  if (claimed.length === 0) return { dueSoon: 0, overdue: 0, admins: admins.length };
  const email = accountEmails.privacyRequestsDue(claimed.map(({ row, stage }) => ({ id: row.id, kind: row.kind, dueOn: row.dueAt.toISOString().slice(0, 10), overdue: stage === "overdue" })));
  for (const address of admins) ctx.email.send(address, email);
  const overdue = claimed.filter((c) => c.stage === "overdue").length;
  return { dueSoon: claimed.length - overdue, overdue, admins: admins.length };
}

export interface ObjectionResult {
  aggregateAnalysisObjectedAt: string | null;
  /** What the objection changed, in words. */
  changes: string[];
  /** The request opened for an objection an admin decides; null when none was sent. */
  request: PrivacyRequestView | null;
}

/**
 * Policy §7 objection: objecting to aggregate analysis takes the user out of it at once
 * (`analysis_objected_at`, which operator statistics exclude); any other objection becomes a
 * request of kind objection for an admin to decide.
 */
export async function setObjections(ctx: DomainContext, userId: string, input: { aggregateAnalysis: boolean; other?: string }): Promise<ObjectionResult> {
  const user = await findUser(ctx, userId);
  const now = ctx.clock.now();
  const changes: string[] = [];
  const writes = [];
  const objected = user.analysisObjectedAt !== null;
  if (input.aggregateAnalysis !== objected) {
    const unchanged = and(eq(users.id, userId), isNull(users.deletedAt), objected ? isNotNull(users.analysisObjectedAt) : isNull(users.analysisObjectedAt));
    writes.push(
      auditEventWhere(ctx, userId, "analysis_objection_changed", { objected: input.aggregateAnalysis }, unchanged),
      ctx.db.update(users).set({ analysisObjectedAt: input.aggregateAnalysis ? now : null }).where(unchanged),
    );
    changes.push(input.aggregateAnalysis ? "Your usage is excluded from aggregate analysis from now on." : "Your usage is included in aggregate, anonymized analysis again.");
  }
  const other = input.other?.trim();
  const opened = other ? newRequest(ctx, userId, "objection", other) : null;
  if (opened) {
    writes.push(...opened.writes);
    changes.push(`Your objection was recorded as privacy request ${opened.row.id}; an administrator answers it by ${opened.row.dueAt.toISOString().slice(0, 10)}.`);
  }
  const [first, ...rest] = writes;
  if (first) await ctx.db.batch([first, ...rest]);
  if (opened) tellUser(ctx, user.email, opened.row);
  const after = await findUser(ctx, userId);
  return { aggregateAnalysisObjectedAt: after.analysisObjectedAt?.toISOString() ?? null, changes, request: opened ? toView(opened.row) : null };
}
