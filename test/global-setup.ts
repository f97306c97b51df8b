/**
 * Runs in Node before the Worker tests (typechecked with tsconfig.node.json): a REAL provisioner
 * (provisioner/src) on a free 127.0.0.1 port, driving this machine's Docker Engine and trusting a
 * fresh Ed25519 key whose private half the Worker gets as PROVISIONER_PRIVATE_KEY (vitest.config.ts
 * injects the URL and the key into the Worker's bindings), and two fake Stripes. Its PROVISIONER_HOST_ID is the id the
 * Worker registers that URL under, so the port is chosen before it starts.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import type { TestProject } from "vitest/node";
import { configuredHostId } from "../contract/provisioner-token.ts";
import { loadConfig } from "../provisioner/src/config.ts";
import { startProvisioner } from "../provisioner/src/server.ts";
import { removeWorkspacesIn } from "../provisioner/test/harness.ts";
import { startFakeStripe } from "./fake-stripe.ts";

/** The image the Worker asks for (WORKSPACE_IMAGE in wrangler.toml), built locally when missing. */
export const WORKSPACE_IMAGE = "ozekai/workspace:local";
/** The Debian image with an SSH server (images/base/build.sh), built when missing: the CLI's stack runs its sessions on it. */
export const BASE_IMAGE = "ozekai/base:local";

/**
 * A real provisioner on a free 127.0.0.1 port, driving this machine's Docker (the workspace image
 * built when missing), trusting a fresh key: `privateKey` is the Worker's PROVISIONER_PRIVATE_KEY
 * and `url` its PROVISIONER_URL. The CLI and website suites start theirs with this too.
 */
export async function startLocalProvisioner(): Promise<{ url: string; privateKey: string; close: () => Promise<void> }> {
  await promisify(execFile)("bash", [fileURLToPath(new URL("../provisioner/scripts/build-workspace-image.sh", import.meta.url)), WORKSPACE_IMAGE]).catch((error: unknown) => {
    throw new Error(`session tests need Docker and the workspace image: ${error instanceof Error ? error.message : String(error)}`);
  });
  // Idempotent (a recipe label): minutes only the first time on a machine.
  await promisify(execFile)("bash", [fileURLToPath(new URL("../images/base/build.sh", import.meta.url)), BASE_IMAGE], { maxBuffer: 64 * 1024 * 1024 }).catch((error: unknown) => {
    throw new Error(`session tests need the base image (images/base/build.sh): ${error instanceof Error ? error.message : String(error)}`);
  });
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = "provisioner-test";
  const stateDir = await mkdtemp(join(tmpdir(), "ozekai-provisioner-test-"));
  const port = await freePort();
  const config = await loadConfig({
    PORT: String(port),
    PROVISIONER_HOST_ID: await configuredHostId(`http://127.0.0.1:${port}`),
    PROVISIONER_PUBLIC_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), kid }),
    // No GPU here: nvidia-smi is absent on purpose, so the host reports none.
    NVIDIA_SMI: "/nonexistent/nvidia-smi",
    WORKSPACE_HELPER_IMAGE: WORKSPACE_IMAGE,
    PROVISIONER_IMAGES: `${WORKSPACE_IMAGE},${BASE_IMAGE}`,
    // Cold-storage export stages go to a directory of this run, removed at the end.
    PROVISIONER_STATE_DIR: stateDir,
  });
  const provisioner = await startProvisioner(config);
  return {
    url: provisioner.url,
    privateKey: JSON.stringify({ ...(await exportJWK(privateKey)), kid }),
    close: async () => {
      await provisioner.close();
      // Workspace disks are loop mounts: unmounted (with their volumes) before the directory goes.
      await removeWorkspacesIn(config.workspaceDir);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject) {
  const provisioner = await startLocalProvisioner();
  project.provide("provisionerUrl", provisioner.url);
  project.provide("hangingProvisionerUrl", await hangingServer());
  project.provide("provisionerPrivateKey", provisioner.privateKey);
  // Stripe's API, faked locally: one that answers, one that fails after creating the customer.
  const fakeStripe = await startFakeStripe();
  const failingStripe = await startFakeStripe({ failing: true });
  project.provide("fakeStripeUrl", fakeStripe.url);
  project.provide("failingStripeUrl", failingStripe.url);
  return async () => {
    await fakeStripe.close();
    await failingStripe.close();
    await provisioner.close();
    await closeHangingServer?.();
  };
}

/** A port free on 127.0.0.1 now (the provisioner takes it a moment later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let closeHangingServer: (() => Promise<void>) | undefined;

async function hangingServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closeHangingServer = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the hanging server has no port");
  return `http://127.0.0.1:${address.port}`;
}
