import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { reclaimIdleTenantNetworks } from "../src/containers/networks.ts";
import { containerName, tenantNetworkName, workspaceVolumeName } from "../src/containers/spec.ts";
import { BROKEN_IMAGE, cpuPlan, docker, execIn, MISSING_IMAGE, startSession, startTestProvisioner, type TestProvisioner, tracker, WORKSPACE_IMAGE } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

async function create(body: Record<string, unknown>) {
  return provisioner.request("POST", "/v1/containers", { body });
}

describe("POST /v1/containers: every container is isolated (policy §5)", () => {
  it("creates and starts a CPU container with the plan's limits and the isolation settings, as Docker reports them", async () => {
    const ids = made.session();
    const response = await create({ ...ids, image: WORKSPACE_IMAGE, plan: { ...cpuPlan, cpus: 1.5, memoryMb: 256, pidsLimit: 100 } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ...ids, state: "running", gpus: [], resources: { cpus: 1.5, memoryMb: 256, pidsLimit: 100, gpuCount: 0 } });

    const info = await docker.getContainer(body.containerId as string).inspect();
    const host = info.HostConfig;
    expect(info.Name).toBe(`/${containerName(ids.sessionId)}`);
    expect(info.Config.User).toBe("1000:1000");
    expect(host.Privileged).toBe(false);
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd ?? null).toBeNull();
    expect(host.SecurityOpt).toContain("no-new-privileges:true");
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(256 * 1024 * 1024);
    expect(host.NanoCpus).toBe(1_500_000_000);
    expect(host.PidsLimit).toBe(100);
    expect(host.NetworkMode).toBe(tenantNetworkName(ids.tenantId));
    expect(["bridge", "default", "host"]).not.toContain(host.NetworkMode);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([tenantNetworkName(ids.tenantId)]);
    expect(host.DeviceRequests ?? []).toEqual([]);
    expect(info.Mounts).toEqual([expect.objectContaining({ Type: "volume", Name: workspaceVolumeName(ids.workspaceId), Destination: "/workspace" })]);
    expect(info.Config.Labels).toMatchObject({
      "ozekai.session": ids.sessionId,
      "ozekai.workspace": ids.workspaceId,
      "ozekai.tenant": ids.tenantId,
      "ozekai.gpus": "",
    });

    const network = await docker.getNetwork(tenantNetworkName(ids.tenantId)).inspect();
    expect(network.Driver).toBe("bridge");
    expect(network.Labels).toMatchObject({ "ozekai.tenant": ids.tenantId });
  });

  it("runs the session as the unprivileged workspace user, never root, at home in its workspace", async () => {
    const { containerId } = await startSession(provisioner, made);
    expect((await execIn(containerId, ["id", "-u"])).trim()).toBe("1000");
    expect((await execIn(containerId, ["sh", "-c", "whoami; echo $HOME"])).trim().split(/\s+/)).toEqual(["ozekai", "/workspace"]);
    // PID 1's child, the image's command, runs as that user too (not only what is exec'ed).
    expect(await execIn(containerId, ["sh", "-c", "ps -o user,comm | grep sleep"])).toMatch(/^\s*ozekai\s+sleep/m);
    expect(await execIn(containerId, ["sh", "-c", "touch /workspace/mine && stat -c %u:%g /workspace /workspace/mine"])).toBe("1000:1000\r\n1000:1000\r\n");
  });

  it("writes nothing to the container's layer on the host: a read-only image, a tmpfs /tmp bounded by a quarter of the plan's memory", async () => {
    const { containerId } = await startSession(provisioner, made); // 128 MiB of memory
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(await execIn(containerId, ["sh", "-c", "echo x > /outside 2>&1; echo x > /etc/outside 2>&1; echo rc=$?"])).toMatch(/Read-only file system[\s\S]*rc=1/);
    const tmp = await execIn(containerId, ["sh", "-c", "df -k /tmp | tail -1; dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; echo rc=$?"]);
    expect(tmp).toMatch(/^tmpfs\s+32768\s/m);
    expect(tmp).toContain("No space left on device");
    expect(tmp).toContain("rc=1");
    // Programs may run from /tmp (compilers and JITs put what they build there).
    expect(await execIn(containerId, ["sh", "-c", "rm /tmp/fill && cp /bin/busybox /tmp/echo && /tmp/echo ran"])).toContain("ran");
    // The layer holds only the mount points Docker made (its init among them), nothing the session wrote.
    const changes = ((await docker.getContainer(containerId).changes()) as { Path: string }[] | null) ?? [];
    expect(changes.map((change) => change.Path).filter((path) => !["/tmp", "/workspace", "/sbin", "/sbin/docker-init"].includes(path))).toEqual([]);
  });

  it("gives the container no environment but the host's NVIDIA_VISIBLE_DEVICES", async () => {
    const ids = made.session();
    const response = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(response.status).toBe(201);
    const { containerId } = (await response.json()) as { containerId: string };
    const containerEnv = (await docker.getContainer(containerId).inspect()).Config.Env;
    expect(containerEnv.filter((v) => /^nvidia_/i.test(v))).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]); // ours: no GPU
  });

  it("puts two tenants on two different networks", async () => {
    const a = made.session();
    const b = made.session();
    expect((await create({ ...a, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    expect((await create({ ...b, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    const [infoA, infoB] = await Promise.all(
      [a, b].map(async (ids) => {
        const [container] = await docker.listContainers({ filters: { label: [`ozekai.session=${ids.sessionId}`] } });
        return docker.getContainer(container?.Id ?? "").inspect();
      }),
    );
    expect(infoA?.HostConfig.NetworkMode).not.toBe(infoB?.HostConfig.NetworkMode);
  });

  it("is idempotent for the same session, workspace and tenant, and refuses the session id for another workspace", async () => {
    const ids = made.session();
    const first = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(first.status).toBe(201);
    const again = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { containerId: string }).containerId).toBe(((await first.json()) as { containerId: string }).containerId);
    const other = await create({ ...ids, workspaceId: made.workspace(), image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ code: "container_exists" });
  });

  it("refuses a second session on a workspace that a container already mounts", async () => {
    const ids = made.session();
    expect((await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    const second = made.session();
    const response = await create({ ...second, workspaceId: ids.workspaceId, tenantId: ids.tenantId, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "workspace_in_use" });
  });

  it("refuses a workspace that belongs to another tenant", async () => {
    const ids = made.session();
    expect((await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan, start: false })).status).toBe(201);
    expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);
    const intruder = made.session();
    const response = await create({ ...intruder, workspaceId: ids.workspaceId, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "workspace_conflict" });
  });

  it("removes the container when it cannot start, and says so", async () => {
    const ids = made.session();
    const response = await create({ ...ids, image: BROKEN_IMAGE, plan: cpuPlan });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: "container_start_failed" });
    expect(await docker.listContainers({ all: true, filters: { label: [`ozekai.session=${ids.sessionId}`] } })).toEqual([]);
    expect((await provisioner.request("GET", `/v1/containers/${ids.sessionId}`)).status).toBe(404);
  });

  it("answers 422 for an image this host does not have", async () => {
    const ids = made.session();
    const response = await create({ ...ids, image: MISSING_IMAGE, plan: cpuPlan });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: "image_unavailable" });
  });

  it.each([
    ["a bad session id", { sessionId: "../x" }],
    ["a session id over 64 characters", { sessionId: "a".repeat(65) }],
    ["a tenant id with a space", { tenantId: "a b" }],
    ["an image with a space", { image: "ozekai/workspace:local --privileged" }],
    ["no plan", { plan: undefined }],
    ["a GPU count without a type", { plan: { ...cpuPlan, gpuCount: 1 } }],
    ["negative memory", { plan: { ...cpuPlan, memoryMb: -1 } }],
    ["an unknown plan field", { plan: { ...cpuPlan, privileged: true } }],
    ["an unknown body field", { privileged: true }],
    ["an env field (a request sets no environment)", { env: { A: "x" } }],
  ])("refuses %s with 400", async (_label, patch) => {
    const ids = made.session();
    const response = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan, ...patch });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_failed" });
  });

  it("refuses a body that is not JSON", async () => {
    const response = await provisioner.request("POST", "/v1/containers", { raw: "{", headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
  });
});

describe("container lifecycle", () => {
  it("lists, gets, stops and removes a session's container; the workspace volume stays", async () => {
    const ids = made.session();
    expect((await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);

    const list = (await (await provisioner.request("GET", "/v1/containers")).json()) as { containers: { sessionId: string; state: string }[] };
    expect(list.containers).toContainEqual(expect.objectContaining({ ...ids, state: "running" }));

    const got = await provisioner.request("GET", `/v1/containers/${ids.sessionId}`);
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ ...ids, state: "running" });

    const stopped = await provisioner.request("POST", `/v1/containers/${ids.sessionId}/stop`);
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toMatchObject({ state: "exited" });
    // Stopping twice is fine.
    expect((await provisioner.request("POST", `/v1/containers/${ids.sessionId}/stop`)).status).toBe(200);

    expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);
    expect((await provisioner.request("GET", `/v1/containers/${ids.sessionId}`)).status).toBe(404);
    expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(404);
    await expect(docker.getVolume(workspaceVolumeName(ids.workspaceId)).inspect()).resolves.toBeTruthy();
    // The tenant's last container is gone; its network stays for the workspace's next session.
    await expect(docker.getNetwork(tenantNetworkName(ids.tenantId)).inspect()).resolves.toMatchObject({ Labels: { "ozekai.workspace": ids.workspaceId } });
  });

  it("keeps the tenant's network between sessions of its workspace (a reconnect makes none) and removes it with the workspace", async () => {
    const ids = made.session();
    expect((await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    const network = await docker.getNetwork(tenantNetworkName(ids.tenantId)).inspect();
    expect(network.Labels).toMatchObject({ "ozekai.tenant": ids.tenantId, "ozekai.workspace": ids.workspaceId });
    expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);

    const next = { ...ids, sessionId: `${ids.sessionId}-2` };
    made.ids.sessions.push(next.sessionId);
    const again = await create({ ...next, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(again.status).toBe(201);
    const info = await docker.getContainer(((await again.json()) as { containerId: string }).containerId).inspect();
    expect(info.NetworkSettings.Networks[tenantNetworkName(ids.tenantId)]?.NetworkID).toBe(network.Id);
    expect((await docker.getNetwork(tenantNetworkName(ids.tenantId)).inspect()).Id).toBe(network.Id);

    // Deleting the workspace is refused while a container mounts it, and the network stays; then both go.
    expect((await provisioner.request("DELETE", `/v1/workspaces/${ids.workspaceId}`)).status).toBe(409);
    await expect(docker.getNetwork(network.Id).inspect()).resolves.toBeTruthy();
    expect((await provisioner.request("DELETE", `/v1/containers/${next.sessionId}`)).status).toBe(204);
    expect((await provisioner.request("DELETE", `/v1/workspaces/${ids.workspaceId}`)).status).toBe(204);
    await expect(docker.getNetwork(network.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // Gone already: a second delete still answers 404 and leaves nothing behind.
    expect((await provisioner.request("DELETE", `/v1/workspaces/${ids.workspaceId}`)).status).toBe(404);
  });

  it("when Docker's address pools run out, reclaims the networks of tenants with no container here, never one in use", async () => {
    const idle = made.session();
    const busy = made.session();
    expect((await create({ ...idle, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    expect((await create({ ...busy, image: WORKSPACE_IMAGE, plan: cpuPlan, start: false })).status).toBe(201);
    expect((await provisioner.request("DELETE", `/v1/containers/${idle.sessionId}`)).status).toBe(204);
    // What ensureTenantNetwork does when Docker answers that no pool has a subnet left.
    expect(await reclaimIdleTenantNetworks(docker)).toBeGreaterThanOrEqual(1);
    await expect(docker.getNetwork(tenantNetworkName(idle.tenantId)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // A created container is attached only once started: its tenant's network is kept all the same.
    await expect(docker.getNetwork(tenantNetworkName(busy.tenantId)).inspect()).resolves.toBeTruthy();
    const started = await create({ ...busy, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(await started.json()).toMatchObject({ state: "running" });
    // The reclaimed tenant's next session makes its network again.
    const back = { ...idle, sessionId: `${idle.sessionId}-2` };
    made.ids.sessions.push(back.sessionId);
    expect((await create({ ...back, image: WORKSPACE_IMAGE, plan: cpuPlan })).status).toBe(201);
    await expect(docker.getNetwork(tenantNetworkName(idle.tenantId)).inspect()).resolves.toBeTruthy();
  });

  it("starts a container created with start:false when asked again", async () => {
    const ids = made.session();
    const created = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan, start: false });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ state: "created" });
    const resumed = await create({ ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ state: "running" });
  });

  it("answers 404 for an unknown session and 400 for a malformed id", async () => {
    expect((await provisioner.request("GET", "/v1/containers/no-such-session")).status).toBe(404);
    expect((await provisioner.request("POST", "/v1/containers/no-such-session/stop")).status).toBe(404);
    expect((await provisioner.request("GET", "/v1/containers/bad%20id")).status).toBe(400);
  });
});
