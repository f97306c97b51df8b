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

export const containerName = (sessionId: string) => `ozk-session-${sessionId}`;
export const tenantNetworkName = (tenantId: string) => `ozk-tenant-${tenantId}`;
export const workspaceVolumeName = (workspaceId: string) => `ozk-ws-${workspaceId}`;

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
  return {
    name: containerName(sessionId),
    Image: image,
    // The only variable a container is given: it overrides an image that ships
    // NVIDIA_VISIBLE_DEVICES=all (the CUDA images do), so a runtime configured to read it never
    // exposes more than the allocated GPUs. Requests carry no environment at all.
    Env: [`NVIDIA_VISIBLE_DEVICES=${gpuIds.length > 0 ? gpuIds.join(",") : "void"}`],
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
      // docker-init as PID 1: reaps the session's orphans and passes the stop signal on, so a
      // disconnect does not wait out the kill timeout.
      Init: true,
      // One user-defined bridge per tenant: never Docker's default bridge shared by everyone.
      NetworkMode: tenantNetworkName(tenantId),
      Mounts: [{ Type: "volume", Source: workspaceVolumeName(workspaceId), Target: WORKSPACE_MOUNT }],
      // policy §3: the host keeps no copy of what the workspace prints.
      LogConfig: { Type: "none", Config: {} },
      RestartPolicy: { Name: "no" },
      ...(gpuIds.length > 0
        ? { DeviceRequests: [{ Driver: "nvidia", Count: 0, DeviceIDs: [...gpuIds], Capabilities: [["gpu"]], Options: {} }] }
        : {}),
    },
  };
}
