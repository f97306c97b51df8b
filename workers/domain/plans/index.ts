/** Plans: the catalog, and what a user is entitled to (the restrictions that refuse a session). */
export { type CatalogPlan, type StripePrices, findPlan, type Plan, PLANS, planCatalog, planForPrice } from "./catalog";
export { defaultImageFor, findImage, IMAGES, type WorkspaceImage } from "./images";
export { type Entitlement, type SessionRestriction, type SubscriptionStanding, sessionRestrictions } from "./entitlement";
export { entitlementOf, userEntitlement } from "./entitlement";
