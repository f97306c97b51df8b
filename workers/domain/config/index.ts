/**
 * The Worker's settings, parsed once per isolate per environment, with one failure rule: a value
 * that does not parse is `not_configured` naming the setting. The app section every request needs
 * is required; every other section is read where it is used, so a Worker without, say, a
 * provisioner still serves accounts, and only what needs the missing part answers 503.
 */
import type { Env } from "../../env";
import { type AppConfig, parseAppConfig } from "./app";
import { type BillingConfig, parseBillingConfig } from "./billing";
import { type ColdStorageConfig, parseColdStorageConfig } from "./cold-storage";
import { type FilesConfig, parseFilesConfig } from "./files";
import { type IdleConfig, parseIdleConfig } from "./idle";
import { parseProvisionerConfig, type ProvisionerConfig } from "./provisioner";
import { parseShellConfig, type ShellConfig } from "./shell";
import { parseStatsConfig, type StatsConfig } from "./stats";
import { parseUsageConfig, type UsageConfig } from "./usage";

export type { AppConfig, BillingConfig, ColdStorageConfig, FilesConfig, IdleConfig, ProvisionerConfig, ShellConfig, StatsConfig, UsageConfig };
export type { SigningKey } from "./app";
export type { StripeApiConfig } from "./billing";
export { serviceOrigin } from "./env";
export { samplesBoundary } from "./usage";

export interface Config extends AppConfig {
  /** Each throws its section's `not_configured` when read, if the section did not parse. */
  readonly provisioner: ProvisionerConfig;
  readonly coldStorage: ColdStorageConfig;
  readonly idle: IdleConfig;
  readonly files: FilesConfig;
  readonly billing: BillingConfig;
  readonly shell: ShellConfig;
  readonly stats: StatsConfig;
  readonly usage: UsageConfig;
}

/** A section's value, or the error it failed with, thrown again at every read. */
async function section<T>(parse: () => T | Promise<T>): Promise<() => T> {
  try {
    const value = await parse();
    return () => value;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

async function parse(env: Env): Promise<Config> {
  const app = await parseAppConfig(env);
  const [provisioner, coldStorage, idle, files, billing, shell, stats, usage] = await Promise.all([
    section(() => parseProvisionerConfig(env)),
    section(() => parseColdStorageConfig(env)),
    section(() => parseIdleConfig(env)),
    section(() => parseFilesConfig(env)),
    section(() => parseBillingConfig(env)),
    section(() => parseShellConfig(env)),
    section(() => parseStatsConfig(env)),
    section(() => parseUsageConfig(env)),
  ]);
  return {
    ...app,
    get provisioner() {
      return provisioner();
    },
    get coldStorage() {
      return coldStorage();
    },
    get idle() {
      return idle();
    },
    get files() {
      return files();
    },
    get billing() {
      return billing();
    },
    get shell() {
      return shell();
    },
    get stats() {
      return stats();
    },
    get usage() {
      return usage();
    },
  };
}

const cache = new Map<string, Promise<Config>>();
/** workerd hands every request of an isolate the same env object: this skips serialising it each time. */
const byObject = new WeakMap<Env, Promise<Config>>();

/** Keys are imported (async), so a parse is kept per distinct environment; a failed one is not kept. */
export function loadConfig(env: Env): Promise<Config> {
  const known = byObject.get(env);
  if (known) return known;
  const values = env as unknown as Record<string, unknown>;
  const key = JSON.stringify(Object.keys(values).filter((name) => typeof values[name] === "string").sort().map((name) => [name, values[name]]));
  let config = cache.get(key);
  if (!config) {
    config = parse(env);
    cache.set(key, config);
    config.catch(() => {
      cache.delete(key);
      byObject.delete(env);
    });
  }
  byObject.set(env, config);
  return config;
}
