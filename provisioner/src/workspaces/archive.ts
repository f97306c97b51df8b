import { createHash } from "node:crypto";
import { once } from "node:events";
import { pipeline, type Readable, Transform } from "node:stream";
import { finished } from "node:stream/promises";
import tar from "tar-stream";
import { WORKSPACE_GID, WORKSPACE_MOUNT, WORKSPACE_UID } from "../containers/spec.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { getArchive, putArchive } from "./docker-archive.ts";
import { archiveEntryPath, resolveLinkTarget } from "./paths.ts";
import { deleteWorkspace, ensureWorkspaceVolume, openWorkspaceHelper, requireWorkspaceVolume } from "./volumes.ts";

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
  return sha256 === undefined ? extractArchive(services, workspaceId, body, sizeMb) : restoreArchive(services, workspaceId, body, sha256, sizeMb);
}

/**
 * A restore from cold storage: the body is hashed as it is imported and must be the archive the
 * Worker announced. It goes into a workspace that does not exist yet, so that on any failure
 * (a checksum mismatch found at the very end included) the volume is deleted and no partial
 * workspace is left.
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
    const result = await extractArchive(services, workspaceId, hashed, sizeMb);
    // The extraction ends once the body has ended, so every byte is hashed by now.
    if (digest !== sha256) throw new ProvisionerError("archive_checksum_mismatch");
    return result;
  } catch (error) {
    await deleteWorkspace(services, workspaceId).catch(() => undefined);
    throw error;
  }
}

async function extractArchive(services: Services, workspaceId: string, body: Readable, sizeMb: number | undefined): Promise<ImportResult> {
  await ensureWorkspaceVolume(services, workspaceId, { sizeMb });
  const helper = await openWorkspaceHelper(services, workspaceId);
  const extract = tar.extract();
  const pack = tar.pack();
  const extracted = putArchive(helper.container, WORKSPACE_MOUNT, pack as unknown as Readable);
  const links = new Set<string>(); // symlinks this archive created: nothing may be written through them
  const files = new Set<string>(); // regular files this archive created: the only valid hard-link targets
  let entries = 0;
  let bytes = 0;

  const throughLink = (segments: readonly string[]) => segments.some((_, depth) => depth < segments.length - 1 && links.has(key(segments.slice(0, depth + 1))));

  const copying = (async () => {
    body.pipe(extract as unknown as NodeJS.WritableStream);
    // finished(), not an error listener: it also reports a body that failed before this point.
    finished(body).catch((error: unknown) => extract.destroy(error instanceof Error ? error : new Error("the body failed")));
    for await (const entry of extract) {
      const header = entry.header;
      const segments = archiveEntryPath(header.name);
      if (!segments) {
        entry.resume(); // the root entry "./": the workspace directory itself is not replaced
        continue;
      }
      if (throughLink(segments)) throw new ProvisionerError("unsafe_archive", "entry written through a symbolic link");
      const name = key(segments);
      // Owned by the workspace user whatever the archive says: an import plants nothing the session cannot change, or that is root's.
      const common = { name, mode: (header.mode ?? 0o644) & 0o777, mtime: header.mtime ?? new Date(), uid: WORKSPACE_UID, gid: WORKSPACE_GID };
      switch (header.type) {
        case "file":
        case "contiguous-file": {
          const out = pack.entry({ ...common, type: "file", size: header.size ?? 0 });
          const done = once(out, "finish");
          for await (const chunk of entry) {
            bytes += (chunk as Buffer).length;
            if (!out.write(chunk)) await once(out, "drain");
          }
          out.end(null); // streamx: null ends without writing (its typings require an argument)
          await done;
          files.add(name);
          links.delete(name);
          break;
        }
        case "directory":
          entry.resume();
          pack.entry({ ...common, type: "directory" });
          links.delete(name);
          break;
        case "symlink": {
          resolveLinkTarget(segments, header.linkname ?? "");
          entry.resume();
          pack.entry({ ...common, type: "symlink", linkname: header.linkname ?? "" });
          links.add(name);
          files.delete(name);
          break;
        }
        case "link": {
          const target = archiveEntryPath(header.linkname ?? "");
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
  }
}
