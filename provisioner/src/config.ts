import { homedir } from "node:os";
import { join } from "node:path";
import { importProvisionerPublicKey, type VerifyingKey } from "./auth.ts";

/**
 * The provisioner listens on loopback only (policy §5: no exposed inbound ports; cloudflared
 * reaches it from the same host). Not configurable on purpose: no setting can widen it.
 */
export const LISTEN_HOST = "127.0.0.1";

export type ProvisionerConfig = {
  /** 0 picks a free port (tests). */
  port: number;
  /** The Worker's Ed25519 public key; the provisioner never holds the private one. */
  publicKey: VerifyingKey;
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
export const DEFAULT_HELPER_IMAGE = "ozekai/workspace:local";

export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<ProvisionerConfig> {
  const port = env.PORT === undefined || env.PORT === "" ? DEFAULT_PORT : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("PORT must be an integer between 0 and 65535");
  const stateDir = env.PROVISIONER_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "ozekai-provisioner");
  return {
    port,
    publicKey: await importProvisionerPublicKey(env.PROVISIONER_PUBLIC_JWK),
    nvidiaSmi: env.NVIDIA_SMI || "nvidia-smi",
    dockerSocket: env.DOCKER_SOCKET || "/var/run/docker.sock",
    helperImage: env.WORKSPACE_HELPER_IMAGE || DEFAULT_HELPER_IMAGE,
    stateDir,
    workspaceDir: env.PROVISIONER_WORKSPACE_DIR || join(stateDir, "workspaces"),
    allowOpenNetwork: env.PROVISIONER_ALLOW_OPEN_NETWORK === "1",
  };
}
