import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { dockerStatus, ProvisionerError } from "../errors.ts";

/** Docker's stat of a path inside a container (X-Docker-Container-Path-Stat); the last link is not followed. */
export type PathStat = { name: string; size: number; mode: number; mtime: string; linkTarget: string };

// Go's os.FileMode type bits (the mode is a uint32: use arithmetic, not JS's signed bitwise operators).
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_TYPE_BITS = [2 ** 31, 2 ** 27, 2 ** 26, 2 ** 25, 2 ** 24, 2 ** 21, 2 ** 19]; // dir, link, device, pipe, socket, char device, irregular

const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
export const isDirectory = (stat: PathStat) => hasBit(stat.mode, MODE_DIR);
export const isSymlink = (stat: PathStat) => hasBit(stat.mode, MODE_SYMLINK) || stat.linkTarget !== "";
export const isRegularFile = (stat: PathStat) => !isSymlink(stat) && MODE_TYPE_BITS.every((bit) => !hasBit(stat.mode, bit));

/** Stats a path in the container's file system; null when it does not exist. */
export async function statPath(container: Docker.Container, path: string): Promise<PathStat | null> {
  let response: IncomingMessage;
  try {
    response = (await container.infoArchive({ path })) as IncomingMessage;
  } catch (error) {
    if (dockerStatus(error) === 404) return null;
    throw error;
  }
  response.resume();
  const header = response.headers["x-docker-container-path-stat"];
  if (typeof header !== "string") throw new Error("Docker answered a path stat without its header");
  return JSON.parse(Buffer.from(header, "base64").toString("utf8")) as PathStat;
}

export async function getArchive(container: Docker.Container, path: string): Promise<Readable> {
  return (await container.getArchive({ path })) as Readable;
}

/**
 * Extracts a tar stream into `path` (an existing directory) of the container's file system.
 * `workspace_full` when the workspace's disk ran out of room (Docker says so only in its message).
 */
export async function putArchive(container: Docker.Container, path: string, tar: Readable): Promise<void> {
  try {
    await container.putArchive(tar, { path, noOverwriteDirNonDir: true });
  } catch (error) {
    if (error instanceof Error && /no space left on device/i.test(error.message)) throw new ProvisionerError("workspace_full", undefined, { cause: error });
    throw error;
  }
}
