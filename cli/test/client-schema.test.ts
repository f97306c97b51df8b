/** The client's committed types are what the API's OpenAPI document generates today. */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

it("client/src/schema.d.ts matches the Worker's OpenAPI document", () => {
  const check = spawnSync(process.execPath, ["client/scripts/generate.ts", "--check"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  // The generator's own message says what to do: run `npm run client:generate` and commit.
  expect(check.status, check.stderr).toBe(0);
  expect(check.stderr).toContain("is up to date");
});
