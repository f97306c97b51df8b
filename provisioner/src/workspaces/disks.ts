/**
 * Workspace disks: a workspace can hold no more than its plan's size, so no tenant can fill the
 * disk the host and the other tenants share. Each workspace is an ext4 file system in a sparse
 * image file, loop-mounted on the host; its Docker volume binds the `workspace` directory inside
 * it. Writing past the size is ENOSPC inside the workspace and nowhere else. Project quotas and
 * `--storage-opt size` need file-system and kernel support hosts may lack; a loop device needs
 * only root (docs/decisions/0014-container-hardening.md).
 *
 * The image is sparse: on the host it takes what the workspace holds plus a few MiB of ext4
 * metadata. The mount outlives the provisioner; after a reboot it is mounted again on first use.
 */
import { execFile } from "node:child_process";
import { chown, mkdir, open, rm, stat, statfs, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { KeyedMutex } from "../mutex.ts";

const run = promisify(execFile);

const MIB = 1024 * 1024;

/** A disk's files: `dir/disk.ext4` mounted on `dir/mnt`; the workspace is `dir/mnt/workspace` (ext4's lost+found stays outside it). */
export function diskPaths(dir: string) {
  const mountpoint = join(dir, "mnt");
  return { image: join(dir, "disk.ext4"), mountpoint, root: join(mountpoint, "workspace") };
}

/** The disk directory whose workspace directory is `root` (a volume's bind source), or null when `root` is no disk's. */
export function diskDirOf(root: string | undefined): string | null {
  return root?.endsWith("/mnt/workspace") ? dirname(dirname(root)) : null;
}

/** Disk operations on one workspace run one at a time (a mount, a resize and a removal never overlap). */
const locks = new KeyedMutex();

const notFound = (error: unknown) => typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";

async function isMounted(dir: string): Promise<boolean> {
  try {
    // A mount point sits on another device than the directory holding it.
    const [mounted, parent] = await Promise.all([stat(diskPaths(dir).mountpoint), stat(dir)]);
    return mounted.dev !== parent.dev;
  } catch (error) {
    if (notFound(error)) return false;
    throw error;
  }
}

// nosuid, nodev: nothing a tenant leaves in its workspace gains privileges or opens a device.
// noinit_itable: no background zeroing of inode tables, which would fill in the sparse image.
const MOUNT_OPTIONS = "loop,nosuid,nodev,noinit_itable";

async function mount(dir: string): Promise<void> {
  if (await isMounted(dir)) return;
  const { image, mountpoint } = diskPaths(dir);
  await run("mount", ["-t", "ext4", "-o", MOUNT_OPTIONS, image, mountpoint]);
}

async function remove(dir: string): Promise<void> {
  // `mount -o loop` sets autoclear: the loop device is released with the mount.
  if (await isMounted(dir)) await run("umount", [diskPaths(dir).mountpoint]);
  await rm(dir, { recursive: true, force: true });
}

const loopDevice = async (image: string) =>
  (await run("losetup", ["--associated", image, "--noheadings", "--output", "NAME"])).stdout.trim();

/** True once the image's loop device is released; the kernel releases it a moment after the last mount goes (a container's namespace included). */
async function released(image: string): Promise<boolean> {
  for (let attempt = 0; attempt < 30; attempt++) {
    if (!(await loopDevice(image))) return true;
    await delay(100);
  }
  return false;
}

/** e2fsck -p: 1 says it fixed what it found, which is a checked file system too. */
async function check(image: string): Promise<void> {
  try {
    await run("e2fsck", ["-f", "-p", image]);
  } catch (error) {
    if (!(typeof error === "object" && error !== null && "code" in error && error.code === 1)) throw error;
  }
}

/**
 * Grows the disk to `sizeMb`, never shrinks it (that could cut off what the workspace holds).
 * Offline, so it needs no CAP_SYS_RESOURCE (online ext4 resizing does): only when nothing else has
 * the file system mounted, which the loop device staying attached after our unmount would show (a
 * container using the workspace); the next use tries again.
 */
async function grow(dir: string, sizeMb: number): Promise<void> {
  const { image, mountpoint } = diskPaths(dir);
  const before = (await stat(image)).size;
  if (before >= sizeMb * MIB) return;
  await run("umount", [mountpoint]);
  try {
    if (!(await released(image))) return;
    await truncate(image, sizeMb * MIB);
    try {
      await check(image); // resize2fs refuses a file system not checked since it was last mounted
      await run("resize2fs", [image]);
    } catch (error) {
      await truncate(image, before); // the file system still ends where it did: the next use tries again
      throw error;
    }
  } finally {
    await mount(dir);
  }
}

/**
 * A new, empty disk of `sizeMb` in `dir`, mounted, its workspace directory owned by `owner`.
 * Whatever `dir` held is removed first: only a crash before its volume was made leaves one.
 */
export function createDisk(dir: string, sizeMb: number, owner: { uid: number; gid: number }): Promise<void> {
  return locks.run(dir, async () => {
    await remove(dir);
    const { image, mountpoint, root } = diskPaths(dir);
    await mkdir(mountpoint, { recursive: true, mode: 0o700 });
    await (await open(image, "wx", 0o600)).close();
    await truncate(image, sizeMb * MIB);
    // -m 0: no blocks held back for root (nobody but the workspace's user writes there); lazy
    // init and no discard: mkfs writes only the metadata ext4 needs, so the image stays sparse.
    await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", image]);
    await mount(dir);
    await mkdir(root, { mode: 0o755 });
    await chown(root, owner.uid, owner.gid);
  });
}

/** Mounts the disk when it is not (a host reboot unmounts it) and grows it to `sizeMb` when that is larger. */
export function openDisk(dir: string, sizeMb?: number): Promise<void> {
  return locks.run(dir, async () => {
    await mount(dir);
    if (sizeMb !== undefined) await grow(dir, sizeMb);
  });
}

/** Unmounts the disk and deletes its image. */
export function deleteDisk(dir: string): Promise<void> {
  return locks.run(dir, () => remove(dir));
}

/** Bytes in use on the disk, as its file system counts them; null when it is not mounted (its workspace directory is not there then). */
export async function diskUsedBytes(dir: string): Promise<number | null> {
  try {
    const usage = await statfs(diskPaths(dir).root);
    return (usage.blocks - usage.bfree) * usage.bsize;
  } catch (error) {
    if (notFound(error)) return null;
    throw error;
  }
}
