import { eraseDeletedAccountsAtStripe } from "../domain/billing";
import type { Job } from "./job";

/** Every minute: deleted accounts' subscriptions canceled and customers deleted at Stripe, retried with backoff until Stripe confirms. */
export const stripeErasureJob: Job = { name: "stripe-erasure", run: eraseDeletedAccountsAtStripe };
