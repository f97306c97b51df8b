/** What uploads and downloads share: a file's result, the pool of files in flight, retries, local hashing. */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { CliError, type ExitKind, toCliError } from "../errors.ts";
import type { Session } from "../session.ts";
import { type Progress, type RateLimit, StalledError } from "./progress.ts";

/** Files moving at once: enough to hide the per-request cost of small files, few enough for one link. */
export const CONCURRENCY = 4;

/** Tries per file: a stall or a dropped connection resumes where the other side is. */
export const ATTEMPTS = 4;

/** Read (and hashed) in pieces of this size: memory stays flat whatever the file's size. */
export const CHUNK_BYTES = 1024 * 1024;

export type FileStatus = "uploaded" | "downloaded" | "resumed" | "unchanged" | "skipped" | "failed";

export interface FileResult {
  local: string;
  remote: string;
  status: FileStatus;
  /** The file's size in bytes (absent for what was skipped). */
  size?: number;
  /** The file's SHA-256 (hex), the same on both sides: verified end to end. */
  sha256?: string;
  /** Bytes this run moved; a resumed file moved only the rest. */
  movedBytes?: number;
  /** Where a resumed file continued from (bytes already on the other side). */
  resumedFrom?: number;
  /** Why it was skipped or failed. */
  reason?: string;
  error?: { kind: Exclude<ExitKind, "ok">; message: string };
}

export interface TransferTools {
  /** Whose transfer: file bytes go through http.ts signed in as it. */
  session: Session;
  progress: Progress;
  limit: RateLimit | undefined;
  sync: boolean;
  apiUrl: string;
}

/** Runs `work` over `items`, `CONCURRENCY` at a time, in order of start. */
export async function runPool<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

/**
 * A failure worth resuming after: the link (stalled, dropped, unreachable), the API asking to come
 * back, or an append at a size the file no longer has (a write of an interrupted run that
 * reached the host late): the next try asks the size again.
 */
export function retryable(error: unknown, apiUrl: string): boolean {
  if (error instanceof StalledError || (error instanceof Error && error.cause instanceof StalledError)) return true;
  const failure = toCliError(error, apiUrl);
  return failure.kind === "unavailable" || failure.extra.code === "upload_offset_mismatch";
}

/** The SHA-256 state of a local file's first `end` bytes (to continue over the rest), read in pieces. */
export async function hashPrefix(path: string, end: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (end === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: end - 1, highWaterMark: CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash;
}

/** A file's result after a failure: what the person reads, and the exit kind. */
export function failed(base: Pick<FileResult, "local" | "remote" | "size">, error: unknown, apiUrl: string): FileResult {
  const failure = toCliError(error, apiUrl);
  return { ...base, status: "failed", reason: failure.message, error: { kind: failure.kind, message: failure.message } };
}

/** The command's outcome: the document, and a CliError (exit code of the first failure) when any file failed. */
export function outcome(files: FileResult[], progress: Progress, done: string) {
  const count = (status: FileStatus) => files.filter((file) => file.status === status).length;
  const summary = {
    files: files.length,
    [done]: count(done as FileStatus),
    resumed: count("resumed"),
    unchanged: count("unchanged"),
    skipped: count("skipped"),
    failed: count("failed"),
    totalBytes: progress.totalBytes,
    movedBytes: progress.movedBytes,
    seconds: Number(progress.seconds.toFixed(3)),
  };
  progress.finish(`${done} ${summary[done]}, resumed ${summary.resumed}, unchanged ${summary.unchanged}, skipped ${summary.skipped}, failed ${summary.failed}`);
  const data = { files, summary };
  const failures = files.filter((file) => file.status === "failed");
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new CliError(first.error?.kind ?? "error", `${failures.length} of ${files.length} files failed; first ${first.local}: ${first.reason}`, { data });
  }
  const lines = files.map((file) => {
    const what = file.status === "skipped" || file.status === "failed" ? `${file.status}: ${file.reason}` : file.status === "resumed" ? `resumed at ${file.resumedFrom} bytes` : file.status;
    return `${file.local}  ${file.remote}  ${what}`;
  });
  return { data, lines };
}
