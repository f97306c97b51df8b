/**
 * The data inventory: every column of every table, classified. Retention jobs and (later) the
 * privacy export read this file, so a table added here is covered by both; a test fails when a
 * column exists in the database without an entry here.
 */
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { accountEvents, loginSessions, refreshTokens, singleUseTokens, sshKeys, users } from "./accounts";
import { billingAccounts, checkoutClaims, deletionOutbox, stripeEvents } from "./billing";
import { accessLogObjects, accessLogSlots, errorLogs } from "./logs";
import { commandLog } from "./command-log";
import { gpuHosts } from "./hosts";
import { sessions } from "./sessions";
import { workspaceArchives, workspaces } from "./workspaces";
import { usageHourly, usageRecords, usageSamples } from "./usage";
import { policyNotices, policyVersions } from "./policy";
import { privacyRequests } from "./privacy";
import { databaseStats } from "./capacity";

/** `infrastructure`: the platform's own machines and documents (the policy text), not personal data (only in tables without a subject). */
export type Category = "account" | "payment_reference" | "usage" | "technical_log" | "security" | "derived" | "infrastructure";

export interface ColumnEntry {
  category: Category;
  purpose: string;
  /** A credential (a password or token hash): never leaves the database, not even in the subject's own export. */
  secret?: true;
}

/**
 * How long rows live.
 * - `account`: as long as the account is active; personal fields erased when deletion is requested (policy §6).
 * - `time`: a row is deleted once any of `columns` is older than `days` (policy §6 periods).
 * - `registry`: infrastructure rows (no personal data), kept while the thing they describe is in service.
 * - `lifecycle`: rows that describe something the domain deletes (a cold copy): removed in the same step.
 */
export type Retention =
  | { kind: "account"; rule: string }
  /** `configured`: the usage setting (workers/domain/config/usage.ts) that may shorten `days`, never lengthen it. */
  | { kind: "time"; columns: readonly string[]; days: number; rule: string; configured?: "samplesDays" }
  | { kind: "registry"; rule: string }
  | { kind: "lifecycle"; rule: string };

/**
 * What deleting the account does to the subject's rows (policy §7 deletion; §6 "subject to legal
 * retention requirements"):
 * - `erase`: deleted with the account, or its personal fields cleared then (an IP, an email, the
 *   plan); what stays carries only the pseudonymous account id until its retention rule removes it.
 * - `keep`: kept pseudonymous (the account id only) for what billing law and disputes need
 *   (policy §6: usage and billing logs 12 months), until its retention rule removes it.
 */
export type OnDeletion = "erase" | "keep";

export interface TableEntry {
  table: SQLiteTable;
  /** The column that ties a row to a user, for export and erasure; null for a table with no personal data. Every table with one is in the privacy export. */
  subject: string | null;
  retention: Retention;
  /** Null exactly for a table without a subject. */
  onDeletion: OnDeletion | null;
  columns: Record<string, ColumnEntry>;
}

const DAY_MS = 86_400_000;
export const daysToMs = (days: number) => days * DAY_MS;

/** Order matters for purges: children before the rows they reference. */
export const inventory: readonly TableEntry[] = [
  {
    table: commandLog,
    subject: "user_id",
    onDeletion: "keep",
    retention: { kind: "time", columns: ["at"], days: 365, rule: "12 months, with the other usage logs (policy §6)" },
    columns: {
      id: { category: "usage", purpose: "row identifier" },
      user_id: { category: "usage", purpose: "who issued the command (policy §1: CLI commands issued to our API)" },
      session_id: { category: "usage", purpose: "the session the command acted on" },
      command: { category: "usage", purpose: "connect, disconnect, destroy, upload or download (policy §1)" },
      at: { category: "usage", purpose: "when the command was issued" },
      request_id: { category: "technical_log", purpose: "joins the access log" },
    },
  },
  {
    table: usageRecords,
    subject: "user_id",
    onDeletion: "keep",
    retention: { kind: "time", columns: ["interval_end"], days: 365, rule: "12 months, with the other usage logs (policy §6); Stripe holds what was reported" },
    columns: {
      id: { category: "usage", purpose: "meter event identifier sent to Stripe: session and interval, so usage is billed once (policy §4)" },
      session_id: { category: "usage", purpose: "the session whose time is metered" },
      user_id: { category: "usage", purpose: "whose session it is (export, erasure, owner queries)" },
      plan_id: { category: "usage", purpose: "the plan the time was used on (policy §1)" },
      interval_start: { category: "usage", purpose: "start of the metered clock hour" },
      interval_end: { category: "usage", purpose: "end of the metered clock hour; retention counts from here" },
      quantity: { category: "usage", purpose: "session seconds inside the interval, reported to Stripe's meter (policy §4 usage data)" },
      created_at: { category: "usage", purpose: "when the record was made" },
      reported_at: { category: "usage", purpose: "when Stripe accepted the meter event; null = still to report" },
      expired_at: { category: "usage", purpose: "set when the record fell outside Stripe's 35-day window unreported" },
    },
  },
  {
    table: usageSamples,
    subject: "user_id",
    onDeletion: "keep",
    retention: {
      kind: "time",
      columns: ["at"],
      days: 30,
      configured: "samplesDays",
      rule: "USAGE_SAMPLES_DAYS (at most 30); their hourly rollups keep the usage logs 12 months (policy §6)",
    },
    columns: {
      id: { category: "usage", purpose: "row identifier" },
      session_id: { category: "usage", purpose: "the session the sample measures" },
      user_id: { category: "usage", purpose: "whose session it is (export, erasure, owner queries)" },
      at: { category: "usage", purpose: "when the sample was taken (one per session and cron tick)" },
      gpu_count: { category: "usage", purpose: "GPUs held when sampled" },
      gpu_utilization_percent: { category: "usage", purpose: "GPU utilization, mean over the session's GPUs (policy §1: compute usage metrics); null when unreadable" },
      gpu_utilization_max_percent: { category: "usage", purpose: "busiest GPU's utilization: idle disconnect (resource management, policy §1)" },
      gpu_memory_used_mb: { category: "usage", purpose: "VRAM used, summed over the session's GPUs (policy §1)" },
      gpu_memory_total_mb: { category: "usage", purpose: "VRAM installed, summed over the session's GPUs (policy §1)" },
      gpus: { category: "usage", purpose: "utilization and VRAM of each of the session's GPUs (policy §1), shown to the user per GPU" },
      cpu_percent: { category: "usage", purpose: "CPU use of the container (resource management; idle disconnect of CPU plans)" },
      memory_used_bytes: { category: "usage", purpose: "memory use of the container (resource management)" },
      shells_attached: { category: "usage", purpose: "interactive shells attached: a session with a shell is never idle-disconnected" },
    },
  },
  {
    table: usageHourly,
    subject: "user_id",
    onDeletion: "keep",
    retention: { kind: "time", columns: ["hour"], days: 365, rule: "12 months, with the other usage logs (policy §6)" },
    columns: {
      session_id: { category: "usage", purpose: "the session measured" },
      user_id: { category: "usage", purpose: "whose session it is (export, erasure, owner queries)" },
      hour: { category: "usage", purpose: "the clock hour rolled up" },
      samples: { category: "usage", purpose: "per-minute samples rolled into the hour" },
      gpu_count: { category: "usage", purpose: "GPUs held" },
      gpu_utilization_mean_percent: { category: "usage", purpose: "mean GPU utilization over the hour (policy §1: compute usage metrics)" },
      gpu_utilization_samples: { category: "usage", purpose: "samples that had a GPU utilization: the mean's weight" },
      gpu_utilization_max_percent: { category: "usage", purpose: "busiest GPU's peak utilization (policy §1)" },
      gpu_memory_used_max_mb: { category: "usage", purpose: "peak VRAM used, summed over the GPUs (policy §1)" },
      gpu_memory_total_mb: { category: "usage", purpose: "VRAM installed (policy §1)" },
      gpus: { category: "usage", purpose: "each GPU's mean and peak utilization and VRAM peak (policy §1)" },
      gpu_utilization_bins: { category: "derived", purpose: "samples per utilization bin, for the operators' aggregate statistics (policy §2)" },
      cpu_mean_percent: { category: "usage", purpose: "mean CPU use (resource management)" },
      cpu_max_percent: { category: "usage", purpose: "peak CPU use (resource management)" },
      memory_used_max_bytes: { category: "usage", purpose: "peak memory use (resource management)" },
    },
  },
  {
    table: sessions,
    subject: "user_id",
    onDeletion: "keep",
    retention: { kind: "time", columns: ["ended_at"], days: 365, rule: "12 months after the session ended, for billing reconciliation and disputes (policy §6)" },
    columns: {
      id: { category: "usage", purpose: "session identifier shown to the user and carried by the container's labels" },
      user_id: { category: "usage", purpose: "whose session it is; at most one live session per user" },
      workspace_id: { category: "usage", purpose: "the workspace mounted in the session's container" },
      host_id: { category: "technical_log", purpose: "GPU host running the container (policy §1: container metadata)" },
      plan_id: { category: "usage", purpose: "associated GPU plan (policy §1)" },
      image: { category: "technical_log", purpose: "the workspace image the container ran (policy §1: container metadata)" },
      state: { category: "usage", purpose: "lifecycle: starting, running, stopping, ended or failed" },
      created_at: { category: "usage", purpose: "when connect was requested" },
      started_at: { category: "usage", purpose: "session start time: billing starts here (policy §1)" },
      ended_at: { category: "usage", purpose: "session end time: billing stops here (policy §1)" },
      duration_ms: { category: "usage", purpose: "session duration billed (policy §1)" },
      container_id: { category: "technical_log", purpose: "container ID (policy §1: container metadata)" },
      gpu_type: { category: "technical_log", purpose: "resource allocation: GPU model (policy §1)" },
      gpu_count: { category: "technical_log", purpose: "resource allocation: number of GPUs (policy §1)" },
      gpu_ids: { category: "technical_log", purpose: "resource allocation: which GPUs of the host (policy §1)" },
      cpus: { category: "technical_log", purpose: "resource allocation: CPU limit (policy §1)" },
      memory_mb: { category: "technical_log", purpose: "resource allocation: memory limit (policy §1)" },
      pids_limit: { category: "technical_log", purpose: "resource allocation: process limit (policy §1)" },
      ports: { category: "technical_log", purpose: "port assignments (policy §1: container metadata)" },
      failure_code: { category: "technical_log", purpose: "why a session failed (an error code, no message from the host)" },
    },
  },
  {
    table: workspaceArchives,
    subject: "user_id",
    onDeletion: "erase",
    retention: {
      kind: "lifecycle",
      rule: "lives with the cold copy it describes; removed with it when the workspace is restored, destroyed or deleted after inactivity (policy §6); content is never stored here",
    },
    columns: {
      workspace_id: { category: "usage", purpose: "the workspace archived" },
      user_id: { category: "usage", purpose: "owner (export, erasure, owner queries)" },
      host_id: { category: "technical_log", purpose: "the host the archive was read from" },
      object_key: { category: "technical_log", purpose: "where the cold copy lies in R2" },
      upload_id: { category: "technical_log", purpose: "the R2 multipart upload in progress, for resuming" },
      phase: { category: "technical_log", purpose: "uploading, committed (hot copy being deleted) or complete" },
      part_size: { category: "technical_log", purpose: "fixed part size of the multipart upload" },
      size_bytes: { category: "usage", purpose: "archive size as the host produced it; never the content (policy §3)" },
      sha256: { category: "technical_log", purpose: "archive SHA-256 as the host produced it: verified before the hot copy is deleted and on restore" },
      part_hashes: { category: "technical_log", purpose: "SHA-256 of each part as the host produced it: each uploaded part is verified" },
      parts: { category: "technical_log", purpose: "parts uploaded so far (number and R2 etag), for resuming" },
      attempts: { category: "technical_log", purpose: "cron runs that worked on the archive" },
      last_error_code: { category: "technical_log", purpose: "why the last run stopped (an error code)" },
      lease_until: { category: "technical_log", purpose: "overlapping cron runs never work on one archive twice" },
      started_at: { category: "technical_log", purpose: "when archiving began" },
      updated_at: { category: "technical_log", purpose: "last progress" },
      completed_at: { category: "technical_log", purpose: "when the cold copy was verified and the hot copy deleted" },
    },
  },
  {
    table: workspaces,
    subject: "user_id",
    onDeletion: "keep",
    retention: {
      kind: "time",
      columns: ["deleted_at"],
      days: 365,
      rule: "the row lives with the workspace; once destroyed it is kept 12 months with the sessions that name it (policy §6); content is never stored here",
    },
    columns: {
      id: { category: "usage", purpose: "workspace identifier (names its volume on the host)" },
      user_id: { category: "usage", purpose: "owner; one workspace per user" },
      host_id: { category: "technical_log", purpose: "GPU host holding the hot volume" },
      state: { category: "usage", purpose: "hot, archiving, cold, restoring, deleting or deleted" },
      created_at: { category: "usage", purpose: "when the workspace was created" },
      last_used_at: { category: "usage", purpose: "last session: workspace retention counts from activity (policy §6)" },
      deleted_at: { category: "usage", purpose: "when the workspace was destroyed" },
      size_bytes: { category: "usage", purpose: "storage used, for the user and for cold storage; never the content (policy §3)" },
      size_measured_at: { category: "usage", purpose: "when size_bytes was measured" },
      transfer_bytes: { category: "usage", purpose: "progress of the archive or restore in progress, shown to the user" },
      deletion_warned_at: { category: "usage", purpose: "when the 7-day warning before inactivity deletion was emailed (policy §6)" },
      ssh_host_key: { category: "technical_log", purpose: "the public half of the workspace's SSH host key, shown so the user can verify a first connection (policy §5)" },
    },
  },
  {
    table: gpuHosts,
    subject: null,
    onDeletion: null,
    retention: { kind: "registry", rule: "while the host is in service; removed by an operator" },
    columns: {
      id: { category: "infrastructure", purpose: "host identifier" },
      name: { category: "infrastructure", purpose: "operator-facing name" },
      transport: { category: "infrastructure", purpose: "how the Worker reaches the provisioner" },
      base_url: { category: "infrastructure", purpose: "the provisioner's address: the only hosts the Worker calls" },
      gpu_type: { category: "infrastructure", purpose: "placement: GPU model offered" },
      gpu_count: { category: "infrastructure", purpose: "placement: GPUs installed" },
      status: { category: "infrastructure", purpose: "placement: active, draining or offline" },
      region: { category: "infrastructure", purpose: "placement: only hosts in the allowed US regions get workspaces (policy §9)" },
      registered_at: { category: "infrastructure", purpose: "when the host was registered" },
      last_seen_at: { category: "infrastructure", purpose: "last successful contact" },
    },
  },
  {
    table: stripeEvents,
    subject: "user_id",
    onDeletion: "keep",
    retention: { kind: "time", columns: ["processed_at"], days: 365, rule: "12 months, with the other billing logs, for reconciliation and disputes (policy §6)" },
    columns: {
      event_id: { category: "payment_reference", purpose: "Stripe event id: applies each webhook exactly once (unique key)" },
      type: { category: "payment_reference", purpose: "Stripe event type (subscription or invoice change)" },
      user_id: { category: "payment_reference", purpose: "whose billing the event concerned (export, erasure)" },
      event_created_at: { category: "payment_reference", purpose: "when Stripe created the event: orders deliveries" },
      processed_at: { category: "payment_reference", purpose: "when we applied it; billing-log retention counts from here (policy §6)" },
    },
  },
  {
    table: checkoutClaims,
    subject: "user_id",
    onDeletion: "erase",
    retention: { kind: "time", columns: ["expires_at"], days: 0, rule: "deleted once expired (with the Checkout Session it names), or with the account" },
    columns: {
      user_id: { category: "payment_reference", purpose: "the account checking out: one open Checkout per account" },
      plan_id: { category: "payment_reference", purpose: "the plan being bought: the same plan again gets the same page" },
      claimed_at: { category: "payment_reference", purpose: "when the checkout was started; part of the Checkout Session's idempotency key" },
      expires_at: { category: "payment_reference", purpose: "when the claim and its Checkout Session end" },
    },
  },
  {
    table: deletionOutbox,
    subject: "user_id",
    onDeletion: "keep",
    retention: {
      kind: "lifecycle",
      rule: "written by the account's deletion (or a confirmed email correction); removed once Stripe confirmed the subscription canceled and the customer deleted (or the customer's email replaced) (policy §7)",
    },
    columns: {
      user_id: { category: "payment_reference", purpose: "the account (pseudonymous id once deleted)" },
      operation: { category: "technical_log", purpose: "what Stripe is to do: delete the customer, or replace its email with the corrected one" },
      email: { category: "account", purpose: "the corrected address sent to Stripe's customer (policy §7 correction, §4); null on deletion rows: the deletion clears it" },
      stripe_customer_id: { category: "payment_reference", purpose: "the Stripe customer to delete: it holds the email address and our id (policy §4)" },
      stripe_subscription_id: { category: "payment_reference", purpose: "the subscription to cancel, so a deleted account is billed no further" },
      subscription_canceled_at: { category: "payment_reference", purpose: "when Stripe confirmed the cancellation: a retry goes on with the customer" },
      attempts: { category: "technical_log", purpose: "runs that worked on the row: the retry backoff grows with it" },
      next_attempt_at: { category: "technical_log", purpose: "when the next run may try (backoff, and the hold of a run in progress)" },
      last_error_code: { category: "technical_log", purpose: "why the last attempt failed (an error code, never Stripe's message)" },
      created_at: { category: "technical_log", purpose: "when the account was deleted" },
    },
  },
  {
    table: billingAccounts,
    subject: "user_id",
    onDeletion: "keep",
    retention: {
      kind: "time",
      columns: ["closed_at"],
      days: 365,
      rule: "while the account is active, since it is what ties the account to its Stripe billing (policy §1); on deletion only the Stripe references stay, for billing law and disputes, and the row is deleted 12 months later (policy §6)",
    },
    columns: {
      user_id: { category: "payment_reference", purpose: "the account billed; our opaque reference, the only identifier besides the email we give Stripe (policy §4)" },
      stripe_customer_id: { category: "payment_reference", purpose: "Stripe customer ID (policy §1: managing the billing relationship)" },
      stripe_subscription_id: { category: "payment_reference", purpose: "Stripe subscription ID (policy §1)" },
      subscription_status: { category: "payment_reference", purpose: "subscription status Stripe reports: entitlement to GPU sessions" },
      plan_id: { category: "payment_reference", purpose: "the plan subscribed to (policy §1: plan selection)" },
      current_period_end: { category: "payment_reference", purpose: "end of the paid period, shown to the user" },
      past_due_since: { category: "payment_reference", purpose: "start of the grace period after a failed payment" },
      last_event_at: { category: "payment_reference", purpose: "newest Stripe event applied: older deliveries never move the subscription backwards" },
      created_at: { category: "payment_reference", purpose: "when the Stripe customer was created" },
      updated_at: { category: "payment_reference", purpose: "last change" },
      closed_at: { category: "payment_reference", purpose: "when the account was deleted: webhooks change nothing after it; retention counts from here" },
    },
  },
  {
    table: sshKeys,
    subject: "user_id",
    onDeletion: "erase",
    retention: { kind: "account", rule: "until the user removes the key; deleted with the account (policy §7)" },
    columns: {
      id: { category: "account", purpose: "key identifier, to remove it" },
      user_id: { category: "account", purpose: "whose key it is" },
      name: { category: "account", purpose: "the label the user gave it (the key's comment by default)" },
      type: { category: "account", purpose: "key algorithm: ssh-ed25519 or ssh-rsa" },
      bits: { category: "account", purpose: "key size: RSA keys below 3072 bits are refused" },
      public_key: { category: "account", purpose: "the public key installed for the session's user, so the user can SSH in (never a private key)" },
      fingerprint: { category: "derived", purpose: "SHA-256 fingerprint shown to the user, as ssh-keygen prints it" },
      created_at: { category: "account", purpose: "when the key was added" },
    },
  },
  {
    table: users,
    subject: "id",
    onDeletion: "erase",
    retention: {
      kind: "account",
      rule: "while the account is active; on deletion every personal field is cleared (the dates become the deletion time) and the id stays as the pseudonym the kept billing records name (policy §6, §7)",
    },
    columns: {
      id: { category: "account", purpose: "opaque account identifier" },
      username: { category: "account", purpose: "sign-in name shown to the user (policy §1)" },
      email: { category: "account", purpose: "sign-in, verification, account and billing emails (policy §1, §2)" },
      password_hash: { category: "security", secret: true, purpose: "bcrypt hash of the peppered password; never plaintext (policy §1, §5)" },
      role: { category: "account", purpose: "authorization: user or admin" },
      plan_id: { category: "account", purpose: "plan selection (policy §1)" },
      created_at: { category: "account", purpose: "account creation date (policy §1)" },
      email_verified_at: { category: "account", purpose: "GPU sessions require a verified email" },
      last_active_at: { category: "derived", purpose: "workspace retention counts from last activity (policy §6)" },
      policy_version: { category: "account", purpose: "privacy policy version accepted at signup or later (policy §11)" },
      policy_accepted_at: { category: "account", purpose: "when a later policy version was accepted (policy §11)" },
      age_confirmed_at: { category: "account", purpose: "18+ confirmation instead of a date of birth (policy §10)" },
      deleted_at: { category: "account", purpose: "when deletion was requested (policy §7)" },
      usage_limit_hours: { category: "account", purpose: "monthly GPU-hour limit the user set, for the usage billing notification (policy §2)" },
      usage_limit_action: { category: "account", purpose: "the user's choice at the monthly limit: a notice only, or the session disconnected and new ones refused (policy §2)" },
      usage_alert_month: { category: "derived", purpose: "month of the last usage-limit email: sent once per threshold and month" },
      usage_alert_percent: { category: "derived", purpose: "highest usage-limit threshold emailed that month" },
      analysis_objected_at: { category: "account", purpose: "objection to aggregate analysis: the account is left out of operator statistics (policy §2, §7)" },
    },
  },
  {
    table: singleUseTokens,
    subject: "user_id",
    onDeletion: "erase",
    retention: { kind: "time", columns: ["expires_at", "used_at"], days: 0, rule: "deleted once used or expired" },
    columns: {
      token_hash: { category: "security", secret: true, purpose: "SHA-256 of a verification or reset token" },
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
    onDeletion: "erase",
    retention: { kind: "time", columns: ["expires_at"], days: 0, rule: "deleted once expired (kept used until then for reuse detection)" },
    columns: {
      token_hash: { category: "security", secret: true, purpose: "SHA-256 of an opaque refresh token" },
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
    onDeletion: "erase",
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
    table: privacyRequests,
    subject: "user_id",
    // The record that a right was asked for and how it was answered is what shows the policy kept
    // (§7); deleting the account erases its free-text message and keeps the rest pseudonymous.
    onDeletion: "keep",
    retention: { kind: "time", columns: ["created_at"], days: 1095, rule: "3 years after the request was made: proof of how a right was answered (policy §6 legal retention)" },
    columns: {
      id: { category: "account", purpose: "row identifier" },
      user_id: { category: "account", purpose: "who made the request" },
      kind: { category: "account", purpose: "the right asked for (policy §7)" },
      message: { category: "account", purpose: "what the user wrote; erased when the account is deleted" },
      state: { category: "account", purpose: "open, in progress, completed or rejected" },
      reason: { category: "account", purpose: "why a request was rejected" },
      created_at: { category: "account", purpose: "when it was made" },
      due_at: { category: "account", purpose: "the 30-day deadline (policy §7)" },
      updated_at: { category: "account", purpose: "last change of state" },
      reminded: { category: "derived", purpose: "the last deadline reminder sent to the admins (due soon, overdue)" },
    },
  },
  {
    table: accountEvents,
    subject: "user_id",
    onDeletion: "keep",
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
    table: accessLogObjects,
    subject: "user_id",
    onDeletion: "erase",
    retention: { kind: "time", columns: ["day"], days: 90, rule: "90 days, with the access-log day prefix it points into (policy §6); deleted with the account once its lines lost their IP" },
    columns: {
      user_id: { category: "technical_log", purpose: "whose lines the object holds: the export and the deletion read only that user's objects" },
      day: { category: "technical_log", purpose: "the object's UTC day partition" },
      key: { category: "technical_log", purpose: "the R2 object in the LOGS bucket" },
    },
  },
  {
    table: accessLogSlots,
    subject: null,
    onDeletion: null,
    retention: { kind: "registry", rule: "a bucket-hour waiting for the hourly compaction, deleted once compacted (or with its day at 90 days); no personal data" },
    columns: {
      day: { category: "infrastructure", purpose: "the UTC day of the bucket-hour" },
      bucket: { category: "infrastructure", purpose: "the user bucket (a hash of user ids, no user)" },
      hour: { category: "infrastructure", purpose: "the UTC hour" },
    },
  },
  {
    table: errorLogs,
    subject: "user_id",
    onDeletion: "erase",
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
  {
    table: policyVersions,
    subject: null,
    onDeletion: null,
    retention: { kind: "registry", rule: "every published version is kept: users accepted it (policy §11)" },
    columns: {
      version: { category: "infrastructure", purpose: "the version's \"Last updated\" date" },
      published_at: { category: "infrastructure", purpose: "when an admin published it" },
      material: { category: "infrastructure", purpose: "whether the change is emailed to every verified address (policy §11)" },
      summary: { category: "infrastructure", purpose: "summary of changes, sent in the notice email" },
      text: { category: "infrastructure", purpose: "the policy text served at /privacy" },
      transfer: { category: "infrastructure", purpose: "the business transfer the version announces, told in the notice email (policy §4)" },
    },
  },
  {
    table: databaseStats,
    subject: null,
    onDeletion: null,
    retention: { kind: "registry", rule: "one small row a day, kept as the database's growth history to plan capacity from; no personal data" },
    columns: {
      day: { category: "infrastructure", purpose: "the UTC day measured" },
      measured_at: { category: "infrastructure", purpose: "when the daily job measured it" },
      size_bytes: { category: "infrastructure", purpose: "the database's size against D1's limit" },
      table_rows: { category: "infrastructure", purpose: "each table's row count (counts only, no row)" },
      warned_at: { category: "infrastructure", purpose: "when the admins were told the database is near its limit" },
    },
  },
  {
    table: policyNotices,
    subject: "user_id",
    onDeletion: "erase",
    retention: { kind: "account", rule: "while the account is active: the record that a material policy change was emailed once; deleted with the account" },
    columns: {
      user_id: { category: "account", purpose: "the account told of the change" },
      version: { category: "account", purpose: "the policy version it was told of" },
      claimed_at: { category: "derived", purpose: "when a cron tick took the email on: a second tick skips it" },
      sent_at: { category: "account", purpose: "when the notice email was sent (policy §11)" },
    },
  },
];

export const tableName = (entry: TableEntry) => getTableConfig(entry.table).name;

/**
 * Personal data kept outside D1: objects in an R2 bucket, under a prefix. Each is in the §7 export
 * under `name` (a test fails for one that is not), with its own retention and deletion rule.
 */
export interface SinkEntry {
  /** The export's key for the sink's records, beside the tables'. */
  name: string;
  /** The R2 binding (wrangler.toml) and the prefix the sink's objects lie under. */
  binding: "LOGS";
  prefixes: readonly string[];
  /** The record field that ties a record to a user. */
  subject: string;
  /** Where the export finds one user's objects without scanning everyone's. */
  index: SQLiteTable;
  retention: { kind: "time"; days: number; rule: string };
  onDeletion: OnDeletion;
  fields: Record<string, ColumnEntry>;
}

export const sinks: readonly SinkEntry[] = [
  {
    name: "access_logs",
    binding: "LOGS",
    // access-dlq/: lines the queue could not deliver, waiting for the daily replay into access/.
    prefixes: ["access/", "access-dlq/"],
    subject: "user_id",
    index: accessLogObjects,
    retention: {
      kind: "time",
      days: 90,
      rule: "90 days (policy §6: server access logs, IP addresses included): a UTC day's prefix is deleted on the day it turns 90; an account's deletion clears the IP and user agent of the requests it made or its audit rows name",
    },
    onDeletion: "erase",
    fields: {
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
];
