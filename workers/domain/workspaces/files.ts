/**
 * Files in and out of the user's workspace, the whole-workspace archive (policy §7 portability)
 * and the session's shell. Bytes stream through the Worker and are never held (a Worker has
 * 128 MB; files have many GB) nor stored or read by it (policy §3): they go between the client
 * and the host's provisioner as they arrive. Resumable in chunks: downloads take HTTP Range,
 * uploads append at an offset that must be the file's current size (docs/decisions/0008).
 */
import { and, eq } from "drizzle-orm";
import { TREE_DEFAULT_LIMIT, TREE_MAX_LIMIT } from "../../../contract/provisioner";
import { workspaces } from "../../../schema";
import type { DirectoryListing, ProvisionerClient, RemovedPath, StoredFile, UnpackedArchive } from "../../adapters/provisioner";
import { commandEvent } from "../audit";
import type { DomainContext } from "../context";
import { AppError, fieldError } from "../errors";
import { ownedWorkspace, type Workspace, workspaceBusy } from "../owned";
import { findLiveSession } from "../sessions";

// Same rules as the provisioner (provisioner/src/workspaces/paths.ts), checked here first so a
// hostile path never leaves the Worker; the host checks again and refuses symbolic links.
const MAX_SEGMENT_BYTES = 255;

const MAX_PATH_BYTES = 4096;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const FORBIDDEN = /[\u0000-\u001f\u007f\\/]/;

const bytesOf = (s: string) => new TextEncoder().encode(s).length;

/**
 * A workspace path from the raw (percent-encoded) tail of a request URL, re-encoded segment by
 * segment for the host: relative, no empty, "." or ".." segment, no NUL, backslash, control
 * character or encoded "/". Decoding each segment on its own keeps "%2F" and "%2E%2E" from
 * smuggling a separator or a dot segment in.
 */
export function workspaceFilePath(raw: string): { path: string; encoded: string } {
  const invalid = (message: string) => fieldError("path", message);
  if (raw === "") throw invalid("The path is empty.");
  const segments = raw.split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw invalid("The path has malformed percent-encoding.");
    }
  });
  for (const segment of segments) {
    if (segment === "") throw invalid("The path has an empty segment (absolute, or '//').");
    if (segment === "." || segment === "..") throw invalid("'.' and '..' are not allowed in a path.");
    if (FORBIDDEN.test(segment)) throw invalid("NUL, backslash, control characters and encoded '/' are not allowed in a path.");
    if (bytesOf(segment) > MAX_SEGMENT_BYTES) throw invalid("A name in the path is longer than 255 bytes.");
  }
  const path = segments.join("/");
  if (bytesOf(path) > MAX_PATH_BYTES) throw invalid("The path is longer than 4096 bytes.");
  return { path, encoded: segments.map(encodeURIComponent).join("/") };
}

interface HotWorkspace {
  workspace: Workspace;
  client: ProvisionerClient;
  /** The live session using it, for the command log; null between sessions. */
  session: { id: string; state: string } | null;
}

/** The user's workspace, hot on its host (transfers need the volume; a cold one must be restored first). */
async function hotWorkspace(ctx: DomainContext, userId: string): Promise<HotWorkspace> {
  const workspace = await ownedWorkspace(ctx, userId);
  if (workspace.state !== "hot" || !workspace.hostId) throw workspaceBusy(workspace.state);
  const client = (await ctx.provisioner(workspace.hostId));
  const live = await findLiveSession(ctx, userId);
  return { workspace, client, session: live?.workspaceId === workspace.id ? live : null };
}

/**
 * Policy §1: the command (never the file's name or content), batched with the workspace's
 * `last_used_at`: a transfer between sessions is use, so cold storage does not archive a
 * workspace someone is filling or reading (cold storage counts idleness from it).
 */
const logTransfer = (ctx: DomainContext, { workspace, session }: HotWorkspace, command: "upload" | "download" | "delete") =>
  ctx.db.batch([
    commandEvent(ctx, workspace.userId, command, session?.id ?? null),
    ctx.db
      .update(workspaces)
      .set({ lastUsedAt: ctx.clock.now() })
      .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, workspace.userId), eq(workspaces.state, "hot"))),
  ]);

export interface UploadInput {
  rawPath: string;
  body: ReadableStream<Uint8Array> | null;
  /** Content-Length as sent; required (the host writes the file's size before its bytes). */
  contentLength: string | undefined;
  /** Append at this offset (resuming); absent: the file is written whole, replacing any. */
  offset: number | undefined;
}

/**
 * Upload: the body streams to the host, which hashes it as it writes. The answer's sha256 is of
 * the bytes of this request (the whole file when not appending); `size` is the file's size after it.
 */
export async function uploadWorkspaceFile(ctx: DomainContext, userId: string, input: UploadInput): Promise<StoredFile> {
  const { encoded } = workspaceFilePath(input.rawPath);
  const length = uploadLength(ctx, input.contentLength, input.offset);
  const hot = await hotWorkspace(ctx, userId);
  const { workspace, client } = hot;
  await logTransfer(ctx, hot, "upload");
  const body = input.body ?? new Blob([]).stream();
  return client.putFile(workspace.id, encoded, body, length, input.offset);
}

/** Content-Length as sent, which a streamed upload needs (the host writes sizes before bytes), within the per-request limit. */
function uploadLength(ctx: DomainContext, contentLength: string | undefined, offset = 0): number {
  if (contentLength === undefined || !/^\d{1,16}$/.test(contentLength)) {
    throw new AppError("length_required", "Send the file with a Content-Length (resume large files in chunks with ?offset=).");
  }
  const length = Number(contentLength);
  const max = ctx.config.files.maxBytes;
  if (offset + length > max) throw new AppError("payload_too_large", `A file may have at most ${max} bytes.`);
  return length;
}

export interface ArchiveUploadInput {
  /** The directory to unpack into, as the query gave it ('/'-separated, decoded); "" for the workspace root. */
  path: string;
  body: ReadableStream<Uint8Array> | null;
  contentLength: string | undefined;
}

/**
 * Many files in one request: a tar stream unpacked into a directory of the workspace (made where
 * missing). The host checks every entry: nothing lands outside the directory's workspace, no link
 * leads out or is written through, no device; the workspace's disk bounds it (507 workspace_full).
 * Answers each file's SHA-256 as the host wrote it, for the client to check against its own.
 * Logged as the `upload` command, never with a name (policy §1, §3).
 */
export async function uploadWorkspaceArchive(ctx: DomainContext, userId: string, input: ArchiveUploadInput): Promise<UnpackedArchive> {
  // The query's path is decoded already: each segment is encoded on its own, so a '/' stays a separator and "%2F" stays a name.
  const encoded = input.path === "" ? "" : workspaceFilePath(input.path.split("/").map(encodeURIComponent).join("/")).encoded;
  const length = uploadLength(ctx, input.contentLength);
  const hot = await hotWorkspace(ctx, userId);
  await logTransfer(ctx, hot, "upload");
  return hot.client.unpackArchive(hot.workspace.id, encoded, input.body ?? new Blob([]).stream(), length);
}

export interface DownloadInput {
  rawPath: string;
  /** The client's Range header, passed on as it is (the host serves one range, or the whole file). */
  range: string | undefined;
  /** RFC 9530 `Want-Repr-Digest`: the whole file's SHA-256 is sent with the bytes when asked for. */
  wantDigest: boolean;
  /** A HEAD: the head only, no bytes sent. */
  headOnly: boolean;
}

export interface Download {
  status: 200 | 206;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

const DIGEST_NAME = /(?:^|,)\s*sha-256\s*(?:=\s*(\d+))?/i;

/** True when a Want-Repr-Digest (or the older Want-Digest) header asks for SHA-256 with a non-zero preference. */
export const wantsSha256 = (header: string | undefined) => {
  const match = header ? DIGEST_NAME.exec(header) : null;
  return match !== null && match[1] !== "0";
};

const hexToBase64 = (hex: string) => btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16))));

/** Download: the host's stream passed straight on, with its length, range and, when asked for, the whole file's digest. */
export async function downloadWorkspaceFile(ctx: DomainContext, userId: string, input: DownloadInput): Promise<Download> {
  const { encoded } = workspaceFilePath(input.rawPath);
  const hot = await hotWorkspace(ctx, userId);
  const { workspace, client } = hot;
  if (!input.headOnly) await logTransfer(ctx, hot, "download");
  // The digest of the whole file (a representation digest, RFC 9530: right for ranges too), read
  // before the bytes: the download itself carries no trailer.
  const digest = input.wantDigest ? await client.fileChecksum(workspace.id, encoded) : null;
  const response = await client.getFile(workspace.id, encoded, input.range);
  const headers = new Headers({ "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "Cache-Control": "no-store" });
  for (const name of ["Content-Length", "Content-Range", "Last-Modified"]) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (digest) {
    headers.set("Repr-Digest", `sha-256=:${hexToBase64(digest.sha256)}:`);
    headers.set("Ozekai-Sha256", digest.sha256);
  }
  if (input.headOnly) {
    await response.body?.cancel();
    return { status: response.status === 206 ? 206 : 200, headers, body: null };
  }
  return { status: response.status === 206 ? 206 : 200, headers, body: response.body };
}

/** Policy §7 portability: the whole workspace as a tar stream, while connected. */
export async function downloadWorkspaceArchive(ctx: DomainContext, userId: string): Promise<{ filename: string; body: ReadableStream<Uint8Array> | null }> {
  const { workspace, client, session } = await hotWorkspace(ctx, userId);
  if (session?.state !== "running") throw new AppError("not_connected", "Connect first: your workspace archive is downloadable while your session runs (policy §7).");
  await commandEvent(ctx, userId, "download", session.id);
  const response = await client.getArchive(workspace.id);
  return { filename: `workspace-${workspace.id}.tar`, body: response.body };
}

/**
 * A directory of the workspace (`path` as the query gave it, decoded; "" for the root) in one tar
 * stream, its files' SHA-256 in a manifest as the last entry (docs/decisions/0034): a directory
 * download in one request. While hot, connected or not, like the file routes; logged as the
 * `download` command without the name (policy §1, §3).
 */
export async function downloadWorkspaceDirectory(ctx: DomainContext, userId: string, path: string): Promise<{ filename: string; body: ReadableStream<Uint8Array> | null }> {
  // As for the upload's directory: each segment encoded on its own, then checked like every file path.
  const encoded = path === "" ? "" : workspaceFilePath(path.split("/").map(encodeURIComponent).join("/")).encoded;
  const hot = await hotWorkspace(ctx, userId);
  await logTransfer(ctx, hot, "download");
  const response = await hot.client.packDirectory(hot.workspace.id, encoded);
  // The header's file name: the directory's, in characters that cannot break a quoted string.
  const name = path === "" ? "workspace" : (path.split("/").at(-1) ?? "").replace(/[^\w.-]/g, "_");
  return { filename: `${name}.tar`, body: response.body };
}

/** Entries per page of a directory listing: by default, and at most (each is one stat on the host). */
export const TREE_PAGE = { default: TREE_DEFAULT_LIMIT, max: TREE_MAX_LIMIT } as const;

/**
 * A directory of the user's workspace (the root for an empty path), one page of entries in name
 * order after `after`. The names go to their owner only: never logged, never stored (policy §3).
 * A read, like HEAD: no command is logged and the workspace's last use is not moved.
 */
export async function listWorkspaceDirectory(ctx: DomainContext, userId: string, input: { rawPath: string; limit: number; after: string | undefined }): Promise<DirectoryListing> {
  const encoded = input.rawPath === "" ? "" : workspaceFilePath(input.rawPath).encoded;
  const { workspace, client } = await hotWorkspace(ctx, userId);
  return client.listDirectory(workspace.id, encoded, { limit: input.limit, after: input.after });
}

/**
 * Deletes a file, a link (the link itself, never what it points to) or, with `recursive`, a
 * directory and everything in it. The workspace root has no path, so it cannot be named here
 * (destroying the workspace is DELETE /v1/workspace). Logged as the `delete` command, never
 * with the name.
 */
export async function deleteWorkspacePath(ctx: DomainContext, userId: string, input: { rawPath: string; recursive: boolean }): Promise<RemovedPath> {
  const { encoded } = workspaceFilePath(input.rawPath);
  const hot = await hotWorkspace(ctx, userId);
  await logTransfer(ctx, hot, "delete");
  return hot.client.removePath(hot.workspace.id, encoded, input.recursive);
}
