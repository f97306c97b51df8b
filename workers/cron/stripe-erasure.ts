import { eraseDeletedAccountsAtStripe } from "../domain/billing";
import type { Job } from "./job";

/** Every minute: deleted accounts' subscriptions canceled and customers deleted at Stripe, corrected emails sent to Stripe's customers, retried with backoff until Stripe confirms. */
export const stripeErasureJob: Job = { name: "stripe-erasure", run: eraseDeletedAccountsAtStripe };
