/**
 * Before the website's tests: the Worker as it would be deployed (its dry-run bundle, the website
 * built into web/dist) under `wrangler dev` on a free 127.0.0.1 port, with a migrated local D1 and
 * throwaway secrets; one for the whole run. Chromium comes from Debian (scripts/ensure-chromium.sh).
 */
import { rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { stopChild, waitHealthy } from "../../bench/lib/processes.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "../../bench/lib/worker.ts";

export default async function setup(project: TestProject) {
  const tmp = mkdtempSync(join(tmpdir(), "ozekai-web-test-"));
  const { entry } = await dryRunBundle(tmp);
  const envFile = await writeEnvFile(tmp);
  const persist = await migrateLocalD1(tmp);
  const { base, dev } = await startWranglerDev(tmp, entry, persist, envFile);
  await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
  project.provide("webBaseUrl", base);
  return async () => {
    await stopChild(dev.child);
    rmSync(tmp, { recursive: true, force: true });
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    webBaseUrl: string;
  }
}
