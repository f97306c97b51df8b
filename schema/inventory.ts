/**
 * The data inventory: every column of every table, classified. Retention jobs and (later) the
 * privacy export read this file, so a table added here is covered by both; a test fails when a
 * column exists in the database without an entry here.
 */
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { accountEvents, loginSessions, refreshTokens, singleUseTokens, users } from "./accounts";
import { accessLogs, errorLogs } from "./logs";

export type Category = "account" | "payment_reference" | "usage" | "technical_log" | "security" | "derived";

export interface ColumnEntry {
  category: Category;
  purpose: string;
}

/**
 * How long rows live.
 * - `account`: as long as the account is active; personal fields erased when deletion is requested (policy §6).
 * - `time`: a row is deleted once any of `columns` is older than `days` (policy §6 periods).
 */
export type Retention =
  | { kind: "account"; rule: string }
  | { kind: "time"; columns: readonly string[]; days: number; rule: string };

export interface TableEntry {
  table: SQLiteTable;
  /** The column that ties a row to a user, for export and erasure. */
  subject: string;
  retention: Retention;
  columns: Record<string, ColumnEntry>;
}

const DAY_MS = 86_400_000;
export const daysToMs = (days: number) => days * DAY_MS;

/** Order matters for purges: children before the rows they reference. */
export const inventory: readonly TableEntry[] = [
  {
    table: users,
    subject: "id",
    retention: { kind: "account", rule: "while the account is active; erased on deletion request (policy §6)" },
    columns: {
      id: { category: "account", purpose: "opaque account identifier" },
      username: { category: "account", purpose: "sign-in name shown to the user (policy §1)" },
      email: { category: "account", purpose: "sign-in, verification, account and billing emails (policy §1, §2)" },
      password_hash: { category: "security", purpose: "bcrypt hash of the peppered password; never plaintext (policy §1, §5)" },
      role: { category: "account", purpose: "authorization: user or admin" },
      plan_id: { category: "account", purpose: "plan selection (policy §1)" },
      created_at: { category: "account", purpose: "account creation date (policy §1)" },
      email_verified_at: { category: "account", purpose: "GPU sessions require a verified email" },
      last_active_at: { category: "derived", purpose: "workspace retention counts from last activity (policy §6)" },
      policy_version: { category: "account", purpose: "privacy policy version accepted at signup (policy §11)" },
      age_confirmed_at: { category: "account", purpose: "18+ confirmation instead of a date of birth (policy §10)" },
      deleted_at: { category: "account", purpose: "when deletion was requested (policy §7)" },
    },
  },
  {
    table: singleUseTokens,
    subject: "user_id",
    retention: { kind: "time", columns: ["expires_at", "used_at"], days: 0, rule: "deleted once used or expired" },
    columns: {
      token_hash: { category: "security", purpose: "SHA-256 of a verification or reset token" },
      user_id: { category: "security", purpose: "account the token acts on" },
      purpose: { category: "security", purpose: "what the token may do" },
      new_email: { category: "account", purpose: "address awaiting verification for an email change" },
      created_at: { category: "security", purpose: "issue time" },
      expires_at: { category: "security", purpose: "short expiry" },
      used_at: { category: "security", purpose: "single use" },
    },
  },
  {
    table: refreshTokens,
    subject: "user_id",
    retention: { kind: "time", columns: ["expires_at"], days: 0, rule: "deleted once expired (kept used until then for reuse detection)" },
    columns: {
      token_hash: { category: "security", purpose: "SHA-256 of an opaque refresh token" },
      login_session_id: { category: "security", purpose: "token family, revoked together on reuse" },
      user_id: { category: "security", purpose: "account the token belongs to" },
      created_at: { category: "security", purpose: "issue time" },
      expires_at: { category: "security", purpose: "expiry" },
      used_at: { category: "security", purpose: "single use; a second use revokes the family" },
    },
  },
  {
    table: loginSessions,
    subject: "user_id",
    retention: { kind: "time", columns: ["expires_at"], days: 0, rule: "deleted once expired" },
    columns: {
      id: { category: "security", purpose: "sign-in identifier carried by access tokens (sid)" },
      user_id: { category: "security", purpose: "account signed in" },
      created_at: { category: "security", purpose: "sign-in time" },
      last_used_at: { category: "security", purpose: "last refresh" },
      expires_at: { category: "security", purpose: "absolute sign-in lifetime" },
      revoked_at: { category: "security", purpose: "logout, password change, reuse detection or deletion" },
      revoked_reason: { category: "security", purpose: "why it was revoked" },
    },
  },
  {
    table: accountEvents,
    subject: "user_id",
    retention: { kind: "time", columns: ["at"], days: 365, rule: "12 months, with the other usage and account logs (policy §6)" },
    columns: {
      id: { category: "security", purpose: "row identifier" },
      user_id: { category: "security", purpose: "account concerned" },
      type: { category: "security", purpose: "what happened (signup, login, password change, …)" },
      actor: { category: "security", purpose: "who acted: the user, an admin, a system job" },
      at: { category: "security", purpose: "when" },
      request_id: { category: "technical_log", purpose: "joins the access log" },
      detail: { category: "security", purpose: "non-secret facts about the change" },
    },
  },
  {
    table: accessLogs,
    subject: "user_id",
    retention: { kind: "time", columns: ["at"], days: 90, rule: "90 days (policy §6: server access logs, IP addresses included)" },
    columns: {
      id: { category: "technical_log", purpose: "row identifier" },
      at: { category: "technical_log", purpose: "request timestamp (policy §1)" },
      request_id: { category: "technical_log", purpose: "joins error logs and support requests" },
      ip: { category: "technical_log", purpose: "IP address: security and abuse prevention (policy §1, §2)" },
      user_agent: { category: "technical_log", purpose: "user agent string (policy §1)" },
      method: { category: "technical_log", purpose: "API endpoint accessed (policy §1)" },
      path: { category: "technical_log", purpose: "API endpoint accessed, without query string (policy §1)" },
      status: { category: "technical_log", purpose: "outcome" },
      duration_ms: { category: "technical_log", purpose: "performance and reliability" },
      user_id: { category: "technical_log", purpose: "who made the request, when signed in" },
    },
  },
  {
    table: errorLogs,
    subject: "user_id",
    retention: { kind: "time", columns: ["at"], days: 90, rule: "90 days, as access logs (policy §6)" },
    columns: {
      id: { category: "technical_log", purpose: "row identifier" },
      at: { category: "technical_log", purpose: "when" },
      request_id: { category: "technical_log", purpose: "joins the access log" },
      source: { category: "technical_log", purpose: "request, cron job or webhook" },
      code: { category: "technical_log", purpose: "error class" },
      message: { category: "technical_log", purpose: "diagnostic message; never bodies, tokens or secrets" },
      user_id: { category: "technical_log", purpose: "affected account, when known" },
    },
  },
];

export const tableName = (entry: TableEntry) => getTableConfig(entry.table).name;
