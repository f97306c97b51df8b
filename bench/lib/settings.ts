/** What every bench shares: where the project is, the one address it talks to, the bench user's password. */

export const ROOT = new URL("../../", import.meta.url).pathname;
export const HOST = "127.0.0.1";
export const MIN_BCRYPT_COST = 10; // workers/domain/config.ts: BCRYPT_COST ≥ 10
export const PASSWORD = "correct horse battery staple 42";
export { CURRENT_POLICY_VERSION as POLICY_VERSION } from "../../workers/domain/privacy/policy.ts";
export const WORKSPACE_IMAGE = "ozekai/workspace:local"; // wrangler.toml WORKSPACE_IMAGE

/** The environment variable `name` as a positive integer, `fallback` when unset or empty. */
export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}
