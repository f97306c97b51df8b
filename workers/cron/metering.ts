import { meterUsage } from "../domain/billing";
import type { Job } from "./job";

/** Hourly: each billed session's time per closed clock hour, to Stripe's billing meter. */
export const meteringJob: Job = { name: "metering", run: meterUsage };
