import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import { defineConfig } from "vitest/config";

/** Test-only secrets, made fresh on every run: nothing secret is committed. */
async function testSecrets() {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "test-1" };
  const pepper = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const webhookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url")}`;
  return { ACCESS_TOKEN_KEYS: JSON.stringify([jwk]), PASSWORD_PEPPER: pepper, STRIPE_SECRET_KEY: "sk_test_ozekai_fake", STRIPE_WEBHOOK_SECRET: webhookSecret };
}

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...(await testSecrets()),
          // The policy minimum; production runs 12 (wrangler.toml).
          BCRYPT_COST: "10",
          APP_URL: "https://ozekai.test",
          CORS_ORIGINS: "https://ozekai.test",
          // The real provisioner test/global-setup.ts started, and the key it trusts.
          PROVISIONER_URL: inject("provisionerUrl"),
          PROVISIONER_PRIVATE_KEY: inject("provisionerPrivateKey"),
          // Sessions run the small busybox image unless a test asks for another (test/global-setup.ts).
          DEFAULT_IMAGE: "minimal",
          // Not a binding the Worker reads: tests point PROVISIONER_URL at it for a host that allows only `minimal`.
          TEST_NARROW_PROVISIONER_URL: inject("narrowProvisionerUrl"),
          // Not a binding the Worker reads: tests point hosts at it to play a provisioner that hangs.
          TEST_HANGING_PROVISIONER_URL: inject("hangingProvisionerUrl"),
          // Billing against the local fake Stripe that records requests (test/fake-stripe.ts).
          STRIPE_API_BASE: inject("fakeStripeUrl"),
          STRIPE_PRICE_IDS: JSON.stringify({
            "cpu-small": { base: "price_cpusmall_base", usage: "price_cpusmall_usage" },
            "h100-1": { base: "price_h1001_base", usage: "price_h1001_usage" },
          }),
          TEST_FAILING_STRIPE_URL: inject("failingStripeUrl"),
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    globalSetup: ["./test/global-setup.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
