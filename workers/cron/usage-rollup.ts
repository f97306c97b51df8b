import { rollUpUsage } from "../domain/usage";
import type { Job } from "./job";

/** Hourly: the per-minute usage samples of the hours just ended, rolled into hourly rows kept 12 months. */
export const usageRollupJob: Job = { name: "usage-rollup", run: rollUpUsage };
