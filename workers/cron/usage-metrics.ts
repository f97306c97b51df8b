import { collectUsage } from "../domain/usage";
import { hostJob } from "./job";

/** Every minute: one usage sample per running session (policy §1 usage data; §6 kept 12 months). */
export const usageMetricsJob = hostJob("usage-metrics", collectUsage);
