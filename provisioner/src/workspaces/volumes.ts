import { once } from "node:events";
import { join } from "node:path";
import { Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import type Docker from "dockerode";
import { LABELS, WORKSPACE_GID, WORKSPACE_UID, WORKSPACE_USER, workspaceMount, workspaceVolumeName } from "../containers/spec.ts";
import { removeWorkspaceNetworks } from "../containers/networks.ts";
import { dockerStatus, ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { createDisk, deleteDisk, diskDirOf, diskPaths, diskUsedBytes, openDisk } from "./disks.ts";

/** A workspace whose create request names no size (an older Worker, a plain import). */
export const DEFAULT_WORKSPACE_MB = 10 * 1024;

async function findVolume(docker: Docker, workspaceId: string): Promise<Docker.VolumeInspectInfo | null> {
  try {
    return await docker.getVolume(workspaceVolumeName(workspaceId)).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) return null;
    throw error;
  }
}

/**
 * The host's uid and gid for the workspace user. With user-namespace remapping (`userns-remap`,
 * docs/deploy.md) container ids are shifted by the remap base, which Docker names its root
 * directory after (`/var/lib/docker/100000.100000`); the archive API shifts what it writes itself.
 */
export function workspaceOwnerOnHost(info: { SecurityOptions?: string[]; DockerRootDir?: string }): { uid: number; gid: number } {
  const remapped = info.SecurityOptions?.some((option) => option.split(",").includes("name=userns"));
  const base = remapped ? /\/(\d+)\.(\d+)$/.exec(info.DockerRootDir ?? "") : null;
  if (remapped && !base) throw new Error("Docker remaps users but its root directory does not name the remap base");
  return { uid: WORKSPACE_UID + Number(base?.[1] ?? 0), gid: WORKSPACE_GID + Number(base?.[2] ?? 0) };
}

/** The volume's disk (disks.ts); null for a volume made before workspaces had disks, which Docker keeps on its own disk. */
const diskOf = (volume: Docker.VolumeInspectInfo) => diskDirOf(volume.Options?.device);

/**
 * A workspace is one Docker named volume; its labels say which workspace and tenant it is. The
 * volume binds the workspace directory of the workspace's disk, which bounds its size; the disk is
 * mounted before the volume is used, and grown when `sizeMb` asks for more than it has.
 */
export async function ensureWorkspaceVolume(services: Services, workspaceId: string, options: { tenantId?: string; sizeMb?: number | undefined } = {}): Promise<void> {
  const { tenantId, sizeMb } = options;
  const volume = await findVolume(services.docker, workspaceId);
  if (volume) {
    const owner = volume.Labels?.[LABELS.tenant];
    // A volume restored by an archive import before its first session has no tenant yet.
    if (tenantId && owner && owner !== tenantId) throw new ProvisionerError("workspace_conflict");
    const disk = diskOf(volume);
    if (disk) await openDisk(disk, sizeMb);
    return;
  }
  const disk = join(services.config.workspaceDir, workspaceId);
  await createDisk(disk, sizeMb ?? DEFAULT_WORKSPACE_MB, workspaceOwnerOnHost(await services.docker.info()));
  try {
    await services.docker.createVolume({
      Name: workspaceVolumeName(workspaceId),
      Driver: "local",
      DriverOpts: { type: "none", o: "bind", device: diskPaths(disk).root },
      Labels: { [LABELS.workspace]: workspaceId, ...(tenantId ? { [LABELS.tenant]: tenantId } : {}) },
    });
  } catch (error) {
    await deleteDisk(disk).catch(() => undefined);
    throw error;
  }
}

/** The workspace must exist; its disk is mounted for whatever comes next. */
export async function requireWorkspaceVolume(services: Services, workspaceId: string): Promise<void> {
  const volume = await findVolume(services.docker, workspaceId);
  if (!volume) throw new ProvisionerError("workspace_not_found");
  const disk = diskOf(volume);
  if (disk) await openDisk(disk);
}

/**
 * The size of every workspace on this host: the bytes used on each one's disk, as its file system
 * counts them, without walking any file (the provisioner never reads them: policy §3). Null for a
 * disk not mounted since the host started (its size has not changed since) and for a volume
 * without a disk; the Worker keeps the last size it had then.
 */
export async function workspaceSizes(services: Services): Promise<{ workspaceId: string; sizeBytes: number | null }[]> {
  const { Volumes } = await services.docker.listVolumes({ filters: { label: [LABELS.workspace] } });
  const sizes: { workspaceId: string; sizeBytes: number | null }[] = [];
  for (const volume of Volumes ?? []) {
    const workspaceId = volume.Labels?.[LABELS.workspace];
    if (!workspaceId || volume.Name !== workspaceVolumeName(workspaceId)) continue;
    const disk = diskOf(volume);
    sizes.push({ workspaceId, sizeBytes: disk ? await diskUsedBytes(disk) : null });
  }
  return sizes;
}

/**
 * Deletes the tenant's network, the volume, then its disk; refused while any container (session or
 * transfer helper) mounts the volume. A network left by a deletion that stopped midway goes too.
 */
export async function deleteWorkspace(services: Services, workspaceId: string): Promise<void> {
  const { docker } = services;
  const name = workspaceVolumeName(workspaceId);
  const volume = await findVolume(docker, workspaceId);
  if (!volume) {
    await removeWorkspaceNetworks(docker, workspaceId);
    throw new ProvisionerError("workspace_not_found");
  }
  const users = await docker.listContainers({ all: true, filters: { volume: [name] } });
  if (users.length > 0) throw new ProvisionerError("workspace_in_use");
  await removeWorkspaceNetworks(docker, workspaceId);
  try {
    await docker.getVolume(name).remove();
  } catch (error) {
    const status = dockerStatus(error);
    if (status === 404) throw new ProvisionerError("workspace_not_found");
    if (status === 409) throw new ProvisionerError("workspace_in_use");
    throw error;
  }
  const disk = diskOf(volume);
  if (disk) await deleteDisk(disk);
}

export type WorkspaceHelper = { container: Docker.Container; release: () => Promise<void> };

/**
 * Creates (never starts) a short-lived container that mounts the workspace volume, with no
 * network and no capability; `release` removes it once (later calls share the first removal).
 */
async function createWorkspaceContainer(
  services: Services,
  workspaceId: string,
  options: { Cmd: string[] } & Partial<Docker.ContainerCreateOptions>,
  hostConfig: Docker.HostConfig = {},
): Promise<WorkspaceHelper> {
  let container: Docker.Container;
  try {
    container = await services.docker.createContainer({
      Image: services.config.helperImage,
      Labels: { [LABELS.helper]: workspaceId },
      NetworkDisabled: true,
      ...options,
      HostConfig: {
        NetworkMode: "none",
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges:true"],
        Mounts: [workspaceMount(workspaceId)],
        LogConfig: { Type: "none", Config: {} },
        ...hostConfig,
      },
    });
  } catch (error) {
    if (dockerStatus(error) === 404) throw new ProvisionerError("image_unavailable", "the workspace helper image is missing on this host");
    throw error;
  }
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= container.remove({ force: true, v: false }).then(
      () => undefined,
      () => undefined,
    );
    return released;
  };
  return { container, release };
}

/**
 * A container that mounts the workspace and is never started: the archive API reads and writes
 * the volume through it. It runs no process and has no network, so a transfer never executes
 * anything, and it works whether the session's container is running, stopped or gone.
 * `release` removes it; call it once the transfer's streams are done.
 */
export function openWorkspaceHelper(services: Services, workspaceId: string): Promise<WorkspaceHelper> {
  return createWorkspaceContainer(services, workspaceId, { Cmd: ["true"] });
}

export type WorkspaceAppender = {
  /** Appends bytes, waiting while `cat` is behind; throws once the stream to it broke. */
  write: (bytes: Buffer) => Promise<void>;
  /** Ends the input and waits for the append to be on disk; throws if it failed. */
  finish: () => Promise<void>;
  /** Why `cat` stopped, when it stopped with an error within a moment: a write that broke asks this. */
  failure: () => Promise<ProvisionerError | null>;
  release: () => Promise<void>;
};

/**
 * A container that appends its standard input to one file of the workspace (`cat >>`), for
 * resumable uploads: the archive API only writes whole files. It runs as the workspace user (whose
 * files they are; root without capabilities could not write them) on a read-only root
 * file system with no capability, no network and a few processes; the workspace is its only
 * writable mount, so a link planted in the path can only lead into the workspace or to nothing
 * writable. The path is an argument, never shell text.
 */
export async function openWorkspaceAppender(services: Services, workspaceId: string, path: string): Promise<WorkspaceAppender> {
  const { container, release } = await createWorkspaceContainer(
    services,
    workspaceId,
    { Cmd: ["sh", "-c", 'exec cat >> "$1"', "append", path], User: WORKSPACE_USER, OpenStdin: true, StdinOnce: true, AttachStdin: true },
    { ReadonlyRootfs: true, PidsLimit: 8, Memory: 64 * 1024 * 1024 },
  );
  try {
    const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream & {
      write(chunk: Buffer): boolean;
      end(): void;
    };
    // cat writes nothing but its error; the start of it is kept to tell a full disk (never logged:
    // it names the file, policy §3).
    let said = "";
    stream.on("data", (chunk: Buffer) => {
      if (said.length < 1024) said += chunk.toString("latin1");
    });
    const drained = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
    // A write after cat exited fails (EPIPE) or finds the stream closed: never waits for a drain.
    const broken = new Promise<never>((_, reject) => {
      stream.once("error", reject);
      stream.once("close", () => reject(new Error("the append stream closed")));
    });
    broken.catch(() => undefined);
    // "next-exit": the default ("not-running") can answer at once for a container not started
    // yet, and an append would then be reported done before `cat` wrote it.
    const outcome = container.wait({ condition: "next-exit" }).then(async ({ StatusCode }: { StatusCode: number }) => {
      if (StatusCode === 0) return null;
      await Promise.race([drained, delay(1000)]); // the error may trail the exit
      if (/no space left on device/i.test(said)) return new ProvisionerError("workspace_full");
      if (/permission denied/i.test(said)) return new ProvisionerError("permission_denied", "the workspace user may not write this file");
      return new ProvisionerError("not_a_file", "the file could not be appended to");
    });
    outcome.catch(() => undefined); // awaited by finish or failure, or by nobody when the caller gives up
    await container.start();
    // Docker keeps the attach stream open after cat exited (its stdin is never read again): a
    // write waiting for a drain must also end when the container does, or it waits forever.
    const exited = outcome.then((failed) => {
      throw failed ?? new Error("the append ended before its input did");
    });
    exited.catch(() => undefined);
    return {
      write: async (bytes) => {
        if (!stream.write(bytes)) await Promise.race([once(stream, "drain"), broken, exited]);
      },
      release,
      finish: async () => {
        stream.end(); // EOF on stdin: cat finishes and the container exits
        const failed = await outcome;
        if (failed) throw failed;
      },
      failure: () => Promise.race([outcome.catch(() => null), delay(2000).then(() => null)]),
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Gives one path of the workspace to the workspace user (`chown -h`: a link is changed itself,
 * never followed). Docker's archive extraction writes a file's bytes before it sets its owner, so
 * a file whose upload was cut off is left root's, and the workspace user could not append the
 * rest of it. Root here has one capability, CHOWN, and no other: it can change owners but can
 * neither read nor write a file it does not own; the workspace is its only mount (as for every
 * helper), so a link raced into the path leads nowhere outside it.
 */
export async function giveToWorkspaceUser(services: Services, workspaceId: string, path: string): Promise<void> {
  const { container, release } = await createWorkspaceContainer(
    services,
    workspaceId,
    { Cmd: ["chown", "-h", WORKSPACE_USER, "--", path] },
    { ReadonlyRootfs: true, PidsLimit: 8, Memory: 64 * 1024 * 1024, CapDrop: ["ALL"], CapAdd: ["CHOWN"] },
  );
  try {
    const exited = container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>;
    await container.start();
    const { StatusCode } = await exited;
    if (StatusCode !== 0) throw new ProvisionerError("permission_denied", "the file could not be given to the workspace user");
  } finally {
    await release();
  }
}

export type WorkspaceCommand = {
  container: Docker.Container;
  /**
   * Starts the command and streams its standard output to `onOutput` as it comes; resolves with
   * its exit status once it exited and its output was read. Standard error is dropped: it names
   * files, and nothing of a workspace is logged (policy §3).
   */
  run: (onOutput: (chunk: Buffer) => void) => Promise<number>;
  release: () => Promise<void>;
};

/**
 * A container that runs one command (an argument vector, never shell text) over the workspace as
 * the workspace user, whose files they are, on a read-only root file system with no capability,
 * no network and a few processes; `readOnly` mounts the workspace read-only too. The workspace is
 * its only mount, so a link raced into a path between the caller's checks and the command can
 * only lead into the same workspace or into the helper image, never to the host or another
 * tenant. Created, not started: the archive API can stat paths through it first (`walk`).
 */
export async function openWorkspaceCommand(services: Services, workspaceId: string, cmd: string[], options: { readOnly: boolean }): Promise<WorkspaceCommand> {
  const { container, release } = await createWorkspaceContainer(
    services,
    workspaceId,
    { Cmd: cmd, User: WORKSPACE_USER, AttachStdout: true, AttachStderr: false, Tty: false },
    { ReadonlyRootfs: true, PidsLimit: 8, Memory: 64 * 1024 * 1024, Mounts: [{ ...workspaceMount(workspaceId), ReadOnly: options.readOnly }] },
  );
  const run = async (onOutput: (chunk: Buffer) => void) => {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: false })) as NodeJS.ReadableStream;
    const ended = new Promise<void>((resolve, reject) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", reject);
    });
    // Without a TTY Docker frames the output (8-byte headers); the demuxer hands on stdout alone.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        onOutput(chunk);
        done();
      },
    });
    services.docker.modem.demuxStream(stream, sink, new Writable({ write: (_chunk, _encoding, done) => done() }));
    const exited = container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>;
    await container.start();
    const [{ StatusCode }] = await Promise.all([exited, Promise.race([ended, delay(5000)])]);
    return StatusCode;
  };
  return { container, run, release };
}

/** Helpers left by a crash (a live transfer never lasts this long) would block workspace deletion. */
export async function pruneStaleHelpers(docker: Docker): Promise<void> {
  await docker.pruneContainers({ filters: { label: [LABELS.helper], until: ["6h"] } });
}
