/**
 * Operator actions on another account, audited: an admin grants a
 * plan to operators and comp accounts (`users.plan_id`, which entitlement prefers to any
 * subscription) or revokes it. An admin manages plans only and never reaches a workspace or its
 * content (policy §3): nothing here talks to a host. The first admin is made by an operator in SQL
 * (README); no route makes an admin.
 */
import { and, eq, isNull } from "drizzle-orm";
import { users } from "../../../schema";
import { auditEventWhere } from "../audit";
import type { DomainContext } from "../context";
import { fieldError } from "../errors";
import { findUser, requireAdmin } from "../owned";
import { findPlan } from "../plans";

export interface PlanGrant {
  userId: string;
  /** The admin-granted plan; null when none (a subscription may still entitle the account). */
  planId: string | null;
}

export async function getPlanGrant(ctx: DomainContext, userId: string): Promise<PlanGrant> {
  await requireAdmin(ctx);
  const user = await findUser(ctx, userId);
  return { userId: user.id, planId: user.planId };
}

/**
 * Grants `planId` (null revokes). Granting what the account already has changes nothing and
 * writes no audit row. The change and its audit row are one compare-and-set on the plan read
 * here: if another admin changed it meanwhile, neither is written and the decision is made again
 * from the new state.
 */
export async function setPlanGrant(ctx: DomainContext, userId: string, planId: string | null): Promise<PlanGrant> {
  await requireAdmin(ctx);
  if (planId !== null && !findPlan(planId)) throw fieldError("planId", "Not a plan of the catalog (GET /v1/plans).");
  const previous = (await findUser(ctx, userId)).planId;
  if (previous === planId) return { userId, planId };
  const unchanged = and(eq(users.id, userId), isNull(users.deletedAt), previous === null ? isNull(users.planId) : eq(users.planId, previous));
  const [, updated] = await ctx.db.batch([
    auditEventWhere(ctx, userId, planId === null ? "plan_revoked" : "plan_granted", { planId, previous }, unchanged),
    ctx.db.update(users).set({ planId }).where(unchanged).returning({ id: users.id }),
  ]);
  if (updated.length === 0) return setPlanGrant(ctx, userId, planId);
  return { userId, planId };
}
