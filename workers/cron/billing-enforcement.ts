import { disconnectUnentitledSessions } from "../domain/billing";
import type { Job } from ".";
import { withProvisioner } from "./hosts";

/** Every minute: sessions whose subscription lapsed past its grace period are disconnected. */
export const billingEnforcementJob: Job = {
  name: "billing-enforcement",
  run: (ctx) => withProvisioner(ctx, () => disconnectUnentitledSessions(ctx)),
};
