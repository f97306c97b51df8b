import { homedir } from "node:os";
import { join } from "node:path";
import { importProvisionerPublicKeys, type TrustedKeys } from "./auth.ts";

/**
 * The provisioner listens on loopback only (policy §5: no exposed inbound ports; cloudflared
 * reaches it from the same host). Not configurable on purpose: no setting can widen it.
 */
export const LISTEN_HOST = "127.0.0.1";

export type ProvisionerConfig = {
  /** 0 picks a free port (tests). */
  port: number;
  /** This host's id in the Worker's registry (gpu_hosts.id): the audience of every token it accepts. */
  hostId: string;
  /** The Worker's Ed25519 public keys by kid; the provisioner never holds a private one. */
  publicKeys: TrustedKeys;
  /** The only images session containers may run, whatever a request names. */
  images: readonly string[];
  /** nvidia-smi binary; when it is missing or fails, the host reports no GPU. */
  nvidiaSmi: string;
  dockerSocket: string;
  /** Image of the never-started helper containers that give the archive API access to a volume. */
  helperImage: string;
  /**
   * Host-local state that must survive a restart: staged workspace exports for cold storage
   * (a full copy of a workspace each, so on a disk with room for the largest workspace).
   */
  stateDir: string;
  /**
   * Where each workspace's disk lives: a sparse ext4 image, loop-mounted, that bounds what the
   * workspace can write (docs/decisions/0014-container-hardening.md). On a disk of its own, so
   * workspaces can never fill the disk the host and Docker run from.
   */
  workspaceDir: string;
  /**
   * PROVISIONER_ALLOW_OPEN_NETWORK=1: serve even without the network guard's iptables rules (a
   * development machine without root). Honoured only while listening on loopback.
   */
  allowOpenNetwork: boolean;
};

export const DEFAULT_PORT = 8790;
/** What provisioner/scripts/build-workspace-image.sh builds: the catalog's `minimal` image, and the helpers' image. */
export const DEFAULT_WORKSPACE_IMAGE = "ozekai/workspace:local";

/**
 * PROVISIONER_IMAGES when unset: the catalog images every host can build without a GPU or a
 * registry (`minimal` and `base`, workers/domain/plans/images.ts); a GPU host's operator adds
 * `ozekai/cuda:local,ozekai/pytorch:local` once built (docs/provisioner.md).
 */
export const DEFAULT_IMAGES = `${DEFAULT_WORKSPACE_IMAGE},ozekai/base:local`;

/** Registry ids as operators write them (`gpu-1`) and as the Worker derives them (`cfg-…`). */
const HOST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<ProvisionerConfig> {
  const port = env.PORT === undefined || env.PORT === "" ? DEFAULT_PORT : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("PORT must be an integer between 0 and 65535");
  const stateDir = env.PROVISIONER_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "ozekai-provisioner");
  const hostId = env.PROVISIONER_HOST_ID;
  if (!hostId) throw new Error("PROVISIONER_HOST_ID is not set: the host's id in the Worker's registry (gpu_hosts.id)");
  if (!HOST_ID.test(hostId)) throw new Error("PROVISIONER_HOST_ID must be 1-64 characters of A-Z a-z 0-9 . _ -");
  const images = (env.PROVISIONER_IMAGES || DEFAULT_IMAGES)
    .split(",")
    .map((image) => image.trim())
    .filter(Boolean);
  if (images.length === 0) throw new Error("PROVISIONER_IMAGES names no image");
  return {
    port,
    hostId,
    publicKeys: await importProvisionerPublicKeys(env.PROVISIONER_PUBLIC_JWK),
    images,
    nvidiaSmi: env.NVIDIA_SMI || "nvidia-smi",
    dockerSocket: env.DOCKER_SOCKET || "/var/run/docker.sock",
    helperImage: env.WORKSPACE_HELPER_IMAGE || DEFAULT_WORKSPACE_IMAGE,
    stateDir,
    workspaceDir: env.PROVISIONER_WORKSPACE_DIR || join(stateDir, "workspaces"),
    allowOpenNetwork: env.PROVISIONER_ALLOW_OPEN_NETWORK === "1",
  };
}
