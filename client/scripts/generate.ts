/**
 * Writes client/src/schema.d.ts from the Worker's OpenAPI document (`npm run client:generate`);
 * with --check, writes nothing and fails when the committed file differs from what it would write.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { runnerImport } from "vite";

interface SchemaModule {
  SCHEMA_FILE: string;
  GENERATE_COMMAND: string;
  generateSchema(): Promise<string>;
}

const schemaModule = new URL("./schema.ts", import.meta.url).pathname;
// Vite's module runner, because workers/ imports are extensionless (Node's type stripping needs
// the .ts); no config file: the root's vitest config is the Worker's pool, not needed here.
const { module } = await runnerImport<SchemaModule>(schemaModule, { configFile: false, logLevel: "warn" });
const text = await module.generateSchema();
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(module.SCHEMA_FILE, "utf8");
  } catch {
    // missing: differs
  }
  if (committed !== text) {
    console.error(`${module.SCHEMA_FILE} is not what the API's OpenAPI document generates: run \`${module.GENERATE_COMMAND}\` and commit it.`);
    process.exit(1);
  }
  console.error(`${module.SCHEMA_FILE} is up to date.`);
} else {
  writeFileSync(module.SCHEMA_FILE, text);
  console.error(`wrote ${module.SCHEMA_FILE}`);
}
