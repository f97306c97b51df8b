/**
 * `ozekai upload`: local files and directories into the workspace. Each file streams from disk
 * (memory stays flat), is hashed as it goes and checked against the SHA-256 the host computed of
 * what it wrote; an interrupted file resumes at the size the workspace has, after the SHA-256 of
 * that prefix matched the local file's (state.ts says when a resume is considered at all).
 */
import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { Readable } from "node:stream";
import type { OzekaiApi } from "@ozekai/client";
import { CliError } from "../errors.ts";
import { metered, stallWatch } from "./progress.ts";
import { joinPath, putFile, removePath, statFile, workspacePath } from "./remote.ts";
import { forgetTransfer, hasResumable, type Identity, recordTransfer } from "./state.ts";
import { ATTEMPTS, CHUNK_BYTES, type FileResult, failed, hashPrefix, retryable, type TransferTools } from "./transfer.ts";

export interface UploadItem {
  /** As the person named it (shown, and in --json). */
  local: string;
  absolute: string;
  remote: string;
  size: number;
  /** Its permission bits, for a batch's tar entry (the host keeps them, less setuid and the like). */
  mode: number;
  identity: Identity;
}

export const identityOf = (stats: Stats): Identity => ({ size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino, dev: stats.dev });
export const sameIdentity = (a: Identity, b: Identity) => Object.keys(a).every((name) => a[name] === b[name]);

/** Why a directory entry is not sent: links and special files are reported, never followed. */
function notFollowed(stats: Stats): string | undefined {
  if (stats.isSymbolicLink()) return "a symbolic link: not followed";
  if (!stats.isFile() && !stats.isDirectory()) return "not a regular file (a device, pipe or socket): not followed";
  return undefined;
}

/**
 * What to send where. One file to a remote name without a trailing '/' is sent under that name;
 * otherwise each file or directory goes into the remote directory by its own name, a
 * directory with everything under it. A missing local path fails the command before anything moves.
 */
export async function planUpload(locals: string[], remoteArg: string | undefined): Promise<{ items: UploadItem[]; skipped: FileResult[]; directory: string }> {
  const into = remoteArg === undefined || remoteArg.endsWith("/") || locals.length > 1;
  const remoteBase = workspacePath(remoteArg ?? "");
  const tops: { local: string; stats: Stats }[] = [];
  for (const local of locals) {
    try {
      tops.push({ local, stats: await lstat(local) });
    } catch {
      throw new CliError("not_found", `${local}: no such file or directory here.`);
    }
  }
  const items: UploadItem[] = [];
  const skipped: FileResult[] = [];
  const visit = async (local: string, stats: Stats, remote: string) => {
    const reason = notFollowed(stats);
    if (reason) skipped.push({ local, remote, status: "skipped", reason });
    else if (stats.isFile()) items.push({ local, absolute: resolve(local), remote, size: stats.size, mode: stats.mode, identity: identityOf(stats) });
    else {
      const names = (await readdir(local)).sort();
      for (const name of names) await visit(join(local, name), await lstat(join(local, name)), joinPath(remote, name));
    }
  };
  for (const { local, stats } of tops) {
    const name = basename(resolve(local));
    const remote = !into && stats.isFile() && remoteBase !== "" ? remoteBase : joinPath(remoteBase, name);
    await visit(local, stats, remote);
  }
  // `directory`: where the files go (each under it, but for one file sent under another name).
  return { items, skipped, directory: remoteBase };
}

/** Sends one file (resuming an interrupted upload of the same file) and verifies it end to end. */
export async function uploadOne(api: OzekaiApi, item: UploadItem, tools: TransferTools): Promise<FileResult> {
  const { progress } = tools;
  const base = { local: item.local, remote: item.remote, size: item.size };
  const key = { apiUrl: tools.apiUrl, direction: "upload" as const, local: item.absolute, remote: item.remote };
  let moved = 0;
  try {
    if (tools.sync) {
      const there = await statFile(api, item.remote, true);
      if (there?.size === item.size) {
        const sha256 = (await hashPrefix(item.absolute, item.size)).digest("hex");
        if (sha256 === there.sha256) {
          progress.doneWithoutMoving += item.size;
          return { ...base, status: "unchanged", sha256, movedBytes: 0 };
        }
      }
    }
    let offset = 0;
    let prefix = createHash("sha256");
    if (await hasResumable(key, item.identity)) {
      const there = await statFile(api, item.remote, true);
      if (there && there.size > 0 && there.size <= item.size) {
        const hash = await hashPrefix(item.absolute, there.size);
        if (hash.copy().digest("hex") === there.sha256) {
          offset = there.size;
          prefix = hash;
        }
      }
    }
    const resumedFrom = offset;
    progress.doneWithoutMoving += offset;
    await recordTransfer(key, item.identity);

    let hash = prefix;
    let wholeSha256: string | undefined; // the host's digest of a file sent in one request
    for (let attempt = 1; offset < item.size || item.size === 0; attempt++) {
      const controller = new AbortController();
      const watch = stallWatch(controller);
      try {
        const count = (bytes: number) => {
          moved += bytes;
          progress.moved(bytes);
        };
        const from = offset;
        // Opened for each send (a refreshed sign-in sends again): the hash starts over with it.
        const body = () => {
          hash = prefix.copy();
          const source = createReadStream(item.absolute, { start: from, highWaterMark: CHUNK_BYTES });
          return Readable.from(metered(source, { hash, limit: tools.limit, poke: watch.poke, count }), { objectMode: false, highWaterMark: 1 });
        };
        const answer = await putFile(tools.session, item.remote, body, item.size - offset, offset === 0 ? undefined : offset, controller.signal);
        wholeSha256 = offset === 0 ? answer.sha256 : undefined;
        break;
      } catch (error) {
        if (attempt >= ATTEMPTS || !retryable(error, tools.apiUrl)) throw error;
        // Resume where the workspace's copy ends: the bytes up to there are the ones this run sent.
        const there = await statFile(api, item.remote, false);
        offset = there && there.size <= item.size ? there.size : 0;
        prefix = await hashPrefix(item.absolute, offset);
        progress.note(`${item.local}: ${error instanceof Error ? error.message : String(error)}; resuming at byte ${offset}`);
      } finally {
        watch.stop();
      }
    }
    const sha256 = hash.digest("hex");
    if (!sameIdentity(item.identity, identityOf(await stat(item.absolute)))) {
      await forgetTransfer(key);
      throw new CliError("error", "The file changed while it was being uploaded: upload it again.");
    }
    const workspaceSha256 = wholeSha256 ?? (await statFile(api, item.remote, true))?.sha256;
    if (workspaceSha256 !== sha256) {
      // Never left looking complete: the workspace's copy is not the file that was sent.
      await removePath(api, item.remote, false).catch(() => undefined);
      await forgetTransfer(key);
      throw new CliError("error", `SHA-256 mismatch: sent ${sha256}, the workspace has ${workspaceSha256 ?? "no file"}; the workspace's copy was removed.`);
    }
    await forgetTransfer(key);
    return { ...base, status: resumedFrom > 0 ? "resumed" : "uploaded", sha256, movedBytes: moved, ...(resumedFrom > 0 ? { resumedFrom } : {}) };
  } catch (error) {
    return { ...failed(base, error, tools.apiUrl), movedBytes: moved };
  } finally {
    progress.filesDone++;
  }
}
