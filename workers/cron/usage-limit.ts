import { enforceUsageLimits } from "../domain/sessions";
import type { Job } from "./job";

/**
 * Every minute, not hourly: on an 8-GPU plan an hour is a large part of a limit, so a warning an
 * hour late could come after the limit was passed. Each tick reads only users with a live or
 * just-ended session (indexed), so running it often stays cheap. Then the running sessions of
 * users who chose to be disconnected at their limit are disconnected.
 */
export const usageLimitJob: Job = { name: "usage-limit", run: enforceUsageLimits };
