import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { buildInventory, pickFreeGpus } from "../src/gpus/inventory.ts";
import { gpuTypeOf, NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, readGpus } from "../src/gpus/nvidia-smi.ts";
import { cpuPercent, type DockerStats, memoryUsedBytes } from "../src/metrics.ts";
import { FAKE_NVIDIA_SMI_8X_H100, fixture, NO_NVIDIA_SMI } from "./harness.ts";

const csv = (name: string) => readFile(fixture(`nvidia-smi/${name}`), "utf8");

describe("parseNvidiaSmiCsv on nvidia-smi outputs", () => {
  it("reads an 8 × H100 box", async () => {
    const gpus = parseNvidiaSmiCsv(await csv("h100-8x.csv"));
    expect(gpus).toHaveLength(8);
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[3]).toEqual({
      index: 3,
      uuid: "GPU-e6b4a719-c35d-9f20-8b1e-07d3c6a2f5e4",
      name: "NVIDIA H100 80GB HBM3",
      utilizationPercent: 100,
      memoryUsedMb: 79871,
      memoryTotalMb: 81559,
    });
    expect(new Set(gpus.map((gpu) => gpu.uuid)).size).toBe(8);
  });

  it("reads a one-GPU box", async () => {
    expect(parseNvidiaSmiCsv(await csv("a10g-1x.csv"))).toEqual([
      { index: 0, uuid: "GPU-3f8b2c6d-91e4-7a05-bd23-e4c1f69a0b87", name: "NVIDIA A10G", utilizationPercent: 3, memoryUsedMb: 512, memoryTotalMb: 23028 },
    ]);
  });

  it('keeps "[N/A]" as null (MIG mode has no whole-GPU utilization)', async () => {
    const [mig, plain] = parseNvidiaSmiCsv(await csv("a100-mig-na.csv"));
    expect(mig).toMatchObject({ index: 0, utilizationPercent: null, memoryUsedMb: 10240, memoryTotalMb: 81920 });
    expect(plain).toMatchObject({ index: 1, utilizationPercent: 41 });
  });

  it('keeps "[Not Supported]" as null', async () => {
    expect(parseNvidiaSmiCsv(await csv("geforce-not-supported.csv"))).toEqual([
      {
        index: 0,
        uuid: "GPU-6a0e9d5b-3c71-48f2-a6bd-2e9f0c7d1b43",
        name: "NVIDIA GeForce GTX 1050 Ti",
        utilizationPercent: null,
        memoryUsedMb: null,
        memoryTotalMb: 4096,
      },
    ]);
  });

  it("skips warning lines and a lost GPU whose name is unknown", async () => {
    const gpus = parseNvidiaSmiCsv(await csv("gpu-lost.csv"));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0]);
  });

  it("reads nothing from empty or unrelated output", () => {
    expect(parseNvidiaSmiCsv("")).toEqual([]);
    expect(parseNvidiaSmiCsv("No devices were found\n")).toEqual([]);
    expect(parseNvidiaSmiCsv("x, GPU-1, NVIDIA H100, 1, 2, 3\n")).toEqual([]);
    expect(parseNvidiaSmiCsv("0, GPU-1, NVIDIA H100, -5, abc, 3\r\n")).toEqual([
      { index: 0, uuid: "GPU-1", name: "NVIDIA H100", utilizationPercent: null, memoryUsedMb: null, memoryTotalMb: 3 },
    ]);
  });
});

describe("gpuTypeOf", () => {
  it.each([
    ["NVIDIA H100 80GB HBM3", "H100"],
    ["NVIDIA H100 PCIe", "H100"],
    ["NVIDIA H200", "H200"],
    ["NVIDIA A100-SXM4-80GB", "A100"],
    ["NVIDIA A10G", "A10G"],
    ["NVIDIA L40S", "L40S"],
    ["Tesla T4", "T4"],
    ["Tesla V100-SXM2-16GB", "V100"],
    ["NVIDIA GeForce RTX 4090", "RTX 4090"],
    ["NVIDIA RTX A6000", "RTX A6000"],
  ])("%s → %s", (name, type) => {
    expect(gpuTypeOf(name)).toBe(type);
  });
});

describe("inventory and allocation (pure)", () => {
  it("counts free GPUs by type and picks the lowest free indexes, never a held one", async () => {
    const readings = parseNvidiaSmiCsv(await csv("h100-8x.csv"));
    const held = new Map([
      [readings[0]?.uuid ?? "", "session-a"],
      [readings[2]?.uuid ?? "", "session-b"],
    ]);
    const inventory = buildInventory(readings, held);
    expect(inventory.total).toEqual({ H100: 8 });
    expect(inventory.free).toEqual({ H100: 6 });
    expect(inventory.gpus[0]).toMatchObject({ index: 0, inUseBy: "session-a", type: "H100", memoryTotalMb: 81559 });
    expect(pickFreeGpus(inventory, "h100", 2)).toEqual([readings[1]?.uuid, readings[3]?.uuid]);
    expect(pickFreeGpus(inventory, "H100", 7)).toBeNull();
    expect(pickFreeGpus(inventory, "A100", 1)).toBeNull();
  });

  it("has no GPU when nvidia-smi could not be read", () => {
    expect(buildInventory(null, new Map())).toEqual({ nvidiaSmiAvailable: false, gpus: [], total: {}, free: {} });
  });
});

describe("readGpus runs nvidia-smi", () => {
  it("runs the configured binary with the query", async () => {
    const gpus = await readGpus(FAKE_NVIDIA_SMI_8X_H100);
    expect(gpus).toHaveLength(8);
    expect(NVIDIA_SMI_ARGS.join(" ")).toBe("--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits");
  });

  it("answers null, not invented numbers, when nvidia-smi is missing or fails", async () => {
    expect(await readGpus(NO_NVIDIA_SMI)).toBeNull();
    expect(await readGpus(fixture("nvidia-smi/fake-failing.sh"))).toBeNull();
  });
});

describe("Docker stats arithmetic on a recorded stats answer", () => {
  it("computes CPU like `docker stats` and memory without the page cache", async () => {
    const stats = JSON.parse(await readFile(fixture("docker-stats-running.json"), "utf8")) as DockerStats;
    expect(cpuPercent(stats)).toBeCloseTo(51.05, 1);
    expect(memoryUsedBytes(stats)).toBe(1171456);
  });

  it("answers null without a previous sample", () => {
    expect(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10, online_cpus: 2 } })).toBeNull();
    expect(memoryUsedBytes({})).toBeNull();
  });
});
