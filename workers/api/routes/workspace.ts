import { createRoute, z } from "@hono/zod-openapi";
import { PACK_MANIFEST } from "../../../contract/provisioner";
import { AppError } from "../../domain/errors";
import {
  deleteWorkspacePath,
  destroyWorkspace,
  downloadWorkspaceArchive,
  downloadWorkspaceDirectory,
  downloadWorkspaceFile,
  getWorkspace,
  listWorkspaceDirectory,
  TREE_PAGE,
  uploadWorkspaceArchive,
  uploadWorkspaceFile,
  wantsSha256,
} from "../../domain/workspaces";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, DirectoryListingSchema, jsonResponse, RemovedPathSchema, StoredFileSchema, UnpackedArchiveSchema, WorkspaceSchema } from "../schemas";

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
  middleware: [requireUser, limitSignedInRoute("archive-download")] as const,
  method: "get",
  path: "/archive",
  summary: "Download your whole workspace as a tar archive (policy §7 portability), while connected; or one directory of it, with every file's SHA-256",
  description: `Without \`path\`: the whole workspace, entries \`./name\`, while your session runs (409 \`not_connected\` otherwise). With \`path\`: that directory (\`path=\` empty: the root), while the workspace is hot, connected or not, as \`docker cp\` names it: every entry under the directory's own name; symbolic links, devices and pipes are entries, never followed. The last entry, \`${PACK_MANIFEST}\` (the only one whose name has no '/'), is JSON \`{ "files": [{ "path", "size", "sha256" }] }\`: every regular file and hard link of the stream with the SHA-256 of its bytes, computed by the host as it sent them. A stream that ends without it broke off: nothing in it is complete.`,
  request: {
    query: z.object({
      path: z.string().max(4096).optional().openapi({ description: "A directory, '/'-separated, relative to the workspace root (empty: the root)" }),
    }),
  },
  responses: {
    200: { description: "The workspace, or the directory, as a tar stream", content: { "application/x-tar": { schema: z.string().openapi({ format: "binary" }) } } },
    ...errorResponses("validation_failed", "unauthorized", "not_found", "not_a_directory", "not_connected", "workspace_busy", "provisioner_unavailable", "not_configured", "rate_limited"),
  },
});


const archiveUploadRoute = createRoute({
  ...protectedRoute,
  middleware: [requireUser, limitSignedInRoute("archive-upload")] as const,
  method: "put",
  path: "/archive",
  summary: "Upload many files at once: a tar stream unpacked into a directory of your workspace (made where missing)",
  description:
    "The body is a tar archive (ustar or pax), with Content-Length. Its entries are relative to `path`; every one is checked before it is written: names may not be absolute or contain '..', symbolic links may not lead out of the workspace, nothing may be written through a link (the archive's or the workspace's), hard links only to files of the same archive, and no devices, pipes or sockets (400 `validation_failed`). Everything belongs to the workspace's user. Entries before a refused one stay written. The answer lists every file written with the SHA-256 of its bytes as the host wrote them. While the workspace is hot, connected or not.",
  request: {
    query: z.object({
      path: z.string().max(4096).optional().openapi({ description: "The directory to unpack into, '/'-separated, relative to the workspace root (default: the root)" }),
    }),
    body: { content: { "application/x-tar": { schema: z.string().openapi({ format: "binary" }) } }, required: true },
  },
  responses: {
    201: jsonResponse(UnpackedArchiveSchema, "Unpacked"),
    ...errorResponses("validation_failed", "unauthorized", "not_found", "not_a_directory", "workspace_busy", "length_required", "payload_too_large", "workspace_full", "provisioner_unavailable", "not_configured", "rate_limited"),
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

const deleteDoc = createRoute({
  ...protectedRoute,
  method: "delete",
  path: "/files/{path}",
  summary: "Delete a file, a symbolic link (the link itself, never its target) or, with ?recursive=true, a directory and everything in it",
  description:
    "A directory that is not empty is refused with 409 `directory_not_empty` unless `recursive=true`. The workspace root has no path here: destroying the whole workspace is DELETE /v1/workspace. A path through a symbolic link is refused (400), as for every file route.",
  request: {
    params: FilePathParams,
    query: z.object({ recursive: z.enum(["true", "false"]).optional().openapi({ description: "true: remove a directory with everything in it" }) }),
  },
  responses: {
    200: jsonResponse(RemovedPathSchema, "Deleted"),
    ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_found", "directory_not_empty", "workspace_busy", "provisioner_unavailable", "not_configured", "rate_limited"),
  },
});

// ── Listing: the root at /tree, a directory at /tree/{path} (same wildcard rule as the files). ──

const TREE_PREFIX = "/v1/workspace/tree/";
const TreeQuery = z.object({
  limit: z.coerce.number().int().min(1).max(TREE_PAGE.max).default(TREE_PAGE.default).openapi({ description: `Entries per page, 1–${TREE_PAGE.max}` }),
  after: z
    .string()
    .min(1)
    .max(255)
    .refine((name) => !name.includes("/"), "one name, without '/'")
    .optional()
    .openapi({ description: "Continue after this name: the `next` of the previous page" }),
});
const TREE_FAULTS = ["validation_failed", "unauthorized", "forbidden", "not_found", "not_a_directory", "workspace_busy", "provisioner_unavailable", "not_configured", "rate_limited"] as const;
const TREE_DESCRIPTION =
  "Entries in name order, a page at a time: `truncated` says more follow, and `next` is the `after` of the next page. Symbolic links are reported as links (with where they point), never followed; a path through one is refused (400). While the workspace is hot (on its host), connected or not.";
const limitTree = limitSignedInRoute("tree");

const treeRootRoute = createRoute({
  ...protectedRoute,
  middleware: [requireUser, limitTree] as const,
  method: "get",
  path: "/tree",
  summary: "List the top of your workspace",
  description: TREE_DESCRIPTION,
  request: { query: TreeQuery },
  responses: { 200: jsonResponse(DirectoryListingSchema, "The directory's entries"), ...errorResponses(...TREE_FAULTS) },
});

const treeDoc = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/tree/{path}",
  summary: "List a directory of your workspace",
  description: TREE_DESCRIPTION,
  request: { params: FilePathParams, query: TreeQuery },
  responses: { 200: jsonResponse(DirectoryListingSchema, "The directory's entries"), ...errorResponses(...TREE_FAULTS) },
});

/** The query of a wildcard route, checked by the same schema the documented routes use. */
function treeQuery(query: Record<string, string>): z.infer<typeof TreeQuery> {
  const parsed = TreeQuery.safeParse(query);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => ({ field: issue.path.join(".") || "query", message: issue.message }));
  throw new AppError("validation_failed", "The query is not valid.", { fields });
}

/** The path after the prefix, as sent (still percent-encoded): the domain decodes it segment by segment. */
const rawFilePath = (url: string, prefix = FILES_PREFIX) => new URL(url).pathname.slice(prefix.length);

function recursiveOf(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw new AppError("validation_failed", "recursive is true or false.", { fields: [{ field: "recursive", message: "true or false" }] });
}

function offsetOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new AppError("validation_failed", "offset is a byte count.", { fields: [{ field: "offset", message: "a non-negative integer" }] });
  return Number(raw);
}

const router = newApp()
  .openapi(getRoute, async (c) => c.json(await getWorkspace(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(destroyRoute, async (c) => c.json(await destroyWorkspace(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(archiveRoute, async (c) => {
    const { path } = c.req.valid("query");
    const userId = principalOf(c).user.id;
    const archive = path === undefined ? await downloadWorkspaceArchive(c.get("domain"), userId) : await downloadWorkspaceDirectory(c.get("domain"), userId, path);
    return new Response(archive.body, {
      headers: { "Content-Type": "application/x-tar", "Content-Disposition": `attachment; filename="${archive.filename}"`, "Cache-Control": "no-store" },
    });
  })
  .openapi(archiveUploadRoute, async (c) => {
    const unpacked = await uploadWorkspaceArchive(c.get("domain"), principalOf(c).user.id, {
      path: c.req.valid("query").path ?? "",
      body: c.req.raw.body,
      contentLength: c.req.header("Content-Length"),
    });
    return c.json(unpacked, 201);
  })
  .openapi(treeRootRoute, async (c) => {
    const { limit, after } = c.req.valid("query");
    return c.json(await listWorkspaceDirectory(c.get("domain"), principalOf(c).user.id, { rawPath: "", limit, after }), 200);
  });

router.openAPIRegistry.registerPath(uploadDoc);
router.openAPIRegistry.registerPath(downloadDoc);
router.openAPIRegistry.registerPath(deleteDoc);
router.openAPIRegistry.registerPath(treeDoc);

router.get("/tree/:path{.+}", requireUser, limitTree, async (c) => {
  const { limit, after } = treeQuery(c.req.query());
  return c.json(await listWorkspaceDirectory(c.get("domain"), principalOf(c).user.id, { rawPath: rawFilePath(c.req.url, TREE_PREFIX), limit, after }), 200);
});

router.delete("/files/:path{.+}", requireUser, limitSignedInRoute("delete"), async (c) => {
  const removed = await deleteWorkspacePath(c.get("domain"), principalOf(c).user.id, { rawPath: rawFilePath(c.req.url), recursive: recursiveOf(c.req.query("recursive")) });
  return c.json(removed, 200);
});

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
