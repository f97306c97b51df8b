import { disconnectUnentitledSessions } from "../domain/billing";
import { hostJob } from "./job";

/** Every minute: sessions whose subscription lapsed past its grace period are disconnected. */
export const billingEnforcementJob = hostJob("billing-enforcement", disconnectUnentitledSessions);
