import { createHash } from "node:crypto";
import type Docker from "dockerode";
import type { Plan } from "../../../contract/provisioner.ts";

/** Labels are the provisioner's only state: everything can be rebuilt from Docker after a restart. */
export const LABELS = {
  session: "ozekai.session",
  workspace: "ozekai.workspace",
  tenant: "ozekai.tenant",
  gpus: "ozekai.gpus",
  /** Short-lived, never-started containers that give the archive API access to a workspace volume. */
  helper: "ozekai.helper",
} as const;

export const WORKSPACE_MOUNT = "/workspace";

/**
 * Every process of a session runs as this unprivileged user (the workspace image names it
 * `ozekai`, home /workspace), never root: a container escape then lands as an ordinary user, and
 * the workspace's files are its own. Numeric, so an image without that name still works.
 */
export const WORKSPACE_UID = 1000;
export const WORKSPACE_GID = 1000;
export const WORKSPACE_USER = `${WORKSPACE_UID}:${WORKSPACE_GID}`;

export const containerName = (sessionId: string) => `ozk-session-${sessionId}`;
export const tenantNetworkName = (tenantId: string) => `ozk-tenant-${tenantId}`;
/**
 * The host interface of the tenant's bridge: `ozk` and 12 hex digits of the tenant id's SHA-256
 * (Linux allows 15 characters), so the network guard's iptables rules match every tenant bridge
 * as `ozk+` and nothing else (network-guard.ts).
 */
export const tenantBridgeName = (tenantId: string) => `ozk${createHash("sha256").update(tenantId).digest("hex").slice(0, 12)}`;
/** The network option that names a bridge's host interface. */
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";
export const workspaceVolumeName = (workspaceId: string) => `ozk-ws-${workspaceId}`;

/**
 * The workspace volume at /workspace, for session and transfer containers alike. NoCopy: Docker
 * would otherwise copy the image's /workspace (its files and its owner) into an empty workspace.
 */
export const workspaceMount = (workspaceId: string) =>
  ({
    Type: "volume",
    Source: workspaceVolumeName(workspaceId),
    Target: WORKSPACE_MOUNT,
    VolumeOptions: { NoCopy: true },
  }) as Docker.MountSettings; // the typings require VolumeOptions fields that Docker treats as optional

export type ContainerSpecInput = {
  sessionId: string;
  workspaceId: string;
  tenantId: string;
  image: string;
  plan: Plan;
  /** GPU ids (UUIDs) already allocated to this session; empty for a CPU-only plan. */
  gpuIds: readonly string[];
};

/**
 * The Docker create options for a session container. Policy §5 ("each user's GPU container is
 * isolated from other users") is enforced here, on every container, whatever the plan.
 */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { sessionId, workspaceId, tenantId, image, plan, gpuIds } = input;
  if (gpuIds.length !== plan.gpuCount) throw new Error("GPU ids do not match the plan's GPU count");
  const memoryBytes = plan.memoryMb * 1024 * 1024;
  // In memory, charged to the container's own limit: a quarter of it, so a full /tmp is ENOSPC,
  // never the out-of-memory kill it would be at the plan's whole memory.
  const tmpMb = Math.max(16, Math.floor(plan.memoryMb / 4));
  return {
    name: containerName(sessionId),
    Image: image,
    User: WORKSPACE_USER,
    // The only variables a container is given (requests carry no environment): HOME is the only
    // writable place that persists (the root file system is not the user's), and our
    // NVIDIA_VISIBLE_DEVICES overrides an image that ships =all (the CUDA images do), so a runtime
    // configured to read it never exposes more than the allocated GPUs.
    Env: [`HOME=${WORKSPACE_MOUNT}`, `NVIDIA_VISIBLE_DEVICES=${gpuIds.length > 0 ? gpuIds.join(",") : "void"}`],
    WorkingDir: WORKSPACE_MOUNT,
    Tty: false,
    OpenStdin: false,
    Labels: {
      [LABELS.session]: sessionId,
      [LABELS.workspace]: workspaceId,
      [LABELS.tenant]: tenantId,
      [LABELS.gpus]: gpuIds.join(","),
    },
    HostConfig: {
      Privileged: false,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      Memory: memoryBytes,
      MemorySwap: memoryBytes, // no swap beyond the plan's memory
      NanoCpus: Math.round(plan.cpus * 1e9),
      PidsLimit: plan.pidsLimit,
      IpcMode: "private",
      // Nothing a session writes lands in its container's layer on the host's disk (overlay2 has
      // no size limit without xfs project quotas): the image is read-only, /workspace is the
      // workspace's bounded disk and /tmp a bounded tmpfs (exec: compilers and JITs run from it).
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,exec,nosuid,nodev,size=${tmpMb}m,mode=1777` },
      // docker-init as PID 1: reaps the session's orphans and passes the stop signal on, so a
      // disconnect does not wait out the kill timeout.
      Init: true,
      // One user-defined bridge per tenant: never Docker's default bridge shared by everyone.
      NetworkMode: tenantNetworkName(tenantId),
      Mounts: [workspaceMount(workspaceId)],
      // policy §3: the host keeps no copy of what the workspace prints.
      LogConfig: { Type: "none", Config: {} },
      RestartPolicy: { Name: "no" },
      ...(gpuIds.length > 0
        ? { DeviceRequests: [{ Driver: "nvidia", Count: 0, DeviceIDs: [...gpuIds], Capabilities: [["gpu"]], Options: {} }] }
        : {}),
    },
  };
}
