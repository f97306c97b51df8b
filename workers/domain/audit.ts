import { accountEvents, type Command, commandLog } from "../../schema";
import { actorLabel, type DomainContext } from "./context";

export type AccountEventType =
  | "signup"
  | "email_verified"
  | "email_change_requested"
  | "email_changed"
  | "login"
  | "login_failed"
  | "logout"
  | "refresh_reuse_detected"
  | "password_reset_requested"
  | "password_reset"
  | "password_changed"
  | "username_changed"
  | "account_deleted"
  | "billing_customer_created"
  | "workspace_deleted_inactive";

/** The audit row for a change; put it in the same `db.batch()` as the change itself. */
export const auditEvent = (ctx: DomainContext, userId: string, type: AccountEventType, detail?: Record<string, string | number | boolean | null>) =>
  ctx.db.insert(accountEvents).values({ userId, type, actor: actorLabel(ctx.actor), at: ctx.clock.now(), requestId: ctx.requestId, detail: detail ?? null });

/** Policy §1: a CLI-level command issued to the API, with time, user and session; batched with what it did. */
export const commandEvent = (ctx: DomainContext, userId: string, command: Command, sessionId: string | null) =>
  ctx.db.insert(commandLog).values({ userId, sessionId, command, at: ctx.clock.now(), requestId: ctx.requestId });
