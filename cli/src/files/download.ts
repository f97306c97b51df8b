/**
 * `ozekai download`: a workspace file or directory to this machine (a directory in one stream,
 * directory.ts; with --sync file by file, through the listing). Bytes go into `<name>.ozekai-part` as they arrive and the file takes its name only after
 * its SHA-256 matched the one the host computed of the whole file (RFC 9530 Repr-Digest); an
 * interrupted file resumes with Range from what the part holds, while the workspace file's size
 * and time are the ones it was started with (state.ts).
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { lstat, mkdir, rename, rm, stat, truncate, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import type { OzekaiApi } from "@ozekai/client";
import { CliError } from "../errors.ts";
import { metered, stallWatch } from "./progress.ts";
import { baseName, getFile, joinPath, listDirectory, statFile, type TreeEntry, workspacePath } from "./remote.ts";
import { forgetTransfer, hasResumable, recordTransfer } from "./state.ts";
import { ATTEMPTS, type FileResult, failed, hashPrefix, retryable, type TransferTools } from "./transfer.ts";

export interface DownloadItem {
  remote: string;
  /** Where it goes here. */
  local: string;
  size: number;
  mtime: string;
}

/** The suffix of a file still arriving: it takes its own name only once verified. */
export const PART_SUFFIX = ".ozekai-part";

const isDirectory = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);

/** Why an entry is not downloaded: links and special files are reported, never followed. */
export function notFollowed(type: TreeEntry["type"], target?: string | null): string | undefined {
  if (type === "symlink") return `a symbolic link${target ? ` to ${target}` : ""}: not followed`;
  if (type === "other") return "not a regular file (a device, pipe or socket): not followed";
  return undefined;
}

export interface DownloadPlan {
  items: DownloadItem[];
  skipped: FileResult[];
  /** A directory to fetch in one stream (directory.ts) instead of `items`, listed only as it arrives. */
  directory?: { remote: string; local: string };
}

/**
 * What to fetch where, as `cp -r` does: into `local` when it is an existing directory (or ends
 * with '/'), else to `local` itself; by default into the current directory. The workspace root
 * ("/") is a directory named "workspace" here. A directory comes in one stream unless `perFile`
 * (--sync compares file by file): then it is listed here, all the way down.
 */
export async function planDownload(api: OzekaiApi, remoteArg: string, localArg: string | undefined, perFile: boolean): Promise<DownloadPlan> {
  const remote = workspacePath(remoteArg);
  const name = remote === "" ? "workspace" : baseName(remote);
  const into = localArg === undefined || localArg.endsWith("/") || (await isDirectory(localArg));
  const target = localArg === undefined ? name : into ? join(localArg, name) : localArg;
  let top: TreeEntry | undefined;
  if (remote === "") top = { name, type: "dir", size: 0, mtime: "" };
  else {
    const parent = remote.split("/").slice(0, -1).join("/");
    top = (await listDirectory(api, parent)).find((entry) => entry.name === name);
    if (!top) throw new CliError("not_found", `Your workspace has no file or directory ${remote}.`);
  }
  if (top.type === "dir" && !perFile) return { items: [], skipped: [], directory: { remote, local: target } };
  const items: DownloadItem[] = [];
  const skipped: FileResult[] = [];
  const visit = async (entry: TreeEntry, remotePath: string, local: string) => {
    const reason = notFollowed(entry.type, entry.target);
    if (reason) skipped.push({ local, remote: remotePath, status: "skipped", reason });
    else if (entry.type === "file") items.push({ remote: remotePath, local, size: entry.size, mtime: entry.mtime });
    else for (const child of await listDirectory(api, remotePath)) await visit(child, joinPath(remotePath, child.name), join(local, child.name));
  };
  await visit(top, remote, target);
  return { items, skipped };
}

/** Fetches one file (resuming an interrupted download of the same file) and verifies it end to end. */
export async function downloadOne(api: OzekaiApi, item: DownloadItem, tools: TransferTools): Promise<FileResult> {
  const { progress } = tools;
  const base = { local: item.local, remote: item.remote, size: item.size };
  const part = `${item.local}${PART_SUFFIX}`;
  const key = { apiUrl: tools.apiUrl, direction: "download" as const, local: resolve(item.local), remote: item.remote };
  const identity = { size: item.size, mtime: item.mtime };
  let moved = 0;
  try {
    if (tools.sync && (await lstat(item.local).then((s) => s.isFile() && s.size === item.size, () => false))) {
      const there = await statFile(api, item.remote, true);
      const sha256 = (await hashPrefix(item.local, item.size)).digest("hex");
      if (there?.sha256 === sha256) {
        progress.doneWithoutMoving += item.size;
        return { ...base, status: "unchanged", sha256, movedBytes: 0 };
      }
    }
    await mkdir(dirname(item.local), { recursive: true });
    const held = async () => Math.min(item.size, (await stat(part).catch(() => undefined))?.size ?? 0);
    let offset = (await hasResumable(key, identity)) ? await held() : 0;
    if (offset > 0) await truncate(part, offset); // nothing past what is resumed from
    let prefix = await hashPrefix(part, offset);
    const resumedFrom = offset;
    progress.doneWithoutMoving += offset;
    await recordTransfer(key, identity);

    // The host hashes the whole file while it sends it, not before: the digest is asked for beside
    // the bytes (both read the same file, the second from the page cache), so the wait is the
    // longer of the two rather than their sum. A file changed in between fails the comparison.
    const digest = statFile(api, item.remote, true).then((there) => there?.sha256);
    digest.catch(() => undefined); // awaited below; a failure is reported there, never unhandled
    let hash = prefix;
    for (let attempt = 1; ; attempt++) {
      const controller = new AbortController();
      const watch = stallWatch(controller);
      hash = prefix.copy();
      try {
        const got = await getFile(tools.session, item.remote, offset, controller.signal);
        if (got === "range_not_satisfiable") {
          // The part holds the whole file already (or the file shrank): its digest decides.
          if (offset === 0) throw new CliError("error", "The workspace refused the whole file's range.");
          break;
        }
        if (got.start !== offset) {
          offset = 0; // the whole file came instead of the rest
          hash = createHash("sha256");
        }
        const count = (bytes: number) => {
          moved += bytes;
          progress.moved(bytes);
        };
        const sink = createWriteStream(part, { flags: offset === 0 ? "w" : "r+", start: offset });
        await pipeline(metered(got.body, { hash, limit: tools.limit, poke: watch.poke, count }), sink, { signal: controller.signal });
        break;
      } catch (error) {
        if (attempt >= ATTEMPTS || !retryable(error, tools.apiUrl)) throw error;
        offset = await held();
        prefix = await hashPrefix(part, offset);
        progress.note(`${item.local}: ${error instanceof Error ? error.message : String(error)}; resuming at byte ${offset}`);
      } finally {
        watch.stop();
      }
    }
    const sha256 = hash.digest("hex");
    const workspaceSha256 = await digest;
    if (workspaceSha256 !== sha256) {
      // Never left looking complete: the part goes, and the next try starts over.
      await rm(part, { force: true });
      await forgetTransfer(key);
      throw new CliError("error", `SHA-256 mismatch: received ${sha256}, the workspace has ${workspaceSha256 ?? "no digest"}; the partial file was removed.`);
    }
    await rename(part, item.local);
    const mtime = new Date(item.mtime);
    if (!Number.isNaN(mtime.getTime())) await utimes(item.local, new Date(), mtime);
    await forgetTransfer(key);
    return { ...base, status: resumedFrom > 0 ? "resumed" : "downloaded", sha256, movedBytes: moved, ...(resumedFrom > 0 ? { resumedFrom } : {}) };
  } catch (error) {
    return { ...failed(base, error, tools.apiUrl), movedBytes: moved };
  } finally {
    progress.filesDone++;
  }
}

