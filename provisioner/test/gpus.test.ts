import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { containerSpec } from "../src/containers/spec.ts";
import type { Inventory } from "../src/gpus/inventory.ts";
import { parseNvidiaSmiCsv } from "../src/gpus/nvidia-smi.ts";
import type { HostMetrics } from "../src/metrics.ts";
import {
  cpuPlan,
  docker,
  FAKE_NVIDIA_SMI_8X_H100,
  fixture,
  NO_NVIDIA_SMI,
  startTestProvisioner,
  type TestProvisioner,
  tracker,
  WORKSPACE_IMAGE,
} from "./harness.ts";

// This host has no NVIDIA GPU and no NVIDIA runtime: nvidia-smi is replaced by a script that
// prints an 8 × H100 box, and GPU containers are created without being started (Docker cannot
// start a container with an nvidia device request here). What is asserted is the configuration
// Docker holds for them, which is what the NVIDIA runtime acts on.

let provisioner: TestProvisioner;
const made = tracker();
let h100: string[]; // the fake box's GPU UUIDs, by index

beforeAll(async () => {
  provisioner = await startTestProvisioner({ nvidiaSmi: FAKE_NVIDIA_SMI_8X_H100 });
  h100 = parseNvidiaSmiCsv(await readFile(fixture("nvidia-smi/synthetic/h100-8x.csv"), "utf8")).map((gpu) => gpu.uuid ?? "");
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const DEVICE_CHECK = fileURLToPath(new URL("../scripts/gpu-device-check.sh", import.meta.url));

const gpuPlan = (gpuCount: number, gpuType = "H100") => ({ ...cpuPlan, gpuCount, gpuType });

async function createGpuContainer(p: TestProvisioner, gpuCount: number, ids = made.session()) {
  const response = await p.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: gpuPlan(gpuCount), start: false } });
  return { ids, response, body: (await response.json()) as { containerId: string; gpus: string[]; code?: string } };
}

async function inventory(p: TestProvisioner): Promise<Inventory> {
  return (await (await p.request("GET", "/v1/inventory")).json()) as Inventory;
}

describe("containerSpec (pure)", () => {
  const base = { sessionId: "s", workspaceId: "w", tenantId: "t", image: WORKSPACE_IMAGE };

  it("asks for explicit GPU ids, never a count or 'all'", () => {
    const spec = containerSpec({ ...base, plan: gpuPlan(2), gpuIds: ["GPU-a", "GPU-b"] });
    expect(spec.HostConfig?.DeviceRequests).toEqual([{ Driver: "nvidia", Count: 0, DeviceIDs: ["GPU-a", "GPU-b"], Capabilities: [["gpu"]], Options: {} }]);
    expect(JSON.stringify(spec)).not.toMatch(/"all"|"Count":-1/);
    expect(spec.Env).toContain("NVIDIA_VISIBLE_DEVICES=GPU-a,GPU-b");
    expect(spec.Labels?.["ozekai.gpus"]).toBe("GPU-a,GPU-b");
  });

  it("has no device request for a CPU plan and hides every GPU from the runtime", () => {
    const spec = containerSpec({ ...base, plan: cpuPlan, gpuIds: [] });
    expect(spec.HostConfig?.DeviceRequests).toBeUndefined();
    expect(spec.Env).toEqual(["HOME=/workspace", "NVIDIA_VISIBLE_DEVICES=void"]);
  });

  it("refuses GPU ids that do not match the plan", () => {
    expect(() => containerSpec({ ...base, plan: gpuPlan(2), gpuIds: ["GPU-a"] })).toThrow();
  });

  it("is what scripts/gpu-device-check.sh sends for a 1-GPU plan (its copy stays equal)", () => {
    const ids = { sessionId: "s-1", tenantId: "t-1", workspaceId: "w-1" };
    const printed = execFileSync("bash", [DEVICE_CHECK, "--print-spec", ids.sessionId, ids.tenantId, ids.workspaceId, "some/image:tag", "GPU-a"], { encoding: "utf8" });
    const plan = { ...cpuPlan, gpuCount: 1, gpuType: "H200", cpus: 1, memoryMb: 512, pidsLimit: 256 };
    expect(JSON.parse(printed)).toEqual(containerSpec({ ...ids, image: "some/image:tag", plan, gpuIds: ["GPU-a"] }));
  });
});

describe("GPU plans, as container configuration (created, not started: no NVIDIA runtime here)", () => {
  it("creates a 2 × H100 container whose DeviceRequests name two explicit GPUs", async () => {
    const { ids, response, body } = await createGpuContainer(provisioner, 2);
    expect(response.status).toBe(201);
    expect(body.gpus).toHaveLength(2);
    const info = await docker.getContainer(body.containerId).inspect();
    expect(info.State.Status).toBe("created");
    expect(info.HostConfig.DeviceRequests).toEqual([
      expect.objectContaining({ Driver: "nvidia", Count: 0, DeviceIDs: body.gpus, Capabilities: [["gpu"]] }),
    ]);
    for (const id of body.gpus) expect(h100).toContain(id);
    expect(info.Config.Labels["ozekai.gpus"]).toBe(body.gpus.join(","));
    expect(info.Config.Env).toContain(`NVIDIA_VISIBLE_DEVICES=${body.gpus.join(",")}`);
    // The isolation settings are the same as for any container.
    expect(info.HostConfig).toMatchObject({ Privileged: false, CapDrop: ["ALL"], PidsLimit: cpuPlan.pidsLimit });
    expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges:true");

    const inv = await inventory(provisioner);
    expect(inv.gpus.filter((gpu) => gpu.inUseBy === ids.sessionId).map((gpu) => gpu.id)).toEqual(body.gpus);
  });

  it("never gives one GPU to two containers, even when creates race", async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => createGpuContainer(provisioner, 2)));
    for (const { response } of results) expect(response.status).toBe(201);
    const all = results.flatMap(({ body }) => body.gpus);
    expect(all).toHaveLength(8);
    expect(new Set(all).size).toBe(8);

    const full = await createGpuContainer(provisioner, 1);
    expect(full.response.status).toBe(409);
    expect(full.body.code).toBe("gpus_unavailable");
    expect((await inventory(provisioner)).free).toEqual({ H100: 0 });

    // Removing a container frees its GPUs for the next session.
    const [first] = results;
    expect((await provisioner.request("DELETE", `/v1/containers/${first?.ids.sessionId}`)).status).toBe(204);
    const next = await createGpuContainer(provisioner, 2);
    expect(next.response.status).toBe(201);
    expect([...next.body.gpus].sort()).toEqual([...(first?.body.gpus ?? [])].sort());
  });

  it("refuses more GPUs than the host has, or a type it does not have", async () => {
    const tooMany = await createGpuContainer(provisioner, 9);
    expect(tooMany.response.status).toBe(409);
    const ids = made.session();
    const wrongType = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: gpuPlan(1, "A100"), start: false } });
    expect(wrongType.status).toBe(409);
    expect(await wrongType.json()).toMatchObject({ code: "gpus_unavailable" });
    expect(await docker.listContainers({ all: true, filters: { label: [`ozekai.session=${ids.sessionId}`] } })).toEqual([]);
  });

  it("reports the inventory: every GPU, who holds it, free and total counts by type", async () => {
    const { ids, body } = await createGpuContainer(provisioner, 1);
    const inv = await inventory(provisioner);
    expect(inv.nvidiaSmiAvailable).toBe(true);
    expect(inv.total).toEqual({ H100: 8 });
    expect(inv.free.H100).toBe(7);
    expect(inv.gpus).toHaveLength(8);
    expect(inv.gpus[0]).toEqual({ id: h100[0], index: 0, uuid: h100[0], name: "NVIDIA H100 80GB HBM3", type: "H100", memoryTotalMb: 81559, inUseBy: ids.sessionId });
    expect(body.gpus).toEqual([h100[0]]);
  });

  it("maps each GPU's metrics to the container that holds it", async () => {
    const { ids, body } = await createGpuContainer(provisioner, 3); // indexes 0, 1, 2
    const metrics = (await (await provisioner.request("GET", "/v1/metrics")).json()) as HostMetrics;
    expect(metrics.nvidiaSmiAvailable).toBe(true);
    expect(metrics.gpus.filter((gpu) => gpu.sessionId === ids.sessionId).map((gpu) => gpu.index)).toEqual([0, 1, 2]);
    const mine = metrics.containers.find((container) => container.sessionId === ids.sessionId);
    expect(mine?.gpus).toEqual([
      { id: body.gpus[0], index: 0, utilizationPercent: 0, memoryUsedMb: 1, memoryTotalMb: 81559 },
      { id: body.gpus[1], index: 1, utilizationPercent: 0, memoryUsedMb: 1, memoryTotalMb: 81559 },
      { id: body.gpus[2], index: 2, utilizationPercent: 97, memoryUsedMb: 73412, memoryTotalMb: 81559 },
    ]);
    expect(mine).toMatchObject({ state: "created", cpuPercent: null, memoryUsedBytes: null }); // not running: no stats
  });

  it("on this host, starting a GPU container fails (no NVIDIA runtime): nothing is left and its GPUs are free again", async (context) => {
    const runtimes = Object.keys(((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {});
    if (runtimes.includes("nvidia")) context.skip(); // a real GPU host starts it
    const ids = made.session();
    const response = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: gpuPlan(2) } });
    expect(response.status).toBe(502);
    expect(await docker.listContainers({ all: true, filters: { label: [`ozekai.session=${ids.sessionId}`] } })).toEqual([]);
    expect((await inventory(provisioner)).gpus.some((gpu) => gpu.inUseBy === ids.sessionId)).toBe(false);
  });
});

describe("restart recovery: state is rebuilt from Docker labels", () => {
  it("a new provisioner instance lists the containers and still counts their GPUs as in use", async () => {
    const first = await startTestProvisioner({ nvidiaSmi: FAKE_NVIDIA_SMI_8X_H100 });
    const gpu = await createGpuContainer(first, 2);
    expect(gpu.response.status).toBe(201);
    const cpu = made.session();
    expect((await first.request("POST", "/v1/containers", { body: { ...cpu, image: WORKSPACE_IMAGE, plan: cpuPlan } })).status).toBe(201);
    await first.close();

    const second = await startTestProvisioner({ nvidiaSmi: FAKE_NVIDIA_SMI_8X_H100 });
    try {
      const list = (await (await second.request("GET", "/v1/containers")).json()) as { containers: { sessionId: string; gpus: string[]; state: string }[] };
      expect(list.containers).toContainEqual(expect.objectContaining({ ...gpu.ids, gpus: gpu.body.gpus, state: "created" }));
      expect(list.containers).toContainEqual(expect.objectContaining({ ...cpu, gpus: [], state: "running" }));

      const inv = await inventory(second);
      expect(inv.gpus.filter((g) => g.inUseBy === gpu.ids.sessionId).map((g) => g.id)).toEqual(gpu.body.gpus);
      const next = await createGpuContainer(second, 2);
      expect(next.response.status).toBe(201);
      expect(next.body.gpus.filter((id) => gpu.body.gpus.includes(id))).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe("a host without nvidia-smi", () => {
  it("offers no GPU, refuses GPU plans and reports GPU fields as null", async () => {
    const bare = await startTestProvisioner({ nvidiaSmi: NO_NVIDIA_SMI });
    try {
      expect(await inventory(bare)).toEqual({ nvidiaSmiAvailable: false, gpus: [], total: {}, free: {} });
      const refused = await createGpuContainer(bare, 1);
      expect(refused.response.status).toBe(409);
      expect(refused.body.code).toBe("gpus_unavailable");

      // A container that holds GPUs (made while nvidia-smi answered) gets null GPU numbers, not guesses.
      const held = await createGpuContainer(provisioner, 1);
      const metrics = (await (await bare.request("GET", "/v1/metrics")).json()) as HostMetrics;
      expect(metrics.nvidiaSmiAvailable).toBe(false);
      expect(metrics.gpus).toEqual([]);
      expect(metrics.containers.find((c) => c.sessionId === held.ids.sessionId)?.gpus).toEqual([
        { id: held.body.gpus[0], index: null, utilizationPercent: null, memoryUsedMb: null, memoryTotalMb: null },
      ]);
    } finally {
      await bare.close();
    }
  });
});
