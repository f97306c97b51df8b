/** Billing: Stripe checkout and portal, signed webhooks, enforcement of a lapsed subscription, usage metering. */
export { type BillingView, CHECKOUT_CLAIM_MS, getBilling, openPortal, startCheckout } from "./checkout";
export { applyStripeEvent, type WebhookOutcome } from "./webhooks";
export { disconnectUnentitledSessions } from "./enforcement";
export { meterUsage } from "./metering";
export { cancelSubscriptionOfDeletedAccount, eraseBillingDetails } from "./account-deletion";
