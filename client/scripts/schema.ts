/**
 * The client's types, generated from the Worker's own OpenAPI document (the same zod schemas that
 * validate requests): never written by hand. Imported through Vite's module runner (generate.ts)
 * or vitest, because workers/ imports are extensionless.
 */
import openapiTS, { astToString } from "openapi-typescript";
import { api, documentConfig } from "../../workers/api/index";

export const SCHEMA_FILE = new URL("../src/schema.d.ts", import.meta.url).pathname;
export const GENERATE_COMMAND = "npm run client:generate";

const HEADER = `// Generated from the Worker's OpenAPI document by \`${GENERATE_COMMAND}\`: do not edit.\n\n`;

/** The text of client/src/schema.d.ts for the API as it is now. */
export async function generateSchema(): Promise<string> {
  const document = api.getOpenAPI31Document(documentConfig);
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0]);
  return HEADER + astToString(ast);
}
