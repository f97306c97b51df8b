import { meterUsage } from "../domain/billing";
import type { Job } from ".";

/** Hourly: each billed session's time per closed clock hour, to Stripe's billing meter (issue 4 item 5). */
export const meteringJob: Job = {
  name: "metering",
  run: (ctx) => meterUsage(ctx),
};
