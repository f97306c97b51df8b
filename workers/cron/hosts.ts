import { loadProvisionerConfig, type ProvisionerConfig } from "../domain/config";
import type { DomainContext } from "../domain/context";
import { AppError } from "../domain/errors";

/**
 * Runs a host job with the provisioner settings. A Worker without them (accounts only, no GPU
 * hosts yet) has no session to look after: the job is skipped, not failed every minute.
 */
export async function withProvisioner<T>(ctx: DomainContext, work: (settings: ProvisionerConfig) => Promise<T>): Promise<T | { skipped: "provisioner_not_configured" }> {
  let settings: ProvisionerConfig;
  try {
    settings = await loadProvisionerConfig(ctx.env);
  } catch (error) {
    if (error instanceof AppError && error.code === "not_configured") return { skipped: "provisioner_not_configured" };
    throw error;
  }
  return work(settings);
}
