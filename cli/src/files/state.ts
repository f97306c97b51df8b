/**
 * What an interrupted transfer leaves to resume from, one small JSON file per transfer under
 * `<config dir>/transfers/` (0700, files 0600), named by the SHA-256 of what it is about (the API,
 * the direction, the local and the workspace path), so the same transfer started again finds it.
 * It records what the bytes already moved belong to: the local file's size, mtime and inode for an
 * upload, the workspace file's size and Last-Modified for a download. When that no longer matches,
 * the transfer starts over instead of resuming onto other bytes; the SHA-256 of the prefix is
 * checked against the other side's before any resume as well.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { configDir } from "../session.ts";

export interface TransferKey {
  apiUrl: string;
  direction: "upload" | "download";
  local: string;
  remote: string;
}

/** What the bytes moved so far belong to; compared field by field. */
export type Identity = Record<string, string | number>;

export const transfersDir = () => join(configDir(), "transfers");

const stateFile = (key: TransferKey) => join(transfersDir(), `${createHash("sha256").update(JSON.stringify([key.apiUrl, key.direction, key.local, key.remote])).digest("hex")}.json`);

/** True when an unfinished transfer of `key` was recorded for exactly `identity`. */
export async function hasResumable(key: TransferKey, identity: Identity): Promise<boolean> {
  let stored: { identity?: Identity };
  try {
    stored = JSON.parse(await readFile(stateFile(key), "utf8"));
  } catch {
    return false; // none, or unreadable: start over
  }
  const recorded = stored.identity ?? {};
  const names = Object.keys(identity);
  return names.length === Object.keys(recorded).length && names.every((name) => recorded[name] === identity[name]);
}

/** Records that a transfer of `key` is under way for `identity` (before its first byte moves). */
export async function recordTransfer(key: TransferKey, identity: Identity): Promise<void> {
  await mkdir(transfersDir(), { recursive: true, mode: 0o700 });
  await writeFile(stateFile(key), JSON.stringify({ ...key, identity, startedAt: new Date().toISOString() }), { mode: 0o600 });
}

/** Forgets it: done, verified, or given up. */
export async function forgetTransfer(key: TransferKey): Promise<void> {
  await rm(stateFile(key), { force: true });
}
