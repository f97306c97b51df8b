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
import { findImage } from "../workers/domain/plans/images.ts";
import { startFakeStripe } from "./fake-stripe.ts";

/**
 * The catalog images this machine builds (no GPU here: not cuda or pytorch). The suites' sessions
 * run `minimal` (DEFAULT_IMAGE), the small busybox image; the tests that need a real system, Python
 * included, ask for `base`.
 */
export const LOCAL_IMAGES = ["minimal", "base"].map((name) => findImage(name)!);

/** The image of the never-started helper containers that reach volumes: the small one. */
const HELPER_IMAGE = LOCAL_IMAGES[0]!.reference;

let workerKey: ReturnType<typeof generateKeyPair> | undefined;

/** Builds the local images when missing (each script is idempotent: a no-op when up to date). */
async function buildLocalImages(): Promise<void> {
  for (const image of LOCAL_IMAGES) {
    await promisify(execFile)("bash", [fileURLToPath(new URL(`../${image.build}`, import.meta.url)), image.reference], { maxBuffer: 16 * 1024 * 1024 }).catch((error: unknown) => {
      throw new Error(`session tests need Docker and the ${image.name} image (${image.build}): ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}

/**
 * A real provisioner on a free 127.0.0.1 port, driving this machine's Docker (the local images
 * built when missing), trusting a fresh key: `privateKey` is the Worker's PROVISIONER_PRIVATE_KEY
 * and `url` its PROVISIONER_URL (the same key for every provisioner of the run). The CLI and
 * website suites start theirs with this too. `images` is its PROVISIONER_IMAGES (default: every
 * local image).
 */
export async function startLocalProvisioner(options: { images?: string[] } = {}): Promise<{ url: string; privateKey: string; close: () => Promise<void> }> {
  await buildLocalImages();
  // One key per run: every provisioner of the run trusts the Worker's one PROVISIONER_PRIVATE_KEY.
  workerKey ??= generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const { privateKey, publicKey } = await workerKey;
  const kid = "provisioner-test";
  const stateDir = await mkdtemp(join(tmpdir(), "ozekai-provisioner-test-"));
  const port = await freePort();
  const config = await loadConfig({
    PORT: String(port),
    PROVISIONER_HOST_ID: await configuredHostId(`http://127.0.0.1:${port}`),
    PROVISIONER_PUBLIC_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), kid }),
    // No GPU here: nvidia-smi is absent on purpose, so the host reports none.
    NVIDIA_SMI: "/nonexistent/nvidia-smi",
    WORKSPACE_HELPER_IMAGE: HELPER_IMAGE,
    PROVISIONER_IMAGES: (options.images ?? LOCAL_IMAGES.map((image) => image.reference)).join(","),
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
  // A second host that allows only the small image, with the same key: the allowlist's tests.
  const narrow = await startLocalProvisioner({ images: [HELPER_IMAGE] });
  project.provide("narrowProvisionerUrl", narrow.url);
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
    await narrow.close();
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
