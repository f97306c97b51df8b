import type { AccessLine } from "./adapters/log";

/** The Worker's bindings, typed once (wrangler.toml is the source of truth for their names). */
export interface Env {
  DB: D1Database;
  WORKSPACES: R2Bucket;
  /** Access-log lines, gzip NDJSON by UTC day and user bucket (workers/domain/access-logs). */
  LOGS: R2Bucket;
  /** Each request's access-log line; consumed by this Worker's queue() handler into LOGS. */
  ACCESS_LOG_QUEUE: Queue<AccessLine>;
  EMAIL: SendEmail;
  AUTH_IP_LIMITER: RateLimit;
  AUTH_ACCOUNT_LIMITER: RateLimit;
  /** Per account and route, for signed-in routes that make a host work (connect, the workspace view). */
  API_ACCOUNT_LIMITER: RateLimit;
  /** The website's files (web/dist, wrangler.toml [assets]). */
  ASSETS: Fetcher;
  APP_URL: string;
  API_ISSUER: string;
  API_AUDIENCE: string;
  EMAIL_FROM: string;
  CORS_ORIGINS: string;
  BCRYPT_COST: string;
  /** Secret: JSON array of Ed25519 private JWKs with `kid`; the first signs, all verify (rotation). */
  ACCESS_TOKEN_KEYS?: string;
  /** Secret: ≥ 32 random bytes, base64, the HMAC-SHA-384 pepper for passwords. */
  PASSWORD_PEPPER?: string;
  /**
   * The catalog image (workers/domain/plans/images.ts, by name) sessions run when connect names
   * none; unset: each plan's default. Each host builds the catalog's images itself (no registry).
   */
  DEFAULT_IMAGE?: string;
  /** Secret: the Ed25519 private JWK, with its kid, that signs requests to provisioners (they hold the public key). */
  PROVISIONER_PRIVATE_KEY?: string;
  /**
   * A provisioner to register as a host from configuration (local dev and tests: loopback http;
   * otherwise https). Without it, hosts come from the gpu_hosts registry only.
   */
  PROVISIONER_URL?: string;
  /** GPUs of the configured host, for placement (none when unset). */
  PROVISIONER_GPU_TYPE?: string;
  PROVISIONER_GPU_COUNT?: string;
  /** The configured host's region (default us-east); outside HOST_REGIONS it gets no workspace. */
  PROVISIONER_HOST_REGION?: string;
  /** Regions placement may use, comma-separated, US only (policy §9); default us-east,us-central,us-west. */
  HOST_REGIONS?: string;
  /** Cloudflare Access service token for a provisioner behind an Access-protected tunnel hostname. */
  PROVISIONER_ACCESS_CLIENT_ID?: string;
  /** Secret, with PROVISIONER_ACCESS_CLIENT_ID. */
  PROVISIONER_ACCESS_CLIENT_SECRET?: string;
  /** Policy-change notices (policy §11) emailed per cron minute; default 100. */
  POLICY_NOTICE_BATCH?: string;
  /** The largest file one upload may make, in bytes (413 past it); default 50 GiB. */
  WORKSPACE_FILE_MAX_BYTES?: string;
  /** The longest a provisioner call (a container create) may take; default 60. */
  PROVISIONER_TIMEOUT_SECONDS?: string;
  /** Cold storage (workers/domain/cold-storage): days unused before a workspace is archived to R2; default 7. */
  WORKSPACE_COLD_AFTER_DAYS?: string;
  /** Archive part size in MiB (5-64: R2's minimum, and one part is held in memory); default 16. */
  COLD_STORAGE_PART_MIB?: string;
  /** Work per cron tick: parts uploaded at most, and seconds spent at most; defaults 64 and 30. */
  COLD_STORAGE_PARTS_PER_TICK?: string;
  COLD_STORAGE_TICK_SECONDS?: string;
  /** The session shell (workers/domain/config/shell.ts): its longest life, and how often it re-checks its sign-in; defaults 43200 and 5. */
  SHELL_MAX_LIFETIME_SECONDS?: string;
  SHELL_SIGN_IN_CHECK_SECONDS?: string;
  /** Idle disconnect (workers/domain/sessions/idle.ts): minutes of idleness, and the thresholds under which a session is idle. */
  IDLE_MINUTES?: string;
  IDLE_GPU_UTIL_PERCENT?: string;
  /** 100 = one core busy; used for plans without GPUs. */
  IDLE_CPU_PERCENT?: string;
  /** Operator statistics: a figure drawn from fewer distinct users is suppressed (k, at least 5; default 5). */
  STATS_MIN_USERS?: string;
  DATABASE_LIMIT_BYTES?: string;
  DATABASE_WARN_PERCENT?: string;
  USAGE_SAMPLES_DAYS?: string;
  /** Secret: Stripe API key. Without it, billing routes answer 503 billing_not_configured. */
  STRIPE_SECRET_KEY?: string;
  /** Secret: the webhook endpoint's signing secret (whsec_…). Without it, webhooks answer 503. */
  STRIPE_WEBHOOK_SECRET?: string;
  /** JSON: plan id → { base, usage } Stripe price ids (not secret). A plan without an entry is not sold. */
  STRIPE_PRICE_IDS?: string;
  /** Stripe's API origin; default https://api.stripe.com. Tests point it at a local fake (http on loopback only). */
  STRIPE_API_BASE?: string;
  /** The longest one Stripe API call may take; default 10. */
  STRIPE_TIMEOUT_SECONDS?: string;
  /** Days a past_due subscription may still start sessions; default 3. */
  BILLING_GRACE_DAYS?: string;
}
