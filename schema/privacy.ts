import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

export const PRIVACY_REQUEST_KINDS = ["access", "correction", "deletion", "portability", "objection", "other"] as const;
export type PrivacyRequestKind = (typeof PRIVACY_REQUEST_KINDS)[number];

export const PRIVACY_REQUEST_STATES = ["open", "in_progress", "completed", "rejected"] as const;
export type PrivacyRequestState = (typeof PRIVACY_REQUEST_STATES)[number];

/** The stages of the admins' deadline reminder; the row records the last one sent, so each goes once. */
export const REMINDER_STAGES = ["due_soon", "overdue"] as const;
export type ReminderStage = (typeof REMINDER_STAGES)[number];

/** Policy §7: a request to exercise a right, answered within 30 days (`due_at`). */
export const privacyRequests = sqliteTable(
  "privacy_requests",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: PRIVACY_REQUEST_KINDS }).notNull(),
    message: text("message"),
    state: text("state", { enum: PRIVACY_REQUEST_STATES }).notNull(),
    reason: text("reason"),
    createdAt: timestamp("created_at").notNull(),
    dueAt: timestamp("due_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
    reminded: text("reminded", { enum: REMINDER_STAGES }),
  },
  (t) => [index("privacy_requests_user_idx").on(t.userId), index("privacy_requests_state_due_idx").on(t.state, t.dueAt)],
);
