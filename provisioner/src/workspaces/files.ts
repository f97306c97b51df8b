import { createHash } from "node:crypto";
import { once } from "node:events";
import { Readable } from "node:stream";
import type Docker from "dockerode";
import tar from "tar-stream";
import { WORKSPACE_GID, WORKSPACE_MOUNT, WORKSPACE_UID } from "../containers/spec.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { getArchive, isDirectory, isRegularFile, isSymlink, type PathStat, putArchive, statPath } from "./docker-archive.ts";
import { KeyedMutex } from "../mutex.ts";
import { giveToWorkspaceUser, openWorkspaceAppender, openWorkspaceHelper, requireWorkspaceVolume } from "./volumes.ts";

export const absolute = (segments: readonly string[]) => [WORKSPACE_MOUNT, ...segments].join("/");

/**
 * Walks the path from the workspace root, one stat per segment, and refuses it as soon as a segment
 * is a symbolic link: a link is never followed, whether it points inside the workspace or out.
 * Returns how many leading segments exist and the stat of the last one when it exists.
 * `lastMayBeLink`: the last segment may itself be a link (deleting removes the link, not its target).
 */
export async function walk(container: Docker.Container, segments: readonly string[], options: { lastMayBeLink?: boolean } = {}): Promise<{ existing: number; target: PathStat | null }> {
  for (let depth = 1; depth <= segments.length; depth++) {
    const stat = await statPath(container, absolute(segments.slice(0, depth)));
    if (!stat) return { existing: depth - 1, target: null };
    if (isSymlink(stat) && !(options.lastMayBeLink && depth === segments.length)) throw new ProvisionerError("symlink_refused");
    if (depth < segments.length && !isDirectory(stat)) throw new ProvisionerError("invalid_path", "a parent of the path is not a directory");
    if (depth === segments.length) return { existing: depth, target: stat };
  }
  return { existing: 0, target: null };
}

export type StoredFile = { path: string; size: number; sha256: string };

/**
 * Writes one file from a stream, through the archive API, without holding it in memory: the body
 * is wrapped on the fly into a one-entry tar (which is why the size must be known up front) and
 * hashed as it passes. Missing parent directories are created.
 */
export async function uploadFile(
  services: Services,
  workspaceId: string,
  segments: readonly string[],
  body: Readable,
  size: number,
): Promise<StoredFile> {
  await requireWorkspaceVolume(services, workspaceId);
  const helper = await openWorkspaceHelper(services, workspaceId);
  try {
    const { existing, target } = await walk(helper.container, segments);
    if (target && !isRegularFile(target)) throw new ProvisionerError("not_a_file");
    const base = Math.min(existing, segments.length - 1); // deepest existing directory
    const relative = segments.slice(base);
    const pack = tar.pack();
    const extracted = putArchive(helper.container, absolute(segments.slice(0, base)), pack as unknown as Readable);
    const hash = createHash("sha256");
    let written = 0;
    const writing = (async () => {
      // The workspace user's, like everything in the workspace: the session can change what it uploaded.
      const common = { mtime: new Date(), uid: WORKSPACE_UID, gid: WORKSPACE_GID };
      for (let depth = 1; depth < relative.length; depth++) {
        pack.entry({ ...common, name: `${relative.slice(0, depth).join("/")}/`, type: "directory", mode: 0o755 });
      }
      const entry = pack.entry({ ...common, name: relative.join("/"), type: "file", size, mode: 0o644 });
      const done = new Promise<void>((resolve, reject) => {
        entry.on("finish", resolve);
        entry.on("error", reject);
      });
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        written += bytes.length;
        if (written > size) throw new ProvisionerError("validation_failed", "the body is longer than Content-Length");
        hash.update(bytes);
        if (!entry.write(bytes)) await once(entry, "drain");
      }
      if (written !== size) throw new ProvisionerError("validation_failed", "the body is shorter than Content-Length");
      entry.end(null); // streamx: null ends without writing (its typings require an argument)
      await done;
      pack.finalize();
    })();
    try {
      await Promise.all([writing, extracted]);
    } catch (error) {
      body.resume(); // as for appends: the sender can then read the answer
      pack.destroy();
      await Promise.allSettled([writing, extracted]);
      throw error;
    }
    return { path: segments.join("/"), size: written, sha256: hash.digest("hex") };
  } finally {
    await helper.release();
  }
}

/** A byte range asked for with HTTP Range (RFC 9110 §14.1.2): from `start` to `end` inclusive, or the last `suffix` bytes. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

/** Appends are serialized per workspace in this process, so "the size is the offset" holds while one writes. */
const appendLocks = new KeyedMutex();

/**
 * Resumable upload: appends `size` bytes at `offset`, which must be the file's current size
 * (`upload_offset_mismatch` otherwise: a chunk sent twice or out of order is refused, never
 * written twice). At offset 0 a missing file is created. The archive API can only replace whole
 * files, so the bytes go through `cat >>` in a short-lived container that mounts only the volume,
 * on a read-only root file system, without network or capabilities (volumes.ts). Returns the
 * SHA-256 of the appended bytes and the file's new size.
 */
export async function appendFile(
  services: Services,
  workspaceId: string,
  segments: readonly string[],
  body: Readable,
  size: number,
  offset: number,
): Promise<StoredFile> {
  return appendLocks.run(workspaceId, async () => {
    await requireWorkspaceVolume(services, workspaceId);
    const helper = await openWorkspaceHelper(services, workspaceId);
    let current: PathStat | null;
    try {
      current = (await walk(helper.container, segments)).target;
    } finally {
      await helper.release();
    }
    if (current && !isRegularFile(current)) throw new ProvisionerError("not_a_file");
    if ((current?.size ?? 0) !== offset) throw new ProvisionerError("upload_offset_mismatch", `the file has ${current?.size ?? 0} bytes`);
    if (!current) return uploadFile(services, workspaceId, segments, body, size);

    // A file cut off midway by an earlier upload is root's (docker-archive extraction sets the
    // owner last): it is the workspace user's again before the user's cat appends to it.
    await giveToWorkspaceUser(services, workspaceId, absolute(segments));
    const appender = await openWorkspaceAppender(services, workspaceId, absolute(segments));
    const hash = createHash("sha256");
    let written = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        written += bytes.length;
        if (written > size) throw new ProvisionerError("validation_failed", "the body is longer than Content-Length");
        hash.update(bytes);
        await appender.write(bytes);
      }
      if (written !== size) throw new ProvisionerError("validation_failed", "the body is shorter than Content-Length");
      await appender.finish();
    } catch (error) {
      // The rest of the body is read and dropped, so that the sender is not left blocked and
      // can read the answer (Node reads no more of a request whose body a handler began).
      body.resume();
      // A write that broke: cat stopped first (a full disk, say) and tells why.
      if (error instanceof ProvisionerError) throw error;
      throw (await appender.failure()) ?? error;
    } finally {
      await appender.release();
    }
    return { path: segments.join("/"), size: offset + size, sha256: hash.digest("hex") };
  });
}

export type FileDownload = {
  path: string;
  /** The whole file's size. */
  size: number;
  mtime: Date | undefined;
  /** The bytes streamed: the whole file, or the range asked for. */
  range: { start: number; end: number } | null;
  stream: Readable;
};

/** The inclusive byte range within a file of `size` bytes, or `range_not_satisfiable`. */
function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  if ("suffix" in range) {
    if (range.suffix === 0 || size === 0) throw new ProvisionerError("range_not_satisfiable", `the file has ${size} bytes`);
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  if (range.start >= size) throw new ProvisionerError("range_not_satisfiable", `the file has ${size} bytes`);
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}

/**
 * Opens one regular file for reading: Docker's archive of that path, with its single entry
 * streamed out (only the bytes of `range` when one is given: resumable downloads skip what the
 * client has). Refused when any segment is a symbolic link or the entry is not a regular file.
 */
export async function openFileDownload(
  services: Services,
  workspaceId: string,
  segments: readonly string[],
  range?: ByteRange,
): Promise<FileDownload> {
  await requireWorkspaceVolume(services, workspaceId);
  const helper = await openWorkspaceHelper(services, workspaceId);
  let archive: Readable | undefined;
  try {
    const { target } = await walk(helper.container, segments);
    if (!target) throw new ProvisionerError("file_not_found");
    if (!isRegularFile(target)) throw new ProvisionerError("not_a_file");
    archive = await getArchive(helper.container, absolute(segments));
    const extract = tar.extract();
    archive.pipe(extract as unknown as NodeJS.WritableStream);
    const entries = extract[Symbol.asyncIterator]();
    const first = await entries.next();
    if (first.done) throw new ProvisionerError("file_not_found");
    const entry = first.value;
    // Checked again on the archive itself: what Docker sends must be the one regular file asked for.
    if (entry.header.type === "symlink" || entry.header.type === "link") throw new ProvisionerError("symlink_refused");
    if (entry.header.type !== "file" || entry.header.name !== segments.at(-1)) throw new ProvisionerError("not_a_file");
    const size = entry.header.size ?? 0;
    const bytes = range ? resolveRange(range, size) : null;
    const source = archive;
    async function* content() {
      try {
        if (!bytes) {
          for await (const chunk of entry) yield chunk as Buffer;
          if (!(await entries.next()).done) throw new Error("the archive holds more than the one file asked for");
          return;
        }
        // Docker's archive API cannot seek: the bytes before the range are read and dropped.
        let offset = 0;
        for await (const chunk of entry) {
          const buffer = chunk as Buffer;
          const from = Math.max(0, bytes.start - offset);
          const to = Math.min(buffer.length, bytes.end + 1 - offset);
          offset += buffer.length;
          if (to > from) yield buffer.subarray(from, to);
          if (offset > bytes.end) break;
        }
      } finally {
        source.destroy();
        await helper.release();
      }
    }
    const stream = Readable.from(content(), { objectMode: false });
    // Also when the reader goes away before the first byte (the generator's finally never runs then).
    stream.once("close", () => {
      source.destroy();
      void helper.release();
    });
    return { path: segments.join("/"), size, mtime: entry.header.mtime, range: bytes, stream };
  } catch (error) {
    archive?.destroy();
    await helper.release();
    throw error;
  }
}

/** The file's SHA-256, computed by streaming it once (the download itself sends no trailer). */
export async function fileChecksum(services: Services, workspaceId: string, segments: readonly string[]): Promise<StoredFile> {
  const download = await openFileDownload(services, workspaceId, segments);
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of download.stream) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { path: download.path, size, sha256: hash.digest("hex") };
}
