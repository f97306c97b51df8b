/** Billing: Stripe checkout and portal, signed webhooks, enforcement of a lapsed subscription, usage metering, a deleted account's erasure and a corrected email's update at Stripe. */
export { type BillingView, CHECKOUT_CLAIM_MS, getBilling, openPortal, startCheckout } from "./checkout";
export { applyStripeEvent, type WebhookOutcome } from "./webhooks";
export { disconnectUnentitledSessions } from "./enforcement";
export { meterUsage } from "./metering";
export { closeBillingAccount } from "./account-deletion";
export { ERASURES_PER_TICK, eraseDeletedAccountsAtStripe, queueCustomerEmailUpdate } from "./stripe-erasure";
