import type Docker from "dockerode";
import { LABELS, WORKSPACE_MOUNT, workspaceVolumeName } from "../containers/spec.ts";
import { dockerStatus, ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";

/** A workspace is one Docker named volume; its labels say which workspace and tenant it is. */
export async function ensureWorkspaceVolume(docker: Docker, workspaceId: string, tenantId?: string): Promise<void> {
  const name = workspaceVolumeName(workspaceId);
  try {
    const volume = await docker.getVolume(name).inspect();
    const owner = volume.Labels?.[LABELS.tenant];
    // A volume restored by an archive import before its first session has no tenant yet.
    if (tenantId && owner && owner !== tenantId) throw new ProvisionerError("workspace_conflict");
    return;
  } catch (error) {
    if (dockerStatus(error) !== 404) throw error;
  }
  await docker.createVolume({
    Name: name,
    Driver: "local",
    Labels: { [LABELS.workspace]: workspaceId, ...(tenantId ? { [LABELS.tenant]: tenantId } : {}) },
  });
}

export async function requireWorkspaceVolume(docker: Docker, workspaceId: string): Promise<void> {
  try {
    await docker.getVolume(workspaceVolumeName(workspaceId)).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) throw new ProvisionerError("workspace_not_found");
    throw error;
  }
}

/**
 * The size of every workspace on this host, from one `docker system df` (it walks every volume,
 * so the Worker asks once a minute for all of them, never once per request). A size Docker could
 * not measure is null. The provisioner never reads the files themselves (policy §3).
 */
export async function workspaceSizes(docker: Docker): Promise<{ workspaceId: string; sizeBytes: number | null }[]> {
  const usage = (await docker.df()) as { Volumes?: { Name: string; Labels?: Record<string, string> | null; UsageData?: { Size?: number } }[] };
  return (usage.Volumes ?? []).flatMap((volume) => {
    const workspaceId = volume.Labels?.[LABELS.workspace];
    if (!workspaceId || volume.Name !== workspaceVolumeName(workspaceId)) return [];
    const size = volume.UsageData?.Size;
    return [{ workspaceId, sizeBytes: typeof size === "number" && size >= 0 ? size : null }];
  });
}

/** Deletes the volume; refused while any container (session or transfer helper) mounts it. */
export async function deleteWorkspace(docker: Docker, workspaceId: string): Promise<void> {
  const name = workspaceVolumeName(workspaceId);
  await requireWorkspaceVolume(docker, workspaceId);
  const users = await docker.listContainers({ all: true, filters: { volume: [name] } });
  if (users.length > 0) throw new ProvisionerError("workspace_in_use");
  try {
    await docker.getVolume(name).remove();
  } catch (error) {
    const status = dockerStatus(error);
    if (status === 404) throw new ProvisionerError("workspace_not_found");
    if (status === 409) throw new ProvisionerError("workspace_in_use");
    throw error;
  }
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
        Mounts: [{ Type: "volume", Source: workspaceVolumeName(workspaceId), Target: WORKSPACE_MOUNT }],
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
  /** The bytes to append. */
  stdin: NodeJS.WritableStream & { write(chunk: Buffer): boolean };
  /** Ends the input and waits for the append to be on disk; throws if it failed. */
  finish: () => Promise<void>;
  release: () => Promise<void>;
};

/**
 * A container that appends its standard input to one file of the workspace (`cat >>`), for
 * resumable uploads: the archive API only writes whole files. It runs as root on a read-only root
 * file system with no capability, no network and a few processes; the workspace is its only
 * writable mount, so a link planted in the path can only lead into the workspace or to nothing
 * writable. The path is an argument, never shell text.
 */
export async function openWorkspaceAppender(services: Services, workspaceId: string, path: string): Promise<WorkspaceAppender> {
  const { container, release } = await createWorkspaceContainer(
    services,
    workspaceId,
    { Cmd: ["sh", "-c", 'exec cat >> "$1"', "append", path], User: "0:0", OpenStdin: true, StdinOnce: true, AttachStdin: true },
    { ReadonlyRootfs: true, PidsLimit: 8, Memory: 64 * 1024 * 1024 },
  );
  try {
    const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream & {
      write(chunk: Buffer): boolean;
      resume(): void;
      end(): void;
    };
    stream.resume(); // cat writes nothing; drained all the same
    // "next-exit": the default ("not-running") can answer at once for a container not started
    // yet, and an append would then be reported done before `cat` wrote it.
    const exited = container.wait({ condition: "next-exit" });
    await container.start();
    return {
      stdin: stream,
      release,
      finish: async () => {
        stream.end(); // EOF on stdin: cat finishes and the container exits
        const { StatusCode } = (await exited) as { StatusCode: number };
        if (StatusCode !== 0) throw new ProvisionerError("not_a_file", "the file could not be appended to");
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** Helpers left by a crash (a live transfer never lasts this long) would block workspace deletion. */
export async function pruneStaleHelpers(docker: Docker): Promise<void> {
  await docker.pruneContainers({ filters: { label: [LABELS.helper], until: ["6h"] } });
}
