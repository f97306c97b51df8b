import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

/** How the Worker reaches a host's provisioner (docs/provisioner.md). Only `url` exists so far. */
export const HOST_TRANSPORTS = ["url"] as const;

export const HOST_STATUSES = ["active", "draining", "offline"] as const;

/** The GPU host registry: placement reads it; outbound calls go only to the hosts it lists. */
export const gpuHosts = sqliteTable("gpu_hosts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  transport: text("transport", { enum: HOST_TRANSPORTS }).notNull(),
  baseUrl: text("base_url").notNull(),
  /** Null for a host without GPUs (CPU plans only). */
  gpuType: text("gpu_type"),
  gpuCount: integer("gpu_count").notNull(),
  status: text("status", { enum: HOST_STATUSES }).notNull(),
  /**
   * Where the machine stands (policy §9: the Services are hosted in the United States): placement
   * uses only hosts in the allowed regions (HOST_REGIONS). Rows from before regions were recorded
   * were all US hosts, hence the default; an operator names the region of every new row.
   */
  region: text("region").notNull().default("us-east"),
  registeredAt: timestamp("registered_at").notNull(),
  lastSeenAt: timestamp("last_seen_at"),
});
