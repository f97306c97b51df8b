/**
 * One real stack for every CLI test file: the Worker's deployable bundle under `wrangler dev`
 * with a migrated local D1 and generated secrets (bench/lib/worker.ts), the real provisioner on
 * this machine's Docker (test/global-setup.ts), billing against the local fake Stripe
 * (test/fake-stripe.ts). Stopped when the run ends.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { stopChild, waitHealthy } from "../../bench/lib/processes.ts";
import { ROOT } from "../../bench/lib/settings.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "../../bench/lib/worker.ts";
import { startFakeStripe } from "../../test/fake-stripe.ts";
import { startLocalProvisioner } from "../../test/global-setup.ts";

export const TEST_PRICE_IDS = { "cpu-small": { base: "price_cpusmall_base", usage: "price_cpusmall_usage" } };

/**
 * The project's wrangler.toml with a larger per-IP sign-in budget: every CLI test signs up, in
 * and refreshes from 127.0.0.1, more than 30 times a minute in all (the limit itself is the
 * Worker's tests' subject, test/auth.security.test.ts). Everything else is the project's.
 */
function cliTestConfig(tmp: string): string {
  const project = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const raised = project.replace(/(name = "AUTH_IP_LIMITER"\n[^\n]*\nsimple = \{ limit = )\d+/, (_match, head: string) => `${head}1000`);
  if (raised === project) throw new Error("wrangler.toml: the AUTH_IP_LIMITER block is not where cli/test/global-setup.ts looks for it");
  // Paths in it are the project's: absolute from the copy's place.
  const config = raised
    .replace(/^main = "(.*)"$/m, `main = "${join(ROOT, "$1")}"`)
    .replace(/^migrations_dir = "(.*)"$/m, `migrations_dir = "${join(ROOT, "$1")}"`)
    .replace(/^directory = "(.*)"$/m, `directory = "${join(ROOT, "$1")}"`);
  const path = join(tmp, "wrangler.toml");
  writeFileSync(path, config);
  return path;
}

export default async function setup(project: TestProject) {
  const tmp = mkdtempSync(join(tmpdir(), "ozekai-cli-test-"));
  const stripe = await startFakeStripe();
  let stop = async () => {
    await stripe.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const provisioner = await startLocalProvisioner();
    const withoutProvisioner = stop;
    stop = async () => {
      await provisioner.close();
      await withoutProvisioner();
    };
    const { entry } = await dryRunBundle(tmp);
    const webhookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`;
    const envFile = await writeEnvFile(tmp, [
      "STRIPE_SECRET_KEY=sk_test_ozekai_fake",
      `STRIPE_WEBHOOK_SECRET=${webhookSecret}`,
      `STRIPE_API_BASE=${stripe.url}`,
      `STRIPE_PRICE_IDS='${JSON.stringify(TEST_PRICE_IDS)}'`,
      `PROVISIONER_URL=${provisioner.url}`,
      `PROVISIONER_PRIVATE_KEY='${provisioner.privateKey}'`,
      // Sessions on the base image (an SSH server, Python): `ozekai ssh`, scp and rsync run for real.
      "DEFAULT_IMAGE=base",
    ]);
    const accessKeys = /^ACCESS_TOKEN_KEYS='(.*)'$/m.exec(readFileSync(envFile, "utf8"))?.[1];
    if (!accessKeys) throw new Error(`no ACCESS_TOKEN_KEYS in ${envFile}`);
    const persist = await migrateLocalD1(tmp);
    const { base, dev } = await startWranglerDev(tmp, entry, persist, envFile, [], cliTestConfig(tmp));
    const stopStack = stop;
    stop = async () => {
      await stopChild(dev.child);
      await stopStack();
    };
    await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
    project.provide("apiUrl", base);
    project.provide("persistDir", persist);
    project.provide("wranglerTmp", tmp);
    project.provide("accessKey", JSON.stringify((JSON.parse(accessKeys) as unknown[])[0]));
  } catch (error) {
    await stop();
    throw error;
  }
  return () => stop();
}
