import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import { defineConfig } from "vitest/config";

/** Test-only secrets, made fresh on every run: nothing secret is committed. */
async function testSecrets() {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "test-1" };
  const pepper = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  return { ACCESS_TOKEN_KEYS: JSON.stringify([jwk]), PASSWORD_PEPPER: pepper };
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
          // Not a binding the Worker reads: tests point hosts at it to play a provisioner that hangs.
          TEST_HANGING_PROVISIONER_URL: inject("hangingProvisionerUrl"),
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
