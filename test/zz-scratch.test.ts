import { it } from "vitest";
import { api } from "../workers/api";
it("doc", () => {
  const doc = api.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  for (const [p, ops] of Object.entries(doc.paths ?? {})) for (const [m, op] of Object.entries(ops as object)) console.log(p, m, JSON.stringify((op as {security?: unknown}).security), Object.keys((op as {responses: object}).responses));
  console.log(api.routes.map((r) => `${r.method} ${r.path}`).join("\n"));
});
