/**
 * A sign-in kept in one file (Node): mode 0600 in a 0700 directory, replaced atomically (a
 * temporary file renamed over it), and an exclusive lock beside it (`<file>.lock`, created with
 * O_EXCL) so that concurrent processes refresh one at a time. A lock left by a process that died
 * is taken over: its holder's pid is gone (same host), or it is older than any refresh can last.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import type { CredentialStore, Tokens } from "./index.ts";

export interface FileStoreOptions {
  /** How long to wait for another process's lock before giving up, ms. */
  lockTimeoutMs?: number;
  /** A lock older than this is a dead holder's, ms (a refresh is bounded by the client's timeout). */
  staleLockMs?: number;
}

const isErrno = (error: unknown, code: string) => error instanceof Error && "code" in error && error.code === code;

function parseTokens(path: string, text: string): Tokens {
  let value: Partial<Tokens> | null = null;
  try {
    value = JSON.parse(text) as Partial<Tokens> | null;
  } catch {
    // reported below
  }
  if (typeof value?.accessToken !== "string" || typeof value.refreshToken !== "string") {
    throw new Error(`${path} does not hold a sign-in: delete it and sign in again`);
  }
  return { accessToken: value.accessToken, refreshToken: value.refreshToken };
}

/** Whether the lock at `path` belongs to a process that no longer runs (or it is too old). */
async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(path), readFile(path, "utf8")]);
    if (Date.now() - info.mtimeMs > staleMs) return true;
    const holder = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (holder.host !== hostname() || typeof holder.pid !== "number") return false;
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (error) {
      return isErrno(error, "ESRCH");
    }
  } catch {
    // Gone meanwhile: not stale, just free. Half written (its holder is between open and write): not yet.
    return false;
  }
}

export function fileCredentialStore(path: string, options: FileStoreOptions = {}): CredentialStore {
  const lockPath = `${path}.lock`;
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  const staleLockMs = options.staleLockMs ?? 120_000;
  const ensureDir = () => mkdir(dirname(path), { recursive: true, mode: 0o700 });

  async function lock(): Promise<void> {
    await ensureDir();
    const deadline = Date.now() + lockTimeoutMs;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      try {
        const handle = await open(lockPath, "wx", 0o600);
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
        await handle.close();
        return;
      } catch (error) {
        if (!isErrno(error, "EEXIST")) throw error;
      }
      if (await isStale(lockPath, staleLockMs)) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another ozekai process holds ${lockPath}; if none runs, delete that file`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  return {
    async read() {
      try {
        return parseTokens(path, await readFile(path, "utf8"));
      } catch (error) {
        if (isErrno(error, "ENOENT")) return undefined;
        throw error;
      }
    },
    async write(tokens) {
      if (tokens === undefined) {
        await rm(path, { force: true });
        return;
      }
      await ensureDir();
      // A new file each time, created 0600: the tokens are never readable by others, not even briefly.
      const temporary = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        await writeFile(temporary, `${JSON.stringify(tokens)}\n`, { mode: 0o600, flag: "wx", flush: true });
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async exclusive(fn) {
      await lock();
      try {
        return await fn();
      } finally {
        await unlink(lockPath).catch(() => undefined);
      }
    },
  };
}
