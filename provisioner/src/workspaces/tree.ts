/**
 * A directory's listing and the removal of a path, for the workspace's owner (the Worker asks only
 * on the owner's own request; names are returned, never logged: policy §3). Paths are walked from
 * the root through Docker's stat exactly as transfers do (files.ts `walk`): a symbolic link on the
 * way is refused, never followed. What the archive API cannot do (read a directory's names, unlink)
 * runs as a command in a helper container that mounts the workspace alone (volumes.ts).
 */
import type { DirectoryListing, RemovedPath, TreeEntry } from "../../../contract/provisioner.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { isDirectory, isRegularFile, isSymlink, type PathStat, statPath } from "./docker-archive.ts";
import { absolute, walk } from "./files.ts";
import { openWorkspaceCommand, requireWorkspaceVolume } from "./volumes.ts";

/** Entries stat'ed at once for a page (each is one request to the Docker engine). */
const STAT_CONCURRENCY = 16;

const typeOf = (stat: PathStat): TreeEntry["type"] => (isSymlink(stat) ? "symlink" : isDirectory(stat) ? "dir" : isRegularFile(stat) ? "file" : "other");

function toEntry(name: string, stat: PathStat): TreeEntry {
  const type = typeOf(stat);
  const mtime = new Date(stat.mtime);
  return {
    name,
    type,
    size: type === "file" ? stat.size : 0,
    mtime: Number.isNaN(mtime.getTime()) ? new Date(0).toISOString() : mtime.toISOString(),
    ...(type === "symlink" ? { target: stat.linkTarget } : {}),
  };
}

/**
 * The `limit` smallest names after `after`, read from NUL-terminated names as they stream: at most
 * about 2 × limit names are held, however large the directory, and every name is counted.
 */
class PageCollector {
  private pending = "";
  private names: string[] = [];
  total = 0;
  more = false;

  private readonly prefix: string;
  private readonly limit: number;
  private readonly after: string | undefined;

  constructor(prefix: string, limit: number, after: string | undefined) {
    this.prefix = prefix;
    this.limit = limit;
    this.after = after;
  }

  push(text: string) {
    const parts = (this.pending + text).split("\0");
    this.pending = parts.pop() ?? "";
    for (const path of parts) this.add(path);
  }

  private add(path: string) {
    if (!path.startsWith(this.prefix)) return;
    const name = path.slice(this.prefix.length);
    if (name === "" || name.includes("/")) return;
    this.total++;
    if (this.after !== undefined && name <= this.after) return;
    this.names.push(name);
    if (this.names.length > 2 * (this.limit + 1)) this.trim();
  }

  private trim() {
    this.names.sort();
    if (this.names.length > this.limit) this.more = true;
    this.names.length = Math.min(this.names.length, this.limit);
  }

  page(): string[] {
    this.trim();
    return this.names;
  }
}

async function mapBounded<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * One page of the entries of the directory at `segments` (the root when empty), in name order,
 * after `after`. `find -P` lists the names (it never follows a link, the start included); each
 * name of the page is then stat'ed through Docker, which reports a link as a link.
 */
export async function listDirectory(services: Services, workspaceId: string, segments: readonly string[], page: { limit: number; after?: string | undefined }): Promise<DirectoryListing> {
  await requireWorkspaceVolume(services, workspaceId);
  const dir = absolute(segments);
  const command = await openWorkspaceCommand(services, workspaceId, ["find", "-P", dir, "-mindepth", "1", "-maxdepth", "1", "-print0"], { readOnly: true });
  try {
    if (segments.length > 0) {
      const { target } = await walk(command.container, segments);
      if (!target) throw new ProvisionerError("file_not_found");
      if (!isDirectory(target)) throw new ProvisionerError("not_a_directory");
    }
    const collector = new PageCollector(`${dir}/`, page.limit, page.after);
    const decoder = new TextDecoder();
    const status = await command.run((chunk) => collector.push(decoder.decode(chunk, { stream: true })));
    collector.push(`${decoder.decode()}\0`);
    // find says nothing but fails when the workspace user may not read the directory.
    if (status !== 0 && collector.total === 0) throw new ProvisionerError("permission_denied", "the directory cannot be read by the workspace user");
    const names = collector.page();
    const stats = await mapBounded(names, STAT_CONCURRENCY, (name) => statPath(command.container, `${dir}/${name}`));
    // A name removed since it was listed is left out.
    const entries = names.flatMap((name, i) => (stats[i] ? [toEntry(name, stats[i])] : []));
    return { path: segments.join("/"), entries, total: collector.total, truncated: collector.more, next: collector.more ? (names.at(-1) ?? null) : null };
  } finally {
    await command.release();
  }
}

/** The command's exit statuses (REMOVE_SCRIPT): 0 removed, 3 a directory that is not empty, else refused by permissions. */
const NOT_EMPTY = 3;

/**
 * Removes `$1` without following a link: a link or another non-directory is unlinked, a directory
 * removed if empty, or with everything in it when `$2` is "recursive" (`rm -r` never follows the
 * links it meets). Arguments, never shell text: the path is never interpreted.
 */
const REMOVE_SCRIPT = `
if [ -d "$1" ] && [ ! -L "$1" ]; then
  if [ "$2" = recursive ]; then exec rm -rf -- "$1"; fi
  rmdir -- "$1" 2>/dev/null && exit 0
  [ -n "$(ls -A -- "$1" 2>/dev/null)" ] && exit ${NOT_EMPTY}
  exit 1
fi
exec rm -f -- "$1"`;

/**
 * Removes the file, link, other entry or (with `recursive`) directory at `segments`, which are
 * never empty: the workspace root cannot be removed. Every parent is walked as transfers walk
 * it; the last segment may be a link, and then the link is removed, not what it points to.
 */
export async function removePath(services: Services, workspaceId: string, segments: readonly string[], recursive: boolean): Promise<RemovedPath> {
  if (segments.length === 0) throw new ProvisionerError("invalid_path", "the workspace root cannot be removed");
  await requireWorkspaceVolume(services, workspaceId);
  const command = await openWorkspaceCommand(services, workspaceId, ["sh", "-c", REMOVE_SCRIPT, "remove", absolute(segments), recursive ? "recursive" : "single"], { readOnly: false });
  try {
    const { target } = await walk(command.container, segments, { lastMayBeLink: true });
    if (!target) throw new ProvisionerError("file_not_found");
    const status = await command.run(() => undefined);
    if (status === NOT_EMPTY) throw new ProvisionerError("directory_not_empty");
    if (status !== 0) throw new ProvisionerError("permission_denied", "the workspace's permissions keep its user from removing this");
    return { path: segments.join("/"), type: typeOf(target) };
  } finally {
    await command.release();
  }
}
