/** The settings every request needs: the website's URL, token issuer and keys, the password pepper and cost. */
import { base64 } from "@scure/base";
import { type CryptoKey, importJWK, type JWK } from "jose";
import { z } from "zod";
import type { Env } from "../../env";
import { invalid, jwkSchema, parseEnv } from "./env";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface AppConfig {
  appUrl: string;
  issuer: string;
  audience: string;
  emailFrom: string;
  corsOrigins: string[];
  bcryptCost: number;
  pepper: Uint8Array;
  accessKeys: SigningKey[];
  /** Policy-change notices (policy §11) one cron minute sends: bounded, so a tick stays within its limits. */
  policyNoticeBatch: number;
}

const envSchema = z.object({
  APP_URL: z.url(),
  API_ISSUER: z.string().min(1),
  API_AUDIENCE: z.string().min(1),
  EMAIL_FROM: z.email(),
  CORS_ORIGINS: z.string().default(""),
  // policy §5 / ARCHITECTURE: bcrypt cost ≥ 10, configurable upwards.
  BCRYPT_COST: z.coerce.number().int().min(10).max(15),
  ACCESS_TOKEN_KEYS: z.string().min(1),
  PASSWORD_PEPPER: z.string().min(1),
  POLICY_NOTICE_BATCH: z.coerce.number().int().min(1).max(1000).default(100),
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

export async function parseAppConfig(env: Env): Promise<AppConfig> {
  const e = parseEnv(envSchema, env);
  let pepper: Uint8Array;
  let accessKeys: SigningKey[];
  try {
    pepper = base64.decode(e.PASSWORD_PEPPER);
    accessKeys = await importKeys(e.ACCESS_TOKEN_KEYS);
  } catch {
    throw invalid("ACCESS_TOKEN_KEYS or PASSWORD_PEPPER");
  }
  if (pepper.length < 32) throw invalid("PASSWORD_PEPPER is shorter than 32 bytes");
  return {
    appUrl: e.APP_URL.replace(/\/$/, ""),
    issuer: e.API_ISSUER,
    audience: e.API_AUDIENCE,
    emailFrom: e.EMAIL_FROM,
    corsOrigins: e.CORS_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    bcryptCost: e.BCRYPT_COST,
    pepper,
    accessKeys,
    policyNoticeBatch: e.POLICY_NOTICE_BATCH,
  };
}

