import { createHash } from "node:crypto";
import { once } from "node:events";
import { pipeline, Readable, Transform } from "node:stream";
import { finished } from "node:stream/promises";
import tar from "tar-stream";
import { PACK_MANIFEST } from "../../../contract/provisioner.ts";
import { WORKSPACE_GID, WORKSPACE_MOUNT, WORKSPACE_UID } from "../containers/spec.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { asTar, ZstdError } from "./compression.ts";
import { getArchive, isDirectory, isSymlink, putArchive, statPath } from "./docker-archive.ts";
import { absolute, type StoredFile, walk } from "./files.ts";
import { archiveEntryPath, resolveLinkTarget } from "./paths.ts";
import { deleteWorkspace, ensureWorkspaceVolume, openWorkspaceHelper, requireWorkspaceVolume, type WorkspaceHelper } from "./volumes.ts";

/**
 * The whole workspace as a tar stream (entries "./name", relative to the workspace root), for
 * cold storage and portability (policy §7). Symbolic links are archived as links, never followed.
 */
export async function openArchiveExport(services: Services, workspaceId: string): Promise<Readable & { released: Promise<void> }> {
  await requireWorkspaceVolume(services, workspaceId);
  const helper = await openWorkspaceHelper(services, workspaceId);
  try {
    const archive = await getArchive(helper.container, `${WORKSPACE_MOUNT}/.`);
    // Removed once the stream closes; `released` lets a caller wait until the volume is free again.
    const released = new Promise<void>((resolve) => archive.once("close", () => void helper.release().then(resolve)));
    return Object.assign(archive, { released });
  } catch (error) {
    await helper.release();
    throw error;
  }
}

/**
 * A directory of the workspace (`segments`; empty for the root) as a tar stream, entries named
 * as `docker cp` names them (the directory's own name, then the path under it), and the manifest
 * last. Walked from the root as every transfer is: a link on the way is refused, never followed.
 * Inside, links and special files are entries of the tar, never followed; every entry is
 * re-packed (name checked, owner dropped) so that only what Docker archived, and the manifest
 * (PACK_MANIFEST: each file's SHA-256, computed as its bytes went by, no file read twice), reach
 * the client.
 */
export async function openDirectoryPack(services: Services, workspaceId: string, segments: readonly string[]): Promise<Readable> {
  await requireWorkspaceVolume(services, workspaceId);
  const helper = await openWorkspaceHelper(services, workspaceId);
  let archive: Readable;
  try {
    const { target } = await walk(helper.container, segments);
    if (segments.length > 0 && !target) throw new ProvisionerError("file_not_found");
    if (target && !isDirectory(target)) throw new ProvisionerError("not_a_directory");
    archive = await getArchive(helper.container, absolute(segments));
  } catch (error) {
    await helper.release();
    throw error;
  }
  const extract = tar.extract();
  const pack = tar.pack();
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  archive.once("error", (error) => extract.destroy(error));
  const closed = () => {
    archive.destroy();
    extract.destroy();
    void helper.release();
  };
  pack.once("close", closed);
  pack.once("error", closed);
  (async () => {
    const files: StoredFile[] = [];
    const byName = new Map<string, StoredFile>();
    for await (const entry of extract) {
      const header = entry.header;
      // Docker's names are the directory's own name, then the path under it: checked all the same.
      if (!archiveEntryPath(header.name)) throw new ProvisionerError("unsafe_archive", "an entry without a name");
      const common = { name: header.name, mode: (header.mode ?? 0o644) & 0o777, mtime: header.mtime ?? new Date() };
      if (header.type === "file" || header.type === "contiguous-file") {
        const size = header.size ?? 0;
        const out = pack.entry({ ...common, type: "file", size });
        const done = once(out, "finish");
        const hash = createHash("sha256");
        for await (const chunk of entry) {
          hash.update(chunk as Buffer);
          if (!out.write(chunk)) await once(out, "drain");
        }
        out.end(null); // streamx: null ends without writing (its typings require an argument)
        await done;
        const file = { path: header.name, size, sha256: hash.digest("hex") };
        files.push(file);
        byName.set(file.path, file);
        continue;
      }
      entry.resume();
      if (header.type === "link") {
        // Docker archives a file's second name as a hard link to its first, earlier in the same tar.
        const first = byName.get(header.linkname ?? "");
        if (!first) throw new ProvisionerError("unsafe_archive", "a hard link to a file outside the directory");
        files.push({ ...first, path: header.name });
      }
      pack.entry({ ...common, type: header.type ?? "file", linkname: header.linkname ?? undefined, devmajor: header.devmajor, devminor: header.devminor, size: 0 });
    }
    const manifest = Buffer.from(JSON.stringify({ files }));
    pack.entry({ name: PACK_MANIFEST, type: "file", mode: 0o644, mtime: new Date(), size: manifest.length }, manifest);
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  // A Node stream around tar-stream's (streamx): a reader gone away destroys the pack, and the helper goes with it.
  return Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

export type ImportResult = { workspaceId: string; entries: number; bytes: number };

const key = (segments: readonly string[]) => segments.join("/");

/**
 * Imports a tar stream into the workspace (created when missing: restoring from cold storage).
 * Every entry is checked and re-packed before Docker sees it: names must stay inside the
 * workspace, links must point inside it, nothing may be written through a link of the archive,
 * and only files, directories and links are accepted (no devices, no FIFOs). Modes lose their
 * setuid/setgid/sticky bits; every entry belongs to the workspace user. The import streams: an archive refused midway keeps what came before
 * the refused entry. A workspace it creates gets a disk of `sizeMb` (a restore passes the plan's).
 */
export async function importArchive(
  services: Services,
  workspaceId: string,
  body: Readable,
  options: { sha256?: string | undefined; sizeMb?: number | undefined } = {},
): Promise<ImportResult> {
  const { sha256, sizeMb } = options;
  return sha256 === undefined ? extractArchive(services, workspaceId, body, { sizeMb }) : restoreArchive(services, workspaceId, body, sha256, sizeMb);
}

/**
 * A restore from cold storage: the body (a stage: zstd, or a plain tar staged before compression)
 * is hashed as it is imported and must be the archive the Worker announced. It goes into a
 * workspace that does not exist yet, so that on any failure (a checksum mismatch found at the
 * very end included) the volume is deleted and no partial workspace is left.
 */
async function restoreArchive(services: Services, workspaceId: string, body: Readable, sha256: string, sizeMb: number | undefined): Promise<ImportResult> {
  try {
    await requireWorkspaceVolume(services, workspaceId);
    throw new ProvisionerError("workspace_exists");
  } catch (error) {
    if (!(error instanceof ProvisionerError && error.code === "workspace_not_found")) throw error;
  }
  const hash = createHash("sha256");
  let digest: string | undefined;
  const hashed = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      digest = hash.digest("hex");
      done();
    },
  });
  // pipeline, not pipe: the hash stream has an error listener from the start. A client gone while
  // the volume and its helper are still being made would otherwise be an unhandled 'error' (the
  // process dies), and the import would wait forever for a body that already failed.
  pipeline(body, hashed, () => undefined);
  try {
    // The volume first, as soon as the request arrives: it is there (and deleted on failure)
    // before the body's first bytes say whether it is zstd, so nobody sees it appear afterwards.
    await ensureWorkspaceVolume(services, workspaceId, { sizeMb });
    const result = await extractArchive(services, workspaceId, await asTar(hashed), { sizeMb });
    // The extraction ends once the body has ended, so every byte is hashed by now.
    if (digest !== sha256) throw new ProvisionerError("archive_checksum_mismatch");
    return result;
  } catch (error) {
    await deleteWorkspace(services, workspaceId).catch(() => undefined);
    // zstd refusing the bytes: they are not the archive announced (a corrupt cold copy).
    if (error instanceof ZstdError) throw new ProvisionerError("archive_checksum_mismatch");
    throw error;
  }
}

/**
 * A tar stream into a directory of an existing workspace (`into`: checked segments; empty for its
 * root), made with its missing parents: an upload of many files in one request. The same checks
 * as an import, relative to the workspace root (a link may point anywhere inside the workspace,
 * never out), and none of the directories it writes through may be a symbolic link, whether the
 * archive made it or the workspace had it. Answers the SHA-256 of every file it wrote.
 */
export async function unpackArchive(services: Services, workspaceId: string, into: readonly string[], body: Readable): Promise<UnpackResult> {
  await requireWorkspaceVolume(services, workspaceId);
  const files: StoredFile[] = [];
  const result = await extractArchive(services, workspaceId, body, { into, files });
  return { path: key(into), entries: result.entries, bytes: result.bytes, files };
}

export type UnpackResult = { path: string; entries: number; bytes: number; files: StoredFile[] };

async function extractArchive(
  services: Services,
  workspaceId: string,
  body: Readable,
  options: { sizeMb?: number | undefined; into?: readonly string[]; files?: StoredFile[] },
): Promise<ImportResult> {
  const into = options.into ?? [];
  if (options.into === undefined) await ensureWorkspaceVolume(services, workspaceId, { sizeMb: options.sizeMb });
  const helper = await openWorkspaceHelper(services, workspaceId);
  let made: number; // how many leading segments of `into` exist
  try {
    // The directory unpacked into: never through a link, made (the workspace user's) where missing.
    const { existing, target } = await walk(helper.container, into);
    if (target && !isDirectory(target)) throw new ProvisionerError("not_a_directory");
    made = existing;
  } catch (error) {
    await helper.release();
    throw error;
  }
  const extract = tar.extract();
  const pack = tar.pack();
  const extracted = putArchive(helper.container, WORKSPACE_MOUNT, pack as unknown as Readable);
  const links = new Set<string>(); // symlinks this archive created: nothing may be written through them
  const files = new Set<string>(); // regular files this archive created: the only valid hard-link targets
  const directories = new Set<string>(); // directories known to be real ones (made here, or stat'ed once)
  let entries = 0;
  let bytes = 0;

  const throughLink = (segments: readonly string[]) => segments.some((_, depth) => depth < segments.length - 1 && links.has(key(segments.slice(0, depth + 1))));

  /**
   * Every parent of `segments` the archive did not make is stat'ed once: a link the workspace has
   * there is refused, and a missing one is made here, the workspace user's (Docker would make it
   * root's, and the session could not write in it).
   */
  // Stats go through a second helper: Docker holds the first one's container while it extracts,
  // and a stat through it would wait for an extraction that waits for this loop (a deadlock).
  let inspector: Promise<WorkspaceHelper> | undefined;
  const checkParents = async (segments: readonly string[]) => {
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = key(segments.slice(0, depth));
      if (directories.has(parent)) continue;
      inspector ??= openWorkspaceHelper(services, workspaceId);
      const stat = await statPath((await inspector).container, absolute(segments.slice(0, depth)));
      if (stat && isSymlink(stat)) throw new ProvisionerError("unsafe_archive", "entry written through a symbolic link of the workspace");
      if (stat && !isDirectory(stat)) throw new ProvisionerError("unsafe_archive", "entry under a path that is not a directory");
      if (!stat) pack.entry({ name: parent, type: "directory", mode: 0o755, mtime: new Date(), uid: WORKSPACE_UID, gid: WORKSPACE_GID });
      directories.add(parent);
    }
  };

  const copying = (async () => {
    for (let depth = 1; depth <= into.length; depth++) {
      directories.add(key(into.slice(0, depth)));
      if (depth > made) pack.entry({ name: key(into.slice(0, depth)), type: "directory", mode: 0o755, mtime: new Date(), uid: WORKSPACE_UID, gid: WORKSPACE_GID });
    }
    body.pipe(extract as unknown as NodeJS.WritableStream);
    // finished(), not an error listener: it also reports a body that failed before this point.
    finished(body).catch((error: unknown) => extract.destroy(error instanceof Error ? error : new Error("the body failed")));
    for await (const entry of extract) {
      const header = entry.header;
      const relative = archiveEntryPath(header.name);
      if (!relative) {
        entry.resume(); // the root entry "./": the directory itself is not replaced
        continue;
      }
      const segments = [...into, ...relative];
      if (throughLink(segments)) throw new ProvisionerError("unsafe_archive", "entry written through a symbolic link");
      await checkParents(segments);
      const name = key(segments);
      // Owned by the workspace user whatever the archive says: an import plants nothing the session cannot change, or that is root's.
      const common = { name, mode: (header.mode ?? 0o644) & 0o777, mtime: header.mtime ?? new Date(), uid: WORKSPACE_UID, gid: WORKSPACE_GID };
      switch (header.type) {
        case "file":
        case "contiguous-file": {
          const out = pack.entry({ ...common, type: "file", size: header.size ?? 0 });
          const done = once(out, "finish");
          const hash = options.files ? createHash("sha256") : undefined;
          let size = 0;
          for await (const chunk of entry) {
            size += (chunk as Buffer).length;
            hash?.update(chunk as Buffer);
            if (!out.write(chunk)) await once(out, "drain");
          }
          out.end(null); // streamx: null ends without writing (its typings require an argument)
          await done;
          bytes += size;
          if (hash) options.files?.push({ path: name, size, sha256: hash.digest("hex") });
          files.add(name);
          links.delete(name);
          directories.delete(name);
          break;
        }
        case "directory":
          entry.resume();
          pack.entry({ ...common, type: "directory" });
          links.delete(name);
          directories.add(name);
          break;
        case "symlink": {
          resolveLinkTarget(segments, header.linkname ?? "");
          entry.resume();
          pack.entry({ ...common, type: "symlink", linkname: header.linkname ?? "" });
          links.add(name);
          files.delete(name);
          directories.delete(name);
          break;
        }
        case "link": {
          const linked = archiveEntryPath(header.linkname ?? "");
          const target = linked ? [...into, ...linked] : null;
          if (!target || !files.has(key(target))) throw new ProvisionerError("unsafe_archive", "hard link to a file outside this archive");
          entry.resume();
          pack.entry({ ...common, type: "link", linkname: key(target) });
          files.add(name);
          break;
        }
        default:
          throw new ProvisionerError("unsafe_archive", `entry type ${header.type ?? "unknown"} is not allowed`);
      }
      entries++;
    }
    pack.finalize();
  })();

  try {
    await Promise.all([copying, extracted]);
    return { workspaceId, entries, bytes };
  } catch (error) {
    pack.destroy();
    extract.destroy();
    body.unpipe();
    body.resume(); // drain what the client still sends, so the error answer can be read
    await Promise.allSettled([copying, extracted]);
    if (error instanceof ProvisionerError) throw error;
    if (error instanceof Error && /tar|header|unexpected end/i.test(error.message)) {
      throw new ProvisionerError("unsafe_archive", "the body is not a valid tar archive");
    }
    throw error;
  } finally {
    await helper.release();
    await inspector?.then((made) => made.release(), () => undefined);
  }
}
