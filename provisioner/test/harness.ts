import { createHash, randomBytes, type webcrypto } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import WebSocket from "ws";
import { exportJWK, generateKeyPair } from "jose";
import { isStreamedUpload, type ProvisionerSigningKey, type SignedBody, signProvisionerRequest } from "../../contract/provisioner-token.ts";
import { importProvisionerPublicKeys } from "../src/auth.ts";
import type { Iptables } from "../src/containers/network-guard.ts";
import { removeWorkspaceNetworks } from "../src/containers/networks.ts";
import { LABELS, tenantNetworkName, workspaceVolumeName } from "../src/containers/spec.ts";
import { type RunningProvisioner, startProvisioner } from "../src/server.ts";
import { deleteDisk, diskDirOf } from "../src/workspaces/disks.ts";

/** The image the build script makes; global-setup.ts builds it when missing. */
export const WORKSPACE_IMAGE = "ozekai/workspace:local";
/** An image whose containers are created but cannot start (a file where Docker mounts its init). */
export const BROKEN_IMAGE = "ozekai/test-unstartable:no-sbin";
/** Allowed by the test hosts' PROVISIONER_IMAGES, and never present. */
export const MISSING_IMAGE = "ozekai/not-on-this-host:none";
/** The registry id every test provisioner is started with (PROVISIONER_HOST_ID). */
export const HOST_ID = "gpu-test-1";

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
export const FAKE_NVIDIA_SMI_8X_H100 = fixture("nvidia-smi/fake-h100-8x.sh");
export const NO_NVIDIA_SMI = "/nonexistent/nvidia-smi";

type CryptoKey = webcrypto.CryptoKey;
type BodyInit = NonNullable<RequestInit["body"]>;

export const docker = new Docker({ socketPath: "/var/run/docker.sock" });

/** A fresh id per test, so tests never share a container, volume or network. */
export const uid = (prefix: string) => `t-${prefix}-${randomBytes(6).toString("hex")}`;

export type TestProvisioner = RunningProvisioner & {
  privateKey: CryptoKey;
  /**
   * Signed request to the provisioner (a fresh token bound to this method, path, query and body).
   * `headers` are lower case; a streamed upload is bound by its `content-length` (the raw body's
   * size when not given) and `x-archive-sha256`.
   */
  request: (method: string, path: string, init?: { body?: unknown; headers?: Record<string, string>; raw?: BodyInit; duplex?: boolean }) => Promise<Response>;
  /** A token for this host, as the Worker mints it. */
  token: (method: string, target: string, body?: SignedBody) => Promise<string>;
};

const keyPairs: { privateKey: CryptoKey; publicJwk: string; signingKey: ProvisionerSigningKey }[] = [];

/** One Ed25519 key pair per test file (kid `worker-test`); every provisioner started by the file trusts it. */
export async function workerKeys() {
  if (!keyPairs[0]) {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = "worker-test";
    keyPairs.push({ privateKey, publicJwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid }), signingKey: { kid, privateKey } });
  }
  return keyPairs[0]!;
}

/** What a raw body binds: bytes by their digest; a streamed upload by its length and announced hash. */
function signedBodyOf(method: string, path: string, raw: BodyInit | undefined, headers: Record<string, string>): SignedBody | undefined {
  const bytes = typeof raw === "string" ? Buffer.from(raw) : raw instanceof Uint8Array ? raw : undefined;
  if (!isStreamedUpload(method, path)) return bytes;
  const length = headers["content-length"] ?? bytes?.length;
  return { length: length === undefined ? undefined : Number(length), sha256: headers["x-archive-sha256"] };
}

/** Starts a provisioner in this process on an ephemeral loopback port; `publicJwk` replaces the file's key (one JWK or a JWK Set). */
export async function startTestProvisioner(
  options: { nvidiaSmi?: string; stateDir?: string; publicJwk?: string; iptables?: Iptables; allowOpenNetwork?: boolean; images?: string[] } = {},
): Promise<TestProvisioner> {
  const { privateKey, publicJwk, signingKey } = await workerKeys();
  // Its own state directory unless a test restarts a provisioner on the same one.
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "ozk-provisioner-")));
  const running = await startProvisioner(
    {
      port: 0,
      hostId: HOST_ID,
      publicKeys: await importProvisionerPublicKeys(options.publicJwk ?? publicJwk),
      images: options.images ?? [WORKSPACE_IMAGE, BROKEN_IMAGE, MISSING_IMAGE],
      nvidiaSmi: options.nvidiaSmi ?? NO_NVIDIA_SMI,
      dockerSocket: "/var/run/docker.sock",
      helperImage: WORKSPACE_IMAGE,
      stateDir,
      workspaceDir: join(stateDir, "workspaces"),
      allowOpenNetwork: options.allowOpenNetwork ?? false,
    },
    // The real iptables unless a test fakes it: the network guard's rules are installed on this host.
    options.iptables ? { iptables: options.iptables } : {},
  );
  const token: TestProvisioner["token"] = (method, target, body) => signProvisionerRequest(signingKey, { hostId: HOST_ID, method, target, body });
  const request: TestProvisioner["request"] = async (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    let body: BodyInit | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] = "application/json";
    }
    headers.authorization = `Bearer ${await token(method, path, signedBodyOf(method, path.split("?")[0]!, body, headers))}`;
    return fetch(`${running.url}${path}`, { method, headers, body, ...(init.duplex ? { duplex: "half" } : {}) } as RequestInit);
  };
  return { ...running, privateKey, request, token };
}

export const cpuPlan = { gpuCount: 0, cpus: 0.5, memoryMb: 128, pidsLimit: 64 };

/** Removes everything a test made, by the ids it used. Missing things are fine. */
export async function cleanup(ids: { sessions?: string[]; workspaces?: string[]; tenants?: string[] }): Promise<void> {
  for (const sessionId of ids.sessions ?? []) {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=${sessionId}`] } });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  for (const workspaceId of ids.workspaces ?? []) await removeVolume(workspaceVolumeName(workspaceId));
  for (const tenantId of ids.tenants ?? []) {
    await docker
      .getNetwork(tenantNetworkName(tenantId))
      .remove()
      .catch(() => undefined);
  }
}

/**
 * Removes the volume and its disk. A transfer helper may still be on its way out when a test ends:
 * retry while the volume is in use.
 */
async function removeVolume(name: string): Promise<void> {
  let disk: string | null;
  try {
    disk = diskDirOf((await docker.getVolume(name).inspect()).Options?.device);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return;
    throw error;
  }
  for (let attempt = 0; ; attempt++) {
    const users = await docker.listContainers({ all: true, filters: { volume: [name] } });
    await Promise.all(users.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    try {
      await docker.getVolume(name).remove();
      break;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) break;
      if (attempt === 20) throw new Error(`test cleanup could not remove volume ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  if (disk) await deleteDisk(disk);
}

/**
 * Removes every workspace whose disk lies in `workspaceDir`, with its containers and its tenant's
 * network (networks outlive sessions: they go with the workspace): what a test run left.
 */
export async function removeWorkspacesIn(workspaceDir: string): Promise<void> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [LABELS.workspace] } });
  for (const volume of Volumes ?? []) {
    if (!diskDirOf(volume.Options?.device)?.startsWith(`${workspaceDir}/`)) continue;
    await removeVolume(volume.Name);
    const workspaceId = volume.Labels?.[LABELS.workspace];
    if (workspaceId) await removeWorkspaceNetworks(docker, workspaceId);
  }
}

/** Collects the ids a test file uses and removes them all at the end. */
export function tracker() {
  const ids = { sessions: [] as string[], workspaces: [] as string[], tenants: [] as string[] };
  return {
    ids,
    /** A session with its own workspace and tenant. */
    session() {
      const session = { sessionId: uid("s"), workspaceId: uid("w"), tenantId: uid("t") };
      ids.sessions.push(session.sessionId);
      ids.workspaces.push(session.workspaceId);
      ids.tenants.push(session.tenantId);
      return session;
    },
    workspace() {
      const workspaceId = uid("w");
      ids.workspaces.push(workspaceId);
      return workspaceId;
    },
    async cleanup() {
      await cleanup(ids);
      ids.sessions.length = 0;
      ids.workspaces.length = 0;
      ids.tenants.length = 0;
    },
  };
}

/** Runs a command in a running container and returns its output (test setup only). */
export async function execIn(containerId: string, cmd: string[]): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, Tty: true });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** A running CPU session container and its workspace, tracked for cleanup. */
export async function startSession(provisioner: TestProvisioner, made: ReturnType<typeof tracker>) {
  const ids = made.session();
  const response = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan } });
  if (response.status !== 201) throw new Error(`creating a session container answered ${response.status}: ${await response.text()}`);
  const { containerId } = (await response.json()) as { containerId: string };
  return { ...ids, containerId };
}

/** The size the host lists for a workspace; undefined when the host has no such workspace. */
export async function listedWorkspace(provisioner: TestProvisioner, workspaceId: string): Promise<{ workspaceId: string; sizeBytes: number | null } | undefined> {
  const response = await provisioner.request("GET", "/v1/workspaces");
  if (response.status !== 200) throw new Error(`GET /v1/workspaces answered ${response.status}`);
  const { workspaces } = (await response.json()) as { workspaces: { workspaceId: string; sizeBytes: number | null }[] };
  return workspaces.find((w) => w.workspaceId === workspaceId);
}

/**
 * Opens a session socket (`/v1/containers/:id/shell`, `…/exec`, `…/ports/:port`) with a token for
 * it (a fresh one unless given); rejects with the HTTP status of a refusal. `sockets` collects it
 * for the test's cleanup.
 */
export async function openSocket(provisioner: TestProvisioner, path: string, sockets: WebSocket[], token?: string): Promise<WebSocket> {
  const authorization = `Bearer ${token ?? (await provisioner.token("GET", path))}`;
  const ws = new WebSocket(`ws://127.0.0.1:${provisioner.address.port}${path}`, { headers: { authorization } });
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") })));
    });
  });
  return ws;
}

/** Terminates what a test left open. */
export function closeSockets(sockets: WebSocket[]): void {
  for (const ws of sockets.splice(0)) {
    ws.on("error", () => undefined); // terminating a socket that never opened reports an error
    ws.terminate();
  }
}
