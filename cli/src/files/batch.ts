/**
 * Small files in one request: a tar stream of many of them, written as it is sent (never held),
 * which the host unpacks into the workspace directory (PUT /v1/workspace/archive?path=). One
 * request per file costs a round trip and a transfer helper on the host each; for files of a few
 * KiB that is all the time they take. Each file is hashed here as it is read and checked against
 * the SHA-256 the host computed of what it wrote, as a single upload is. Big files still go one
 * by one (upload.ts): they resume, a batch is sent again whole.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { once } from "node:events";
import type { Schemas } from "@ozekai/client";
import tar from "tar-stream";
import { CliError } from "../errors.ts";
import { problemOf, readJson, transfer } from "./http.ts";
import { removePath } from "./remote.ts";
import { metered, stallWatch } from "./progress.ts";
import { ATTEMPTS, CHUNK_BYTES, type FileResult, failed, retryable, type TransferTools } from "./transfer.ts";
import { identityOf, sameIdentity, type UploadItem } from "./upload.ts";

/** Files below this size go into a batch; from it on, each is its own (resumable) request. */
export const SMALL_FILE_BYTES = 1024 * 1024;

/** A batch holds at most this many files and bytes: one failure sends no more than this again. */
const BATCH_FILES = 1000;
const BATCH_BYTES = 64 * 1024 * 1024;

const BLOCK = 512;
const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/**
 * True when `name` fits a plain ustar header, as tar-stream writes it (printable ASCII; the name
 * split at a '/' into at most 155 + 100 bytes): the tar's length is then known before it is
 * written, which Content-Length needs. A name that does not fit is sent on its own.
 */
export function fitsUstar(name: string): boolean {
  if (!/^[\x20-\x7e]+$/.test(name)) return false;
  let rest = name;
  let prefix = "";
  while (rest.length > 100) {
    const at = rest.indexOf("/");
    if (at === -1) return false;
    prefix += prefix ? `/${rest.slice(0, at)}` : rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  return prefix.length <= 155;
}

interface Entry {
  item: UploadItem;
  /** The entry's name: the remote path relative to the directory unpacked into. */
  name: string;
}

/** The small files of `items` into batches under `into` (the remote directory), and the rest, sent one by one. */
export function planBatches(items: UploadItem[], into: string): { batches: Entry[][]; singles: UploadItem[] } {
  const batches: Entry[][] = [];
  const singles: UploadItem[] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const item of items) {
    const name = into === "" ? item.remote : item.remote.slice(into.length + 1);
    const fits = item.size < SMALL_FILE_BYTES && (into === "" || item.remote.startsWith(`${into}/`)) && fitsUstar(name);
    if (!fits) {
      singles.push(item);
      continue;
    }
    if (current.length === BATCH_FILES || bytes + item.size > BATCH_BYTES) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ item, name });
    bytes += item.size;
  }
  if (current.length > 0) batches.push(current);
  // A lone small file gains nothing from a tar around it.
  return { batches: batches.filter((batch) => batch.length > 1), singles: [...singles, ...batches.filter((batch) => batch.length === 1).map(([entry]) => entry!.item)] };
}

/** The tar's length: a header and the padded bytes of each file, then two empty blocks. */
const tarLength = (entries: Entry[]) => entries.reduce((sum, { item }) => sum + BLOCK + padded(item.size), 0) + 2 * BLOCK;

/** The tar of `entries`, written as it is read; `hashes` gets each file's SHA-256 once its bytes are in. */
function tarStream(entries: Entry[], hashes: Map<string, string>) {
  const pack = tar.pack();
  (async () => {
    for (const { item, name } of entries) {
      const entry = pack.entry({ name, type: "file", size: item.size, mode: item.mode & 0o777, mtime: new Date(item.identity.mtimeMs as number) });
      const done = once(entry, "finish");
      const hash = createHash("sha256");
      for await (const chunk of createReadStream(item.absolute, { highWaterMark: CHUNK_BYTES })) {
        hash.update(chunk as Buffer);
        if (!entry.write(chunk as Buffer)) await once(entry, "drain");
      }
      entry.end(null); // streamx: null ends without writing (its typings require an argument)
      await done;
      hashes.set(name, hash.digest("hex"));
    }
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error instanceof Error ? error : new Error(String(error))));
  return pack as unknown as AsyncIterable<Uint8Array>;
}

/** Sends one batch (again whole after a dropped link, up to ATTEMPTS) and checks every file's SHA-256. */
export async function uploadBatch(into: string, entries: Entry[], tools: TransferTools): Promise<FileResult[]> {
  const { progress } = tools;
  const length = tarLength(entries);
  const base = (item: UploadItem) => ({ local: item.local, remote: item.remote, size: item.size });
  let hashes = new Map<string, string>();
  try {
    let answer: Schemas["UnpackedArchive"] | undefined;
    for (let attempt = 1; !answer; attempt++) {
      const controller = new AbortController();
      const watch = stallWatch(controller);
      try {
        const response = await transfer(tools.session, {
          method: "PUT",
          target: `/v1/workspace/archive${into === "" ? "" : `?${new URLSearchParams({ path: into })}`}`,
          headers: { "Content-Type": "application/x-tar" },
          body: {
            length,
            open: () => {
              hashes = new Map();
              return metered(tarStream(entries, hashes), { limit: tools.limit, poke: watch.poke, count: (n) => progress.moved(n) });
            },
          },
          signal: controller.signal,
        });
        if (response.status !== 201) throw await problemOf(response);
        answer = (await readJson(response.body, 16 * 1024 * 1024)) as Schemas["UnpackedArchive"];
      } catch (error) {
        if (attempt >= ATTEMPTS || !retryable(error, tools.apiUrl)) throw error;
        progress.note(`${entries.length} small files: ${error instanceof Error ? error.message : String(error)}; sending them again`);
      } finally {
        watch.stop();
      }
    }
    const there = new Map(answer.files.map((file) => [file.path, file.sha256]));
    const results: FileResult[] = [];
    for (const { item, name } of entries) {
      const sha256 = hashes.get(name);
      const changed = !sameIdentity(item.identity, identityOf(await stat(item.absolute)));
      if (changed) results.push(failed(base(item), new CliError("error", "The file changed while it was being uploaded: upload it again."), tools.apiUrl));
      else if (!sha256 || there.get(item.remote) !== sha256) {
        // Never left looking complete: the workspace's copy is not the file that was sent.
        await removePath(tools.session.client.api, item.remote, false).catch(() => undefined);
        const mismatch = new CliError("error", `SHA-256 mismatch: sent ${sha256}, the workspace has ${there.get(item.remote) ?? "no file"}; the workspace's copy was removed.`);
        results.push(failed(base(item), mismatch, tools.apiUrl));
      } else results.push({ ...base(item), status: "uploaded", sha256, movedBytes: item.size });
    }
    return results;
  } catch (error) {
    return entries.map(({ item }) => ({ ...failed(base(item), error, tools.apiUrl), movedBytes: 0 }));
  } finally {
    progress.filesDone += entries.length;
  }
}
