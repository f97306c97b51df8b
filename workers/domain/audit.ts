import { sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { accountEvents, type Command, commandLog, users } from "../../schema";
import { actorLabel, type DomainContext } from "./context";

export type AccountEventType =
  | "signup"
  | "email_verified"
  | "email_change_requested"
  | "email_changed"
  | "email_change_reverted"
  | "login"
  | "login_failed"
  | "logout"
  | "refresh_reuse_detected"
  | "password_reset_requested"
  | "password_reset"
  | "password_changed"
  | "username_changed"
  | "account_deleted"
  | "account_deleted_minor"
  | "stripe_customer_updated"
  | "billing_customer_created"
  | "stripe_customer_deleted"
  | "plan_granted"
  | "plan_revoked"
  | "usage_limit_changed"
  | "usage_limit_action_changed"
  | "usage_limit_disconnect"
  | "workspace_deleted_inactive"
  | "policy_accepted"
  | "policy_published"
  | "privacy_export"
  | "privacy_request_opened"
  | "privacy_request_changed"
  | "analysis_objection_changed"
  | "ssh_key_added"
  | "ssh_key_removed";

type AuditDetail = Record<string, string | number | boolean | null>;

/** The audit row for a change; put it in the same `db.batch()` as the change itself. */
export const auditEvent = (ctx: DomainContext, userId: string, type: AccountEventType, detail?: AuditDetail) => {
  concerns(ctx, userId);
  return ctx.db.insert(accountEvents).values({ userId, type, actor: actorLabel(ctx.actor), at: ctx.clock.now(), requestId: ctx.requestId, detail: detail ?? null });
};

/** A request nobody is signed in to belongs to the account its audit row names (DomainContext.subjectUserId). */
const concerns = (ctx: DomainContext, userId: string) => {
  if (ctx.actor.kind === "anonymous") ctx.subjectUserId ??= userId;
};

/**
 * The audit row of a compare-and-set on the user's row (or another table's, `from`): written only
 * while `condition` (on that table) holds. Batch it BEFORE the change, under the same condition: a write that lost a race
 * then leaves neither the change nor a row recording something that did not happen.
 */
export const auditEventWhere = (ctx: DomainContext, userId: string, type: AccountEventType, detail: AuditDetail, condition: SQL | undefined, from: SQLiteTable = users) => {
  concerns(ctx, userId);
  return ctx.db.insert(accountEvents).select(
    ctx.db
      .select({
        id: sql<number>`null`.as("id"),
        userId: sql<string>`${userId}`.as("user_id"),
        type: sql<string>`${type}`.as("type"),
        actor: sql<string>`${actorLabel(ctx.actor)}`.as("actor"),
        at: sql<Date>`${ctx.clock.now().getTime()}`.as("at"),
        requestId: sql<string>`${ctx.requestId}`.as("request_id"),
        detail: sql<AuditDetail>`${JSON.stringify(detail)}`.as("detail"),
      })
      .from(from)
      .where(condition),
  );
};

/** Policy §1: a CLI-level command issued to the API, with time, user and session; batched with what it did. */
export const commandEvent = (ctx: DomainContext, userId: string, command: Command, sessionId: string | null) =>
  ctx.db.insert(commandLog).values({ userId, sessionId, command, at: ctx.clock.now(), requestId: ctx.requestId });
