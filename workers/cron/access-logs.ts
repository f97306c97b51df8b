import { compactAccessLogs, forgetDeletedAccountsLines, purgeExpiredAccessLogs, reportDeadLetters } from "../domain/access-logs";
import type { Job } from "./job";

/** Hourly, policy §6: the day prefixes of access logs that turned 90 days old. */
export const accessLogRetentionJob: Job = { name: "access-log-retention", run: purgeExpiredAccessLogs };

/** Hourly: the last hour's batch objects merged into one per user (the index keeps a row per user and hour). */
export const accessLogCompactionJob: Job = { name: "access-log-compaction", run: (ctx) => compactAccessLogs(ctx) };

/** Every minute: a deleted account's lines lose their IP and user agent (the deletion starts it, this finishes it). */
export const accessLogForgetJob: Job = { name: "access-log-forget", run: (ctx) => forgetDeletedAccountsLines(ctx) };

/** Daily: dead-lettered lines written again, and the admins told of those that fail again. */
export const accessLogDeadLettersJob: Job = { name: "access-log-dead-letters", run: reportDeadLetters };
