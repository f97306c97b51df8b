import { type CryptoKey, importJWK, type JWK } from "jose";
import { z } from "zod";
import type { ProvisionerSigningKey } from "../../../contract/provisioner-token";
import type { Env } from "../../env";
import { invalid, jwkSchema, parseEnv, serviceOrigin } from "./env";

/** Settings of the Worker ↔ provisioner link (ARCHITECTURE "Worker ↔ provisioner"). */
export interface ProvisionerConfig {
  /** Signs every request; provisioners hold only the public half, and pick it by this kid. */
  signingKey: ProvisionerSigningKey;
  workspaceImage: string;
  /** The host registered from configuration (local dev, tests, a single-host deployment); null: registry only. */
  configuredHost: { baseUrl: string; gpuType: string | null; gpuCount: number } | null;
  /** Cloudflare Access service token, sent to hosts behind an Access-protected tunnel hostname. */
  access: { clientId: string; clientSecret: string } | null;
  /** The longest a provisioner call may take (a container create); quicker calls get a fraction. */
  timeoutMs: number;
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
    configuredHost = { baseUrl, gpuType: gpuCount > 0 ? e.PROVISIONER_GPU_TYPE! : null, gpuCount };
  }
  // Both halves of the service token or neither: half of one would fail at Access on every call.
  if ((e.PROVISIONER_ACCESS_CLIENT_ID === undefined) !== (e.PROVISIONER_ACCESS_CLIENT_SECRET === undefined)) {
    throw invalid("PROVISIONER_ACCESS_CLIENT_ID and PROVISIONER_ACCESS_CLIENT_SECRET go together");
  }
  const access = e.PROVISIONER_ACCESS_CLIENT_ID && e.PROVISIONER_ACCESS_CLIENT_SECRET ? { clientId: e.PROVISIONER_ACCESS_CLIENT_ID, clientSecret: e.PROVISIONER_ACCESS_CLIENT_SECRET } : null;
  return { signingKey, workspaceImage: e.WORKSPACE_IMAGE, configuredHost, access, timeoutMs: e.PROVISIONER_TIMEOUT_SECONDS * 1000 };
}

