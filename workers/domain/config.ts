import { base64 } from "@scure/base";
import { type CryptoKey, importJWK, type JWK } from "jose";
import { z } from "zod";
import type { Env } from "../env";
import { AppError } from "./errors";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface Config {
  appUrl: string;
  issuer: string;
  audience: string;
  emailFrom: string;
  corsOrigins: string[];
  bcryptCost: number;
  pepper: Uint8Array;
  accessKeys: SigningKey[];
}

const jwkSchema = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), kid: z.string().min(1), d: z.string(), x: z.string() });

const envSchema = z.object({
  APP_URL: z.url(),
  API_ISSUER: z.string().min(1),
  API_AUDIENCE: z.string().min(1),
  EMAIL_FROM: z.email(),
  CORS_ORIGINS: z.string(),
  // policy §5 / ARCHITECTURE: bcrypt cost ≥ 10, configurable upwards.
  BCRYPT_COST: z.coerce.number().int().min(10).max(15),
  ACCESS_TOKEN_KEYS: z.string().min(1),
  PASSWORD_PEPPER: z.string().min(1),
});

async function importKeys(raw: string): Promise<SigningKey[]> {
  const jwks = z.array(jwkSchema).min(1).parse(JSON.parse(raw));
  return Promise.all(
    jwks.map(async (jwk) => ({
      kid: jwk.kid,
      privateKey: (await importJWK({ ...jwk, alg: "EdDSA" } as JWK, "EdDSA")) as CryptoKey,
      publicKey: (await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, alg: "EdDSA" }, "EdDSA")) as CryptoKey,
    })),
  );
}

/** The settings `schema` reads from `env`, or `not_configured` naming what is wrong (names only: never values, they are secrets). */
function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new AppError("not_configured", `Configuration is missing or invalid: ${missing}`);
  }
  return parsed.data;
}

/** Parsed once per isolate per distinct environment (keys are imported, which is async); a failure is not kept. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, parse: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = parse();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}

const cache = new Map<string, Promise<Config>>();

async function parse(env: Env): Promise<Config> {
  const e = parseEnv(envSchema, env);
  let pepper: Uint8Array;
  let accessKeys: SigningKey[];
  try {
    pepper = base64.decode(e.PASSWORD_PEPPER);
    accessKeys = await importKeys(e.ACCESS_TOKEN_KEYS);
  } catch {
    throw new AppError("not_configured", "Configuration is invalid: ACCESS_TOKEN_KEYS or PASSWORD_PEPPER");
  }
  if (pepper.length < 32) throw new AppError("not_configured", "Configuration is invalid: PASSWORD_PEPPER is shorter than 32 bytes");
  return {
    appUrl: e.APP_URL.replace(/\/$/, ""),
    issuer: e.API_ISSUER,
    audience: e.API_AUDIENCE,
    emailFrom: e.EMAIL_FROM,
    corsOrigins: e.CORS_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    bcryptCost: e.BCRYPT_COST,
    pepper,
    accessKeys,
  };
}

export function loadConfig(env: Env): Promise<Config> {
  const key = JSON.stringify([env.APP_URL, env.API_ISSUER, env.API_AUDIENCE, env.EMAIL_FROM, env.CORS_ORIGINS, env.BCRYPT_COST, env.ACCESS_TOKEN_KEYS, env.PASSWORD_PEPPER]);
  return cached(cache, key, () => parse(env));
}

/** Settings of the Worker ↔ provisioner link (ARCHITECTURE "Worker ↔ provisioner"). */
export interface ProvisionerConfig {
  /** Signs every request; provisioners hold only the public half. */
  signingKey: { kid: string | undefined; privateKey: CryptoKey };
  workspaceImage: string;
  /** The host registered from configuration (local dev, tests, a single-host deployment); null: registry only. */
  configuredHost: { baseUrl: string; gpuType: string | null; gpuCount: number } | null;
  /** Cloudflare Access service token, sent to hosts behind an Access-protected tunnel hostname. */
  access: { clientId: string; clientSecret: string } | null;
  /** The longest a provisioner call may take (a container create); quicker calls get a fraction. */
  timeoutMs: number;
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);
const isLoopback = (hostname: string) => LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/**
 * A service's base URL (a provisioner, Stripe's API), or null when it is not acceptable: an origin
 * only (the signed path is the whole URL path), https except on loopback — plain http is for a
 * service on this machine (a local provisioner, the tests' fake Stripe), never something a
 * forgotten setting could send over a network.
 */
export function serviceOrigin(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
  const originOnly = (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash && !url.username && !url.password;
  return secure && originOnly ? url.origin : null;
}

const provisionerEnvSchema = z.object({
  PROVISIONER_PRIVATE_KEY: z.string().min(1),
  WORKSPACE_IMAGE: z.string().min(1),
  PROVISIONER_URL: z.string().min(1).optional(),
  PROVISIONER_GPU_TYPE: z.string().min(1).optional(),
  PROVISIONER_GPU_COUNT: z.coerce.number().int().min(0).max(64).optional(),
  PROVISIONER_ACCESS_CLIENT_ID: z.string().min(1).optional(),
  PROVISIONER_ACCESS_CLIENT_SECRET: z.string().min(1).optional(),
  PROVISIONER_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(300).default(60),
});

async function parseProvisioner(env: Env): Promise<ProvisionerConfig> {
  const e = parseEnv(provisionerEnvSchema, env);
  let signingKey: ProvisionerConfig["signingKey"];
  try {
    const jwk = jwkSchema.extend({ kid: z.string().min(1).optional() }).parse(JSON.parse(e.PROVISIONER_PRIVATE_KEY));
    signingKey = { kid: jwk.kid, privateKey: (await importJWK({ ...jwk, alg: "EdDSA" } as JWK, "EdDSA")) as CryptoKey };
  } catch {
    throw new AppError("not_configured", "Configuration is invalid: PROVISIONER_PRIVATE_KEY");
  }
  let configuredHost: ProvisionerConfig["configuredHost"] = null;
  if (e.PROVISIONER_URL !== undefined) {
    const baseUrl = serviceOrigin(e.PROVISIONER_URL);
    if (!baseUrl) throw new AppError("not_configured", "Configuration is invalid: PROVISIONER_URL (an https origin, or http on loopback)");
    const gpuCount = e.PROVISIONER_GPU_COUNT ?? 0;
    if (gpuCount > 0 && !e.PROVISIONER_GPU_TYPE) throw new AppError("not_configured", "Configuration is invalid: PROVISIONER_GPU_TYPE");
    configuredHost = { baseUrl, gpuType: gpuCount > 0 ? e.PROVISIONER_GPU_TYPE! : null, gpuCount };
  }
  // Both halves of the service token or neither: half of one would fail at Access on every call.
  if ((e.PROVISIONER_ACCESS_CLIENT_ID === undefined) !== (e.PROVISIONER_ACCESS_CLIENT_SECRET === undefined)) {
    throw new AppError("not_configured", "Configuration is invalid: PROVISIONER_ACCESS_CLIENT_ID and PROVISIONER_ACCESS_CLIENT_SECRET go together");
  }
  const access = e.PROVISIONER_ACCESS_CLIENT_ID && e.PROVISIONER_ACCESS_CLIENT_SECRET ? { clientId: e.PROVISIONER_ACCESS_CLIENT_ID, clientSecret: e.PROVISIONER_ACCESS_CLIENT_SECRET } : null;
  return { signingKey, workspaceImage: e.WORKSPACE_IMAGE, configuredHost, access, timeoutMs: e.PROVISIONER_TIMEOUT_SECONDS * 1000 };
}

const provisionerCache = new Map<string, Promise<ProvisionerConfig>>();

/** Separate from `loadConfig`: accounts keep working on a Worker whose provisioner is not configured. */
export function loadProvisionerConfig(env: Env): Promise<ProvisionerConfig> {
  const key = JSON.stringify([
    env.PROVISIONER_PRIVATE_KEY,
    env.WORKSPACE_IMAGE,
    env.PROVISIONER_URL,
    env.PROVISIONER_GPU_TYPE,
    env.PROVISIONER_GPU_COUNT,
    env.PROVISIONER_ACCESS_CLIENT_ID,
    env.PROVISIONER_ACCESS_CLIENT_SECRET,
    env.PROVISIONER_TIMEOUT_SECONDS,
  ]);
  return cached(provisionerCache, key, () => parseProvisioner(env));
}

/** Cold storage settings (workers/domain/cold-storage.ts, docs/decisions/0010-cold-storage.md). */
export interface ColdStorageConfig {
  /** A hot workspace unused this long is archived to R2 (policy §6: "may be moved to cold storage at any time"). */
  coldAfterMs: number;
  /** Fixed size of every part but the last: R2 needs ≥ 5 MiB, and the Worker holds one part in memory to verify it. */
  partSizeBytes: number;
  /** Work per cron tick, so a tick ends in time and the next one continues. */
  partsPerTick: number;
  tickMs: number;
}

const coldStorageEnvSchema = z.object({
  WORKSPACE_COLD_AFTER_DAYS: z.coerce.number().min(0).max(3650).default(7),
  COLD_STORAGE_PART_MIB: z.coerce.number().int().min(5).max(64).default(16),
  COLD_STORAGE_PARTS_PER_TICK: z.coerce.number().int().min(1).max(10_000).default(64),
  COLD_STORAGE_TICK_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
});

export function loadColdStorageConfig(env: Env): ColdStorageConfig {
  const e = parseEnv(coldStorageEnvSchema, env);
  return {
    coldAfterMs: e.WORKSPACE_COLD_AFTER_DAYS * 24 * 60 * 60 * 1000,
    partSizeBytes: e.COLD_STORAGE_PART_MIB * 1024 * 1024,
    partsPerTick: e.COLD_STORAGE_PARTS_PER_TICK,
    tickMs: e.COLD_STORAGE_TICK_SECONDS * 1000,
  };
}
