import { Readable } from "node:stream";
import type { Context } from "hono";
import { ProvisionerError } from "../../errors.ts";
import { StageExportSchema, TREE_DEFAULT_LIMIT, TREE_MAX_LIMIT, WORKSPACE_MB_HEADER, WorkspaceMbSchema } from "../../../../contract/provisioner.ts";
import { ARCHIVE_SHA256_HEADER } from "../../../../contract/provisioner-token.ts";
import type { Services } from "../../services.ts";
import { importArchive, openArchiveExport, openDirectoryPack, unpackArchive } from "../../workspaces/archive.ts";
import { discardExport, openExportPart, stageExport } from "../../workspaces/exports.ts";
import { appendFile, type ByteRange, fileChecksum, openFileDownload, uploadFile } from "../../workspaces/files.ts";
import { parseRawWorkspacePath } from "../../workspaces/paths.ts";
import { listDirectory, removePath } from "../../workspaces/tree.ts";
import { deleteWorkspace, workspaceSizes } from "../../workspaces/volumes.ts";
import { idParam, newRouter, readJson, signedPath } from "../router.ts";
import type { HonoEnv } from "../types.ts";

/** The file path after `/v1/workspaces/:id/<kind>/`, still percent-encoded, then checked segment by segment. */
function filePath(url: string, workspaceId: string, kind: "files" | "checksums" | "tree" | "unpack" | "pack"): string[] {
  const prefix = `/v1/workspaces/${workspaceId}/${kind}/`;
  const path = signedPath(url);
  if (!path.startsWith(prefix)) throw new ProvisionerError("invalid_path");
  return parseRawWorkspacePath(path.slice(prefix.length));
}

/**
 * One range of `Range: bytes=…` (RFC 9110 §14.2); null for no header, or for what this service does
 * not serve as a range (several ranges, other units): the whole file is sent then, as the RFC allows.
 */
export function parseRange(header: string | undefined): ByteRange | null {
  if (header === undefined) return null;
  const match = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!match) return null;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return null;
  if (first === "") return { suffix: Number(last) };
  if (last !== "" && Number(last) < Number(first)) return null;
  return last === "" ? { start: Number(first) } : { start: Number(first), end: Number(last) };
}

const toWeb = (stream: Readable) => Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;

/** Parts of at least 64 KiB (R2's own minimum, 5 MiB, is the Worker's to keep) and at most 5 GiB (R2's maximum). */

/** How long a stage request waits for the staging before answering 202 (the Worker's calls time out at 15 s by default). */
export const STAGE_WAIT_MS = 10_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;

function workspaceMb(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const parsed = WorkspaceMbSchema.safeParse(/^\d{1,12}$/.test(header) ? Number(header) : Number.NaN);
  if (!parsed.success) throw new ProvisionerError("validation_failed", `${WORKSPACE_MB_HEADER} is a size in MiB`);
  return parsed.data;
}

export function workspacesRoutes(services: Services) {
  const router = newRouter();

  router.get("/", async (c) => c.json({ workspaces: await workspaceSizes(services) }));

  router.delete("/:id", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    await discardExport(services, workspaceId); // a staged copy goes with the workspace
    await deleteWorkspace(services, workspaceId);
    return c.body(null, 204);
  });

  router.put("/:id/files/*", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    const segments = filePath(c.req.url, workspaceId, "files");
    // The tar header that carries the file into the volume needs the size before the first byte.
    const length = c.req.header("content-length");
    if (!length || !/^\d{1,15}$/.test(length)) throw new ProvisionerError("length_required");
    // ?offset=N appends (resumable uploads); without it the file is written whole.
    const offset = c.req.query("offset");
    if (offset !== undefined && !/^\d{1,15}$/.test(offset)) throw new ProvisionerError("validation_failed", "offset is a byte count");
    const stored =
      offset === undefined
        ? await uploadFile(services, workspaceId, segments, c.env.incoming, Number(length))
        : await appendFile(services, workspaceId, segments, c.env.incoming, Number(length), Number(offset));
    return c.json(stored, 201);
  });

  router.get("/:id/files/*", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    const range = parseRange(c.req.header("range"));
    const download = await openFileDownload(services, workspaceId, filePath(c.req.url, workspaceId, "files"), range ?? undefined);
    const sent = download.range;
    return new Response(toWeb(download.stream), {
      status: sent ? 206 : 200,
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(sent ? sent.end - sent.start + 1 : download.size),
        "Accept-Ranges": "bytes",
        ...(sent ? { "Content-Range": `bytes ${sent.start}-${sent.end}/${download.size}` } : {}),
        ...(download.mtime ? { "Last-Modified": download.mtime.toUTCString() } : {}),
      },
    });
  });

  // ?recursive=1 removes a directory with everything in it; without it only an empty one.
  router.delete("/:id/files/*", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    const recursive = c.req.query("recursive");
    if (recursive !== undefined && recursive !== "1") throw new ProvisionerError("validation_failed", "recursive is 1 or absent");
    return c.json(await removePath(services, workspaceId, filePath(c.req.url, workspaceId, "files"), recursive === "1"));
  });

  // The root's entries (`/tree`) or a directory's (`/tree/<path>`), a page at a time.
  const tree = async (c: Context<HonoEnv>, segments: string[]) => {
    const workspaceId = idParam(c.req.param("id"));
    const limit = c.req.query("limit") ?? String(TREE_DEFAULT_LIMIT);
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > TREE_MAX_LIMIT) throw new ProvisionerError("validation_failed", `limit is 1 to ${TREE_MAX_LIMIT}`);
    const after = c.req.query("after");
    if (after !== undefined && (after === "" || after.includes("/") || Buffer.byteLength(after) > 255)) throw new ProvisionerError("validation_failed", "after is one name");
    return c.json(await listDirectory(services, workspaceId, segments, { limit: Number(limit), after }));
  };
  router.get("/:id/tree", (c) => tree(c, []));
  router.get("/:id/tree/*", (c) => tree(c, filePath(c.req.url, idParam(c.req.param("id")), "tree")));

  router.get("/:id/checksums/*", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    return c.json(await fileChecksum(services, workspaceId, filePath(c.req.url, workspaceId, "checksums")));
  });

  router.get("/:id/archive", async (c) => {
    const archive = await openArchiveExport(services, idParam(c.req.param("id")));
    return new Response(toWeb(archive), { headers: { "Content-Type": "application/x-tar" } });
  });

  // A directory as one tar stream (`/pack` for the root, `/pack/<path>`), its files' SHA-256 in a
  // manifest at the end: a directory download in one request instead of one per file.
  const packed = async (c: Context<HonoEnv>, segments: string[]) => {
    const archive = await openDirectoryPack(services, idParam(c.req.param("id")), segments);
    return new Response(toWeb(archive), { headers: { "Content-Type": "application/x-tar" } });
  };
  router.get("/:id/pack", (c) => packed(c, []));
  router.get("/:id/pack/*", (c) => packed(c, filePath(c.req.url, idParam(c.req.param("id")), "pack")));

  router.put("/:id/archive", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    // Cold storage restores announce the archive's SHA-256: a body that does not match leaves no workspace.
    const sha256 = c.req.header(ARCHIVE_SHA256_HEADER);
    if (sha256 !== undefined && !SHA256_HEX.test(sha256)) throw new ProvisionerError("validation_failed", "X-Archive-Sha256 is 64 lowercase hex digits");
    const sizeMb = workspaceMb(c.req.header(WORKSPACE_MB_HEADER));
    return c.json(await importArchive(services, workspaceId, c.env.incoming, { sha256, sizeMb }));
  });

  // A tar of many files into a directory of the workspace (`/unpack` for its root, `/unpack/<path>`):
  // one request instead of one per file.
  const unpack = async (c: Context<HonoEnv>, into: string[]) => {
    const workspaceId = idParam(c.req.param("id"));
    return c.json(await unpackArchive(services, workspaceId, into, c.env.incoming), 201);
  };
  router.put("/:id/unpack", (c) => unpack(c, []));
  router.put("/:id/unpack/*", (c) => unpack(c, filePath(c.req.url, idParam(c.req.param("id")), "unpack")));

  // Cold storage (src/workspaces/exports.ts): stage a snapshot, read it part by part, drop it.
  router.post("/:id/exports", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    const input = await readJson(c.req, StageExportSchema);
    const answer = await stageExport(services, workspaceId, input, STAGE_WAIT_MS);
    return c.json(answer, answer.status === "staged" ? 200 : 202);
  });

  router.get("/:id/exports/parts/:n", async (c) => {
    const workspaceId = idParam(c.req.param("id"));
    const n = c.req.param("n");
    if (!/^\d{1,6}$/.test(n)) throw new ProvisionerError("validation_failed", "the part number is a positive integer");
    const part = await openExportPart(services, workspaceId, Number(n));
    return new Response(toWeb(part.stream), { headers: { "Content-Type": "application/octet-stream", "Content-Length": String(part.length) } });
  });

  router.delete("/:id/exports", async (c) => {
    await discardExport(services, idParam(c.req.param("id")));
    return c.body(null, 204);
  });

  return router;
}
