/**
 * A directory download in one request: the host streams the directory as a tar whose last entry
 * is its manifest, every file's SHA-256 as the host sent it (GET /v1/workspace/archive?path=,
 * docs/decisions/0034). One request per file costs a round trip and a transfer helper on the
 * host each, and the listing one request per directory: for many small files that is all the
 * time they take. Each file goes into `<name>.ozekai-part` as it arrives, hashed here; it takes
 * its name only once the manifest has come and says the same size and SHA-256. A stream that
 * breaks off is streamed again whole (up to ATTEMPTS): nothing of it is complete before its
 * manifest, so there is nothing to resume from; `--sync` goes file by file, each resumable.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, mkdir, rename, rm, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { CliError } from "../errors.ts";
import { notFollowed, PART_SUFFIX } from "./download.ts";
import { problemOf, transfer } from "./http.ts";
import { metered, stallWatch } from "./progress.ts";
import { joinPath } from "./remote.ts";
import { ATTEMPTS, type FileResult, failed, retryable, type TransferTools } from "./transfer.ts";

/** The stream's last entry (contract/provisioner.ts PACK_MANIFEST): the only one whose name has no '/'. */
const MANIFEST = ".ozekai-manifest.json";

/** The manifest is read whole: more than this is not one the host sends (a million files take ~150 MB). */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/**
 * Files up to this size are held whole and written in one call, up to WRITES_AT_ONCE at a time
 * while the stream goes on (at most 32 MiB held): for small files the disk's per-file calls, one
 * after the other, are what takes the time. Bigger ones stream to disk as they arrive.
 */
const HELD_FILE_BYTES = 1024 * 1024;
const WRITES_AT_ONCE = 32;

/** One entry of tar-stream's extract: its header, and its bytes to read. */
type TarEntry = ReturnType<typeof tar.extract> extends AsyncIterable<infer E> ? E : never;

interface Received {
  /** The entry's name in the tar, as the manifest names it. */
  name: string;
  local: string;
  remote: string;
  size: number;
  sha256: string;
  mtime: Date | undefined;
  /** A hard link: a copy of this entry's file, made once that one is verified. */
  linkTo?: string;
}

/** The path under the directory of a tar entry (its first segment is the directory's own name); refused when it could land elsewhere. */
function relativeOf(name: string): string[] {
  const segments = name.replace(/\/+$/, "").split("/");
  const rest = segments.slice(1);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (name.startsWith("/") || segments.some((segment) => segment === "" || segment === "." || segment === ".." || /[\u0000-\u001f\\]/.test(segment))) {
    throw new CliError("error", `The workspace sent an entry that is not a path inside the directory: ${JSON.stringify(name)}.`);
  }
  return rest;
}

/**
 * Reads one stream into `.ozekai-part` files: the files it received, the links and specials it
 * skipped, and the manifest (undefined when the stream ended without it).
 */
async function receive(body: Readable, into: { remote: string; local: string }, tools: TransferTools, poke: () => void, parts: Set<string>) {
  const { progress } = tools;
  const extract = tar.extract();
  const feeding = pipeline(Readable.from(metered(body, { limit: tools.limit, poke, count: () => undefined })), extract as unknown as NodeJS.WritableStream);
  feeding.catch(() => undefined); // its error reaches the loop below through the extract stream
  const received: Received[] = [];
  const skipped: FileResult[] = [];
  let manifest: Map<string, { size: number; sha256: string }> | undefined;
  const made = new Set<string>(); // directories made here already
  const madeDirectory = async (path: string) => {
    if (made.has(path)) return;
    await mkdir(path, { recursive: true });
    made.add(path);
  };
  const writes = new Set<Promise<void>>();
  let writeFailed: unknown;
  const written = (write: Promise<void>) => {
    const tracked = write
      .catch((error: unknown) => {
        writeFailed ??= error;
      })
      .finally(() => writes.delete(tracked));
    writes.add(tracked);
  };
  try {
    for await (const entry of extract) await take(entry);
  } finally {
    // No write may land after this returns: a failed stream's parts are removed next.
    await Promise.all(writes);
  }
  await feeding;
  if (writeFailed) throw writeFailed;
  return { received, skipped, manifest };

  async function take(entry: TarEntry) {
    if (writeFailed) throw writeFailed;
    const { header } = entry;
    if (manifest) throw new CliError("error", "The workspace sent entries after its manifest.");
    if (!header.name.replace(/\/+$/, "").includes("/") && header.type === "file") {
      if (header.name !== MANIFEST) throw new CliError("error", `The workspace sent an entry outside the directory: ${JSON.stringify(header.name)}.`);
      if ((header.size ?? 0) > MAX_MANIFEST_BYTES) throw new CliError("error", "The workspace's manifest is larger than any it sends.");
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const listed = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { files?: { path: string; size: number; sha256: string }[] }).files ?? [];
      manifest = new Map(listed.map((file) => [file.path, file]));
      return;
    }
    const rest = relativeOf(header.name);
    const local = join(into.local, ...rest);
    const remote = joinPath(into.remote, ...rest);
    const reason = header.type === "symlink" ? notFollowed("symlink", header.linkname) : header.type === "file" || header.type === "link" || header.type === "directory" ? undefined : notFollowed("other");
    if (reason) {
      entry.resume();
      skipped.push({ local, remote, status: "skipped", reason });
      progress.note(`skipped ${local}: ${reason}`);
    } else if (header.type === "directory") {
      entry.resume();
      await madeDirectory(local);
    } else if (header.type === "link") {
      entry.resume();
      progress.files++;
      received.push({ name: header.name, local, remote, size: 0, sha256: "", mtime: header.mtime, linkTo: header.linkname ?? "" });
    } else {
      const size = header.size ?? 0;
      progress.files++;
      progress.totalBytes += size;
      await madeDirectory(dirname(local));
      const part = `${local}${PART_SUFFIX}`;
      parts.add(part);
      const hash = createHash("sha256");
      const bytes = metered(entry as AsyncIterable<Uint8Array>, { hash, limit: undefined, poke, count: (n) => progress.moved(n) });
      const mtime = header.mtime;
      // The workspace's mtime goes on the part: the rename keeps it.
      const dated = async () => {
        if (mtime && !Number.isNaN(mtime.getTime())) await utimes(part, new Date(), mtime);
        progress.filesDone++;
      };
      if (size <= HELD_FILE_BYTES) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of bytes) chunks.push(chunk);
        if (writes.size >= WRITES_AT_ONCE) await Promise.race(writes);
        written(writeFile(part, Buffer.concat(chunks)).then(dated));
      } else {
        await pipeline(bytes, createWriteStream(part));
        await dated();
      }
      received.push({ name: header.name, local, remote, size, sha256: hash.digest("hex"), mtime });
    }
  }
}

/**
 * Every file renamed into place that the manifest confirms (same size, same SHA-256); the others
 * removed and failed. A hard link is a copy of its verified file, as the per-file download makes it.
 */
async function settle(received: Received[], manifest: Map<string, { size: number; sha256: string }>, tools: TransferTools): Promise<FileResult[]> {
  const verified = new Map<string, Received>();
  const settleOne = async (file: Received): Promise<FileResult> => {
    const base = { local: file.local, remote: file.remote, size: file.size };
    try {
      const there = manifest.get(file.name);
      if (file.linkTo !== undefined) {
        const first = verified.get(file.linkTo);
        if (!first || there?.sha256 !== first.sha256) throw new CliError("error", "The workspace sent a hard link to a file it did not verify: not copied.");
        await copyFile(first.local, file.local);
        return { ...base, size: first.size, status: "downloaded", sha256: first.sha256, movedBytes: 0 };
      }
      const part = `${file.local}${PART_SUFFIX}`;
      if (there?.sha256 !== file.sha256 || there.size !== file.size) {
        // Never left looking complete: the part goes, and the next try starts over.
        await rm(part, { force: true });
        throw new CliError("error", `SHA-256 mismatch: received ${file.sha256}, the workspace has ${there?.sha256 ?? "no digest"}; the partial file was removed.`);
      }
      await rename(part, file.local);
      verified.set(file.name, file);
      return { ...base, status: "downloaded", sha256: file.sha256, movedBytes: file.size };
    } catch (error) {
      return { ...failed(base, error, tools.apiUrl), movedBytes: file.size };
    }
  };
  // Files first, WRITES_AT_ONCE renames at a time; then the hard links, copies of verified files.
  const results = new Map<Received, FileResult>();
  const settleInto = async (file: Received) => {
    results.set(file, await settleOne(file));
  };
  const files = received.filter((file) => file.linkTo === undefined);
  for (let at = 0; at < files.length; at += WRITES_AT_ONCE) await Promise.all(files.slice(at, at + WRITES_AT_ONCE).map(settleInto));
  for (const link of received.filter((file) => file.linkTo !== undefined)) await settleInto(link);
  return received.map((file) => results.get(file)!);
}

/** Downloads the directory `remote` ("" for the root) into `local` in one stream, streamed again whole after a dropped link. */
export async function downloadDirectory(into: { remote: string; local: string }, tools: TransferTools): Promise<FileResult[]> {
  const { progress } = tools;
  progress.totalKnown = false;
  const parts = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    const controller = new AbortController();
    const watch = stallWatch(controller);
    try {
      const response = await transfer(tools.session, { method: "GET", target: `/v1/workspace/archive?${new URLSearchParams({ path: into.remote })}`, signal: controller.signal });
      if (response.status !== 200) throw await problemOf(response);
      const { received, skipped, manifest } = await receive(response.body, into, tools, watch.poke, parts);
      if (!manifest) throw new CliError("error", "The workspace's stream ended before its manifest of SHA-256s: no file of it was kept.");
      return [...(await settle(received, manifest, tools)), ...skipped];
    } catch (error) {
      await Promise.all([...parts].map((part) => rm(part, { force: true })));
      parts.clear();
      if (attempt >= ATTEMPTS || !retryable(error, tools.apiUrl)) {
        progress.files = Math.max(progress.files, 1);
        return [{ ...failed({ local: into.local, remote: into.remote }, error, tools.apiUrl), movedBytes: 0 }];
      }
      progress.note(`${into.local}: ${error instanceof Error ? error.message : String(error)}; streaming the directory again`);
      progress.files = 0;
      progress.filesDone = 0;
      progress.totalBytes = 0;
    } finally {
      watch.stop();
    }
  }
}
