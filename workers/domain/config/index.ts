export { type Config, loadConfig, type SigningKey } from "./app";
export { serviceOrigin } from "./env";
export { loadProvisionerConfig, type ProvisionerConfig } from "./provisioner";
export { type ColdStorageConfig, loadColdStorageConfig } from "./cold-storage";
export { DEFAULT_GRACE_DAYS, graceDays, loadStripeApiConfig, type StripeApiConfig, stripePriceIds, webhookSecret } from "./billing";
export { DEFAULT_FILE_MAX_BYTES, fileMaxBytes } from "./files";
export { type IdleSettings, idleSettings } from "./idle";
