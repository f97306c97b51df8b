import { withProvisioner } from "./hosts";
import { collectUsage } from "../domain/usage";
import type { Job } from ".";

/** Every minute: one usage sample per running session (policy §1 usage data; §6 kept 12 months). */
export const usageMetricsJob: Job = {
  name: "usage-metrics",
  run: (ctx) => withProvisioner(ctx, (settings) => collectUsage(ctx, settings)),
};
