import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";
import { users } from "./accounts";

/** Published privacy policy versions (policy §11). The version is its "Last updated" date, YYYY-MM-DD. */
export const policyVersions = sqliteTable("policy_versions", {
  version: text("version").primaryKey(),
  publishedAt: timestamp("published_at").notNull(),
  /** A material change is emailed to every account with a verified address (policy §11). */
  material: integer("material", { mode: "boolean" }).notNull(),
  summary: text("summary").notNull(),
  text: text("text").notNull(),
  /** The merger, acquisition or sale of assets this version announces (policy §4); its notice says so. */
  transfer: text("transfer"),
});

/**
 * One row per account and material version: claimed before the email is sent, so overlapping cron
 * ticks never email anyone twice; `sent_at` null past the claim timeout means the tick died
 * before sending, and a later tick reclaims it.
 */
export const policyNotices = sqliteTable(
  "policy_notices",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    version: text("version").notNull(),
    claimedAt: timestamp("claimed_at").notNull(),
    sentAt: timestamp("sent_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.version] }), index("policy_notices_version_idx").on(t.version, t.sentAt)],
);
