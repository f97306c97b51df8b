import { purgeExpired } from "../domain/privacy";
import type { Job } from "./job";

/** Hourly, policy §6: every table with a time rule in the data inventory is purged in bounded chunks. */
export const retentionJob: Job = { name: "retention", run: purgeExpired };
