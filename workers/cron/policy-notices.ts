import { sendPolicyNotices } from "../domain/privacy";
import type { Job } from "./job";

/** Every minute: the next batch of a material policy change's notice emails (policy §11), each account once. */
export const policyNoticesJob: Job = { name: "policy-notices", run: sendPolicyNotices };
