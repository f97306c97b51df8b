import { type CryptoKey, importJWK, type JWK } from "jose";
import { z } from "zod";
import type { ProvisionerSigningKey } from "../../../contract/provisioner-token";
import type { Env } from "../../env";
import { invalid, jwkSchema, parseEnv, serviceOrigin } from "./env";

/** Settings of the Worker ↔ provisioner link (ARCHITECTURE "Worker ↔ provisioner"). */
export interface ProvisionerConfig {
  /** Signs every request; provisioners hold only the public half, and pick it by this kid. */
  signingKey: ProvisionerSigningKey;
  /**
   * The catalog image (a name) every session runs when connect names none, where its plan may run
   * it; null: each plan's own default (images.ts). The test stacks choose `minimal`, the fast one.
   */
  defaultImage: string | null;
  /** The host registered from configuration (local dev, tests, a single-host deployment); null: registry only. */
  configuredHost: { baseUrl: string; gpuType: string | null; gpuCount: number; region: string } | null;
  /** Policy §9 (hosted in the United States): placement uses only hosts in these regions, all US ones. */
  allowedRegions: string[];
  /** Cloudflare Access service token, sent to hosts behind an Access-protected tunnel hostname. */
  access: { clientId: string; clientSecret: string } | null;
  /** The longest a provisioner call may take (a container create); quicker calls get a fraction. */
  timeoutMs: number;
}

/** A region name as the registry writes it: `us-east`, `eu-west`. */
const REGION = /^[a-z]{2}-[a-z0-9-]+$/;
const US_REGIONS = ["us-east", "us-central", "us-west"];

const provisionerEnvSchema = z.object({
  PROVISIONER_PRIVATE_KEY: z.string().min(1),
  DEFAULT_IMAGE: z.string().min(1).optional(),
  PROVISIONER_URL: z.string().min(1).optional(),
  PROVISIONER_GPU_TYPE: z.string().min(1).optional(),
  PROVISIONER_GPU_COUNT: z.coerce.number().int().min(0).max(64).optional(),
  PROVISIONER_HOST_REGION: z.string().regex(REGION).default("us-east"),
  HOST_REGIONS: z.string().default(US_REGIONS.join(",")),
  PROVISIONER_ACCESS_CLIENT_ID: z.string().min(1).optional(),
  PROVISIONER_ACCESS_CLIENT_SECRET: z.string().min(1).optional(),
  PROVISIONER_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(300).default(60),
});

export async function parseProvisionerConfig(env: Env): Promise<ProvisionerConfig> {
  const e = parseEnv(provisionerEnvSchema, env);
  let signingKey: ProvisionerConfig["signingKey"];
  try {
    const jwk = jwkSchema.parse(JSON.parse(e.PROVISIONER_PRIVATE_KEY));
    signingKey = { kid: jwk.kid, privateKey: (await importJWK({ ...jwk, alg: "EdDSA" } as JWK, "EdDSA")) as CryptoKey };
  } catch {
    throw invalid("PROVISIONER_PRIVATE_KEY");
  }
  let configuredHost: ProvisionerConfig["configuredHost"] = null;
  if (e.PROVISIONER_URL !== undefined) {
    const baseUrl = serviceOrigin(e.PROVISIONER_URL);
    if (!baseUrl) throw invalid("PROVISIONER_URL (an https origin, or http on loopback)");
    const gpuCount = e.PROVISIONER_GPU_COUNT ?? 0;
    if (gpuCount > 0 && !e.PROVISIONER_GPU_TYPE) throw invalid("PROVISIONER_GPU_TYPE");
    configuredHost = { baseUrl, gpuType: gpuCount > 0 ? e.PROVISIONER_GPU_TYPE! : null, gpuCount, region: e.PROVISIONER_HOST_REGION };
  }
  // Policy §9: the allowlist may be narrowed, never widened past the United States.
  const allowedRegions = e.HOST_REGIONS.split(",").map((r) => r.trim()).filter(Boolean);
  if (allowedRegions.length === 0 || !allowedRegions.every((r) => REGION.test(r) && r.startsWith("us-"))) throw invalid("HOST_REGIONS (US regions only: us-…)");
  // Both halves of the service token or neither: half of one would fail at Access on every call.
  if ((e.PROVISIONER_ACCESS_CLIENT_ID === undefined) !== (e.PROVISIONER_ACCESS_CLIENT_SECRET === undefined)) {
    throw invalid("PROVISIONER_ACCESS_CLIENT_ID and PROVISIONER_ACCESS_CLIENT_SECRET go together");
  }
  const access = e.PROVISIONER_ACCESS_CLIENT_ID && e.PROVISIONER_ACCESS_CLIENT_SECRET ? { clientId: e.PROVISIONER_ACCESS_CLIENT_ID, clientSecret: e.PROVISIONER_ACCESS_CLIENT_SECRET } : null;
  return { signingKey, defaultImage: e.DEFAULT_IMAGE ?? null, configuredHost, allowedRegions, access, timeoutMs: e.PROVISIONER_TIMEOUT_SECONDS * 1000 };
}

