/** The Worker's bindings, typed once (wrangler.toml is the source of truth for their names). */
export interface Env {
  DB: D1Database;
  WORKSPACES: R2Bucket;
  EMAIL: SendEmail;
  AUTH_IP_LIMITER: RateLimit;
  AUTH_ACCOUNT_LIMITER: RateLimit;
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
}
