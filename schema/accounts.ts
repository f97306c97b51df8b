import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What happens when a user's monthly usage limit is reached (the user's choice). */
export const USAGE_LIMIT_ACTIONS = ["notify", "disconnect"] as const;
export type UsageLimitAction = (typeof USAGE_LIMIT_ACTIONS)[number];

/** Policy §1 "Account information": exactly these personal fields, nothing more. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    username: text("username").notNull(),
    email: text("email"),
    passwordHash: text("password_hash"),
    role: text("role", { enum: ROLES }).notNull().default("user"),
    planId: text("plan_id"),
    createdAt: timestamp("created_at").notNull(),
    emailVerifiedAt: timestamp("email_verified_at"),
    lastActiveAt: timestamp("last_active_at").notNull(),
    policyVersion: text("policy_version").notNull(),
    /** When policy_version was accepted by POST /v1/policy/accept; null = at signup (created_at). */
    policyAcceptedAt: timestamp("policy_accepted_at"),
    ageConfirmedAt: timestamp("age_confirmed_at").notNull(),
    deletedAt: timestamp("deleted_at"),
    /** A monthly GPU-hour limit the user set (policy §2 billing notifications); null = none. */
    usageLimitHours: integer("usage_limit_hours"),
    /** At the limit: "notify" emails only; "disconnect" also ends the running session and refuses new ones until the month ends or the limit is raised or removed. */
    usageLimitAction: text("usage_limit_action", { enum: USAGE_LIMIT_ACTIONS }).notNull().default("notify"),
    /** The UTC month ("YYYY-MM") of the last usage-limit email, and the highest threshold (percent) it reported. */
    usageAlertMonth: text("usage_alert_month"),
    usageAlertPercent: integer("usage_alert_percent"),
    /** When the user objected to aggregate analysis (policy §7 objection): excluded from operator statistics; null = no objection. */
    analysisObjectedAt: timestamp("analysis_objected_at"),
  },
  (t) => [
    uniqueIndex("users_username_unique").on(t.username),
    uniqueIndex("users_email_unique").on(t.email),
    index("users_deleted_at_idx").on(t.deletedAt),
  ],
);

/** A sign-in: one per login, the family of its rotating refresh tokens. `sid` in access tokens. */
export const loginSessions = sqliteTable(
  "login_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: timestamp("created_at").notNull(),
    lastUsedAt: timestamp("last_used_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    revokedAt: timestamp("revoked_at"),
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("login_sessions_user_idx").on(t.userId), index("login_sessions_expires_idx").on(t.expiresAt)],
);

/** Opaque rotating refresh tokens, stored only as SHA-256 hashes. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    loginSessionId: text("login_session_id")
      .notNull()
      .references(() => loginSessions.id),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: timestamp("created_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.loginSessionId), index("refresh_tokens_expires_idx").on(t.expiresAt)],
);

export const TOKEN_PURPOSES = ["verify_email", "change_email", "revert_email", "reset_password"] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/**
 * Email verification, email change (and its revert, sent to the old address) and password reset
 * tokens: SHA-256 hashes, single use. `new_email` is the address the token sets.
 */
export const singleUseTokens = sqliteTable(
  "single_use_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    purpose: text("purpose", { enum: TOKEN_PURPOSES }).notNull(),
    newEmail: text("new_email"),
    createdAt: timestamp("created_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
  },
  (t) => [index("single_use_tokens_user_idx").on(t.userId), index("single_use_tokens_expires_idx").on(t.expiresAt)],
);

/** Security audit trail of account changes; details never hold secrets. */
export const accountEvents = sqliteTable(
  "account_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id").notNull(),
    type: text("type").notNull(),
    actor: text("actor").notNull(),
    at: timestamp("at").notNull(),
    requestId: text("request_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, string | number | boolean | null>>(),
  },
  (t) => [index("account_events_user_idx").on(t.userId), index("account_events_at_idx").on(t.at)],
);


/**
 * The SSH public keys a user registered, to authenticate them to their sessions (policy §2):
 * installed for the session's user at every connect. Only the public half is ever sent to us.
 */
export const sshKeys = sqliteTable(
  "ssh_keys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    /** `ssh-ed25519` or `ssh-rsa`. */
    type: text("type").notNull(),
    bits: integer("bits").notNull(),
    /** `TYPE BASE64`, without the comment: what sshd is given. */
    publicKey: text("public_key").notNull(),
    /** SHA-256, as `ssh-keygen -lf` prints it. */
    fingerprint: text("fingerprint").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [uniqueIndex("ssh_keys_user_key_unique").on(t.userId, t.publicKey)],
);
