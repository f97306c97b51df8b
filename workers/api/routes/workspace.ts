import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../domain/errors";
import { destroyWorkspace, downloadWorkspaceArchive, downloadWorkspaceFile, getWorkspace, uploadWorkspaceFile, wantsSha256 } from "../../domain/workspaces";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonResponse, StoredFileSchema, WorkspaceSchema } from "../schemas";

const protectedRoute = { tags: ["workspace"], security: bearerAuth, middleware: requireUser };

const getRoute = createRoute({
  ...protectedRoute,
  middleware: [requireUser, limitSignedInRoute("workspace")] as const,
  method: "get",
  path: "/",
  summary: "Your workspace: state (hot, archiving, cold, restoring), size, transfer progress, last activity, the date it would be deleted and the live session using it",
  responses: { 200: jsonResponse(WorkspaceSchema, "The workspace"), ...errorResponses("unauthorized", "not_found", "not_configured") },
});

const destroyRoute = createRoute({
  ...protectedRoute,
  method: "delete",
  path: "/",
  summary: "Destroy: end the session, remove its container and delete the workspace and its files, on its host and in cold storage",
  description: "An archive to cold storage in progress is cancelled first; once committed, or while a restore runs, the answer is 409 `workspace_busy` with Retry-After.",
  responses: {
    200: jsonResponse(WorkspaceSchema, "Deleted"),
    ...errorResponses("unauthorized", "not_found", "session_busy", "workspace_busy", "provisioner_unavailable", "cold_storage_unavailable", "not_configured"),
  },
});

const archiveRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/archive",
  summary: "Download your whole workspace as a tar archive (policy §7 portability), while connected",
  responses: {
    200: { description: "The workspace as a tar stream", content: { "application/x-tar": { schema: z.string().openapi({ format: "binary" }) } } },
    ...errorResponses("unauthorized", "not_found", "not_connected", "workspace_busy", "provisioner_unavailable", "not_configured"),
  },
});

// ── Files: `{path}` spans several segments, so these are served by a wildcard route and documented
// with the same path template as the rest of the API. ─────────────────────────────────────────────

const FILES_PREFIX = "/v1/workspace/files/";
const FilePathParams = z.object({
  path: z.string().min(1).openapi({ param: { name: "path", in: "path" }, description: "Path inside the workspace, '/'-separated, each segment percent-encoded" }),
});
const FILE_FAULTS = ["validation_failed", "unauthorized", "not_found", "not_a_file", "workspace_busy", "provisioner_unavailable", "not_configured"] as const;

const uploadDoc = createRoute({
  ...protectedRoute,
  method: "put",
  path: "/files/{path}",
  summary: "Upload a file (streamed); resume a large one in chunks with ?offset=",
  description:
    "The body is the file's bytes, with Content-Length. Without `offset` the file is written whole (replacing any). With `offset=N` the bytes are appended at N, which must be the file's current size (409 `upload_offset_mismatch` otherwise: ask its size with HEAD and resume there). The answer's `sha256` is of this request's bytes; `size` is the file's size after it. Verify a finished file with HEAD and `Want-Repr-Digest: sha-256`.",
  request: {
    params: FilePathParams,
    query: z.object({ offset: z.string().optional().openapi({ description: "Append at this byte offset (the file's current size)" }) }),
    body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
  },
  responses: {
    201: jsonResponse(StoredFileSchema, "Stored"),
    ...errorResponses(...FILE_FAULTS, "upload_offset_mismatch", "length_required", "payload_too_large", "workspace_full"),
  },
});

const downloadDoc = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/files/{path}",
  summary: "Download a file (streamed); resume with Range; ask for its SHA-256 with Want-Repr-Digest",
  description:
    "`Range: bytes=N-` resumes a download (206). `Want-Repr-Digest: sha-256` adds `Repr-Digest` (RFC 9530) and `Ozekai-Sha256` (hex): the whole file's SHA-256, also on a 206, so the assembled file can be checked. HEAD gives the headers alone.",
  request: { params: FilePathParams },
  responses: {
    200: { description: "The file", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    206: { description: "The range asked for", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    ...errorResponses(...FILE_FAULTS, "range_not_satisfiable"),
  },
});

/** The path after the prefix, as sent (still percent-encoded): the domain decodes it segment by segment. */
const rawFilePath = (url: string) => new URL(url).pathname.slice(FILES_PREFIX.length);

function offsetOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new AppError("validation_failed", "offset is a byte count.", { fields: [{ field: "offset", message: "a non-negative integer" }] });
  return Number(raw);
}

const router = newApp()
  .openapi(getRoute, async (c) => c.json(await getWorkspace(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(destroyRoute, async (c) => c.json(await destroyWorkspace(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(archiveRoute, async (c) => {
    const archive = await downloadWorkspaceArchive(c.get("domain"), principalOf(c).user.id);
    return new Response(archive.body, {
      headers: { "Content-Type": "application/x-tar", "Content-Disposition": `attachment; filename="${archive.filename}"`, "Cache-Control": "no-store" },
    });
  });

router.openAPIRegistry.registerPath(uploadDoc);
router.openAPIRegistry.registerPath(downloadDoc);

router.put("/files/:path{.+}", requireUser, async (c) => {
  const stored = await uploadWorkspaceFile(c.get("domain"), principalOf(c).user.id, {
    rawPath: rawFilePath(c.req.url),
    body: c.req.raw.body,
    contentLength: c.req.header("Content-Length"),
    offset: offsetOf(c.req.query("offset")),
  });
  return c.json(stored, 201, { "Ozekai-Sha256": stored.sha256 });
});

// Also serves HEAD (Hono answers HEAD with the GET route and drops the body).
router.get("/files/:path{.+}", requireUser, async (c) => {
  const download = await downloadWorkspaceFile(c.get("domain"), principalOf(c).user.id, {
    rawPath: rawFilePath(c.req.url),
    range: c.req.header("Range"),
    wantDigest: wantsSha256(c.req.header("Want-Repr-Digest") ?? c.req.header("Want-Digest")),
    headOnly: c.req.raw.method === "HEAD",
  });
  return new Response(download.body, { status: download.status, headers: download.headers });
});

export const workspaceRoutes = router;
