import { createRoute, z } from "@hono/zod-openapi";
import { EXPORT_PAGE_ROWS, EXPORT_SCHEMA_VERSION, EXPORTS_PER_HOUR, exportPersonalData } from "../../domain/privacy";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonResponse } from "../schemas";

const ExportSchema = z
  .object({
    schemaVersion: z.literal(EXPORT_SCHEMA_VERSION).openapi({ description: "The document's format version; a change of shape bumps it" }),
    generatedAt: z.string().openapi({ description: "When the export was made (ISO 8601)" }),
    user: z.object({ id: z.string() }).openapi({ description: "The account exported" }),
    tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))).openapi({
      description:
        "Every table that holds data about you, by table name (users, sessions, access_logs, error_logs, account_events, …), each with all of your rows; access_logs (your requests, 90 days) is read from the log store, not the database. A row is an object keyed by the stored column names; times are Unix milliseconds, JSON columns are JSON text. Credentials (password and token hashes) are left out.",
    }),
    workspace: z
      .object({ included: z.literal(false), download: z.string() })
      .openapi({ description: "Workspace content is not in the export (policy §3); download it from the workspace archive route while connected" }),
  })
  .openapi("PrivacyExport");

const exportRoute = createRoute({
  tags: ["privacy"],
  security: bearerAuth,
  middleware: [requireUser, limitSignedInRoute("privacy-export")] as const,
  method: "get",
  path: "/export",
  summary: "Everything we hold about you, as one JSON document (access and portability)",
  description: `Streamed as an attachment, read ${EXPORT_PAGE_ROWS} rows at a time. At most ${EXPORTS_PER_HOUR} exports an hour; each is recorded in your account events.`,
  responses: { 200: jsonResponse(ExportSchema, "The export"), ...errorResponses("unauthorized", "rate_limited") },
});

export const privacyExportRoutes = newApp().openapi(exportRoute, async (c) => {
  const { body, filename } = await exportPersonalData(c.get("domain"), principalOf(c).user.id);
  return new Response(body, {
    headers: { "Content-Type": "application/json; charset=utf-8", "Content-Disposition": `attachment; filename="${filename}"`, "Cache-Control": "no-store" },
  }) as never;
});
