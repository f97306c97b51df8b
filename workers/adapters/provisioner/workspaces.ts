/**
 * Workspaces on a host: their size and deletion, files streamed in and out, the whole workspace as
 * a tar, and its verified restore from cold storage. Bytes pass through as streams, never held.
 */
import {
  type DirectoryListing,
  DirectoryListingSchema,
  type HostErrorCode,
  type StoredFile,
  StoredFileSchema,
  type RemovedPath,
  RemovedPathSchema,
  type UnpackedArchive,
  UnpackedArchiveSchema,
  WORKSPACE_MB_HEADER,
  WorkspaceSizesSchema,
} from "../../../contract/provisioner";
import { AppError } from "../../domain/errors";
import { pathId, type Reply, type Transport, type Upload } from "./transport";

/** What the host says about a file transfer, in the API's words (its own codes never reach users). */
const FILE_FAULTS: Partial<Record<HostErrorCode, () => AppError>> = {
  invalid_path: () => new AppError("validation_failed", "The path is not allowed in a workspace.", { fields: [{ field: "path", message: "not allowed" }] }),
  symlink_refused: () =>
    new AppError("validation_failed", "The path is or goes through a symbolic link, which transfers never follow.", { fields: [{ field: "path", message: "symbolic link" }] }),
  file_not_found: () => new AppError("not_found", "Your workspace has no file at this path."),
  workspace_not_found: () => new AppError("not_found", "Your workspace is not on its host."),
  not_a_file: () => new AppError("not_a_file"),
  range_not_satisfiable: () => new AppError("range_not_satisfiable", "The range starts past the end of the file."),
  upload_offset_mismatch: () => new AppError("upload_offset_mismatch", "The file's size is not the offset you sent; ask for its size (HEAD) and resume from there."),
  length_required: () => new AppError("length_required"),
  validation_failed: () => new AppError("validation_failed", "The body did not match its Content-Length."),
  workspace_full: () => new AppError("workspace_full"),
  not_a_directory: () => new AppError("not_a_directory"),
  directory_not_empty: () => new AppError("directory_not_empty"),
  unsafe_archive: () =>
    new AppError("validation_failed", "The archive has an entry that is not allowed: a name outside the directory, a link that leads out of the workspace or is written through, or a device, pipe or socket.", {
      fields: [{ field: "body", message: "not allowed in a workspace" }],
    }),
  permission_denied: () => new AppError("forbidden", "The permissions inside your workspace keep its user from doing this (change them from your session)."),
};

/**
 * `body` as a stream of exactly `length` bytes: fetch sends Content-Length (which the request's
 * token binds), and the stream fails if the source has more or fewer. `piped` is false when the
 * source failed or did not match the length.
 */
function fixedLength(body: ReadableStream<Uint8Array>, length: number): Upload & { piped: Promise<boolean> } {
  const fixed = new FixedLengthStream(length);
  const piped = body.pipeTo(fixed.writable).then(
    () => true,
    () => false,
  );
  return { stream: fixed.readable, length, piped };
}

export function workspaceCalls(t: Transport) {
  /** A failed transfer: the host's reason in the API's words, or `unexpected`. */
  const fileFault = (what: string, failed: Reply) => (failed.code && FILE_FAULTS[failed.code]?.()) || t.unexpected(what, failed);

  /** A streamed answer: returned as it is on success, read as a problem otherwise. */
  async function streamed(what: string, response: Response, ok: number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    throw fileFault(what, await t.readReply(what, response));
  }

  /**
   * A client's upload streamed to the host as it arrives, `length` bytes exactly, and the host's
   * answer. The answer is read before the body is known to be sent whole: a host that refuses (a
   * full workspace, a wrong offset) answers before it read the body, and waiting for the body
   * first would wait forever. A body that did not match its length is `validation_failed`.
   */
  async function sendStreamed(target: string, contentType: string, body: ReadableStream<Uint8Array>, length: number): Promise<Reply> {
    // The host needs the length before the first byte (a tar header carries a file).
    const upload = fixedLength(body, length);
    let response: Response;
    try {
      // No timeout: an upload of many GB takes as long as the client's link does.
      response = await t.send("PUT", target, { headers: { "Content-Type": contentType }, body: upload, timeoutMs: null });
    } catch (error) {
      const piped = await Promise.race([upload.piped, new Promise((resolve) => setTimeout(() => resolve(true), 100))]);
      if (!piped) throw FILE_FAULTS.validation_failed!();
      throw error;
    }
    const answer = await t.readReply(`PUT ${target.split("?")[0]}`, response);
    if (answer.status < 300 && !(await upload.piped)) throw FILE_FAULTS.validation_failed!();
    return answer;
  }

  return {
    /** Every workspace on the host with its size (null when the host cannot tell). */
    async workspaceSizes(): Promise<{ workspaceId: string; sizeBytes: number | null }[]> {
      const reply = await t.request("GET", "/v1/workspaces");
      if (reply.status !== 200) throw t.unexpected("GET /v1/workspaces", reply);
      const parsed = WorkspaceSizesSchema.safeParse(reply.body);
      if (!parsed.success) throw new AppError("provisioner_unavailable", "The GPU host's workspace sizes did not match what the Worker expects.");
      return parsed.data.workspaces;
    },

    /** Deletes the volume; gone already is fine. */
    async deleteWorkspace(workspaceId: string): Promise<void> {
      const path = `/v1/workspaces/${pathId(workspaceId)}`;
      const reply = await t.request("DELETE", path);
      if (reply.status === 204 || reply.status === 404) return;
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "Your workspace is in use by a transfer; try again shortly.");
      throw t.unexpected(`DELETE ${path}`, reply);
    },

    /**
     * Streams `length` bytes into a file (`path`: checked, percent-encoded segments). With `offset`,
     * the bytes are appended at that offset, which must be the file's current size.
     */
    async putFile(workspaceId: string, path: string, body: ReadableStream<Uint8Array>, length: number, offset?: number): Promise<StoredFile> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/files/${path}${offset === undefined ? "" : `?offset=${offset}`}`;
      const what = `PUT ${target.split("?")[0]}`;
      const answer = await sendStreamed(target, "application/octet-stream", body, length);
      if (answer.status === 200 || answer.status === 201) return t.parse(what, StoredFileSchema, answer.body);
      throw fileFault(what, answer);
    },

    /**
     * Unpacks a tar stream of `length` bytes into a directory (`path`: checked, percent-encoded
     * segments; "" for the root), made where missing. The host checks every entry (archive.ts).
     */
    async unpackArchive(workspaceId: string, path: string, body: ReadableStream<Uint8Array>, length: number): Promise<UnpackedArchive> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/unpack${path === "" ? "" : `/${path}`}`;
      const answer = await sendStreamed(target, "application/x-tar", body, length);
      if (answer.status === 201) return t.parse(`PUT ${target}`, UnpackedArchiveSchema, answer.body);
      throw fileFault(`PUT ${target}`, answer);
    },

    /** The file as the host streams it (200, or 206 for a `Range`); the body is not read here. */
    async getFile(workspaceId: string, path: string, range?: string): Promise<Response> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/files/${path}`;
      const response = await t.send("GET", target, { headers: range ? { Range: range } : {} });
      return streamed(`GET ${target}`, response, [200, 206]);
    },

    async fileChecksum(workspaceId: string, path: string): Promise<StoredFile> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/checksums/${path}`;
      // Hashing reads the whole file on the host: as long as a create may take.
      const answer = await t.request("GET", target, { timeoutMs: t.timeouts.create });
      if (answer.status === 200) return t.parse(`GET ${target}`, StoredFileSchema, answer.body);
      throw fileFault(`GET ${target}`, answer);
    },

    /** One page of a directory's entries (`path`: checked, percent-encoded segments; "" for the root). */
    async listDirectory(workspaceId: string, path: string, page: { limit: number; after?: string | undefined }): Promise<DirectoryListing> {
      const query = new URLSearchParams({ limit: String(page.limit), ...(page.after === undefined ? {} : { after: page.after }) });
      const target = `/v1/workspaces/${pathId(workspaceId)}/tree${path === "" ? "" : `/${path}`}`;
      // A page is one stat per entry on the host: up to a thousand.
      const answer = await t.request("GET", `${target}?${query}`, { timeoutMs: t.timeouts.create });
      if (answer.status === 200) return t.parse(`GET ${target}`, DirectoryListingSchema, answer.body);
      throw fileFault(`GET ${target}`, answer);
    },

    /** Removes a file, a link (never its target) or, with `recursive`, a directory and all in it. */
    async removePath(workspaceId: string, path: string, recursive: boolean): Promise<RemovedPath> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/files/${path}`;
      // A large tree takes a while to unlink.
      const answer = await t.request("DELETE", `${target}${recursive ? "?recursive=1" : ""}`, { timeoutMs: t.timeouts.create });
      if (answer.status === 200) return t.parse(`DELETE ${target}`, RemovedPathSchema, answer.body);
      throw fileFault(`DELETE ${target}`, answer);
    },

    /** The whole workspace as a tar stream. */
    /**
     * A directory (`path`: checked, percent-encoded segments; "" for the root) as the host streams
     * it: a tar ending with the manifest of its files' SHA-256. The body is not read here.
     */
    async packDirectory(workspaceId: string, path: string): Promise<Response> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/pack${path === "" ? "" : `/${path}`}`;
      return streamed(`GET ${target}`, await t.send("GET", target), [200]);
    },

    async getArchive(workspaceId: string): Promise<Response> {
      const target = `/v1/workspaces/${pathId(workspaceId)}/archive`;
      return streamed(`GET ${target}`, await t.send("GET", target), [200]);
    },

    /**
     * Restores a workspace from a tar stream into a volume that must not exist yet, of `workspaceMb`
     * (the plan's: the archive must fit). The host hashes the body as it imports it: another
     * SHA-256 than `archive.sha256` (or a body that is not a safe tar) leaves no volume and is
     * `cold_storage_unavailable`.
     */
    async putArchive(workspaceId: string, body: ReadableStream<Uint8Array>, archive: { size: number; sha256: string }, workspaceMb: number, signal?: AbortSignal): Promise<void> {
      const path = `/v1/workspaces/${pathId(workspaceId)}/archive`;
      // `body` is already of known length (a branch of restore.ts's FixedLengthStream): workerd
      // cannot pipe one transform stream's readable into another's writable. A source that fails
      // shows as the restore's own failure (restore.ts reads it too).
      const upload = { stream: body, length: archive.size, sha256: archive.sha256 };
      const headers = { "Content-Type": "application/x-tar", [WORKSPACE_MB_HEADER]: String(workspaceMb) };
      // No timeout: a restore takes as long as the workspace is large.
      const response = await t.send("PUT", path, { headers, body: upload, timeoutMs: null, signal });
      const reply = await t.readReply(`PUT ${path}`, response);
      if (reply.status === 200) return;
      if (reply.code === "archive_checksum_mismatch" || reply.code === "unsafe_archive") {
        t.fault(`PUT ${path}`, "cold_copy_corrupt", reply.code);
        throw new AppError("cold_storage_unavailable", "The cold copy of your workspace did not match its checksum; it is kept as it is and nothing was restored.");
      }
      throw t.unexpected(`PUT ${path}`, reply);
    },
  };
}
