import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { buildInventory, pickFreeGpus } from "../src/gpus/inventory.ts";
import { gpuTypeOf, NVIDIA_SMI_ARGS, NvidiaSmiOutputError, parseNvidiaSmiCsv, readGpus } from "../src/gpus/nvidia-smi.ts";
import { cpuPercent, type DockerStats, memoryUsedBytes } from "../src/metrics.ts";
import { FAKE_NVIDIA_SMI_8X_H100, fixture, NO_NVIDIA_SMI } from "./harness.ts";

const csv = (name: string) => readFile(fixture(`nvidia-smi/${name}`), "utf8");

// Values below are read off the recordings by eye (test/fixtures/nvidia-smi/recorded/README.md),
// not computed by the parser. The recordings answer a much longer query (241 and 212 columns):
// the parser picks our six by name. Their UUIDs were masked by the tool that made them.
const MASKED_UUID = "GPU-00000000-0000-0000-0000-000000000000";

describe("parseNvidiaSmiCsv on recorded nvidia-smi outputs", () => {
  it("reads an idle H200 (driver 610.43.02)", async () => {
    expect(parseNvidiaSmiCsv(await csv("recorded/h200-610.43.02-idle.csv"))).toEqual([
      { index: 0, uuid: MASKED_UUID, name: "NVIDIA H200", utilizationPercent: 0, memoryUsedMb: 0, memoryTotalMb: 143771 },
    ]);
  });

  it('reads an H200 in MIG mode: whole-GPU utilization is "[N/A]", so null', async () => {
    expect(parseNvidiaSmiCsv(await csv("recorded/h200-mig-610.43.02-idle.csv"))).toEqual([
      { index: 0, uuid: MASKED_UUID, name: "NVIDIA H200", utilizationPercent: null, memoryUsedMb: 44, memoryTotalMb: 143771 },
    ]);
  });

  it("reads an H100 under load (driver 590.48.01)", async () => {
    expect(parseNvidiaSmiCsv(await csv("recorded/h100-80gb-hbm3-590.48.01-load.csv"))).toEqual([
      { index: 0, uuid: MASKED_UUID, name: "NVIDIA H100 80GB HBM3", utilizationPercent: 100, memoryUsedMb: 19818, memoryTotalMb: 81559 },
    ]);
  });
});

describe("parseNvidiaSmiCsv on synthetic outputs (cases no recording covers)", () => {
  it("reads an 8 × H100 box", async () => {
    const gpus = parseNvidiaSmiCsv(await csv("synthetic/h100-8x.csv"));
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

  it('keeps "[Not Supported]" as null', async () => {
    expect(parseNvidiaSmiCsv(await csv("synthetic/geforce-not-supported.csv"))).toEqual([
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

  it("skips a warning line before the header and a lost GPU whose name is unknown", async () => {
    const gpus = parseNvidiaSmiCsv(await csv("synthetic/gpu-lost.csv"));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0]);
  });

  it("reads the columns by name, in any order, with or without units", () => {
    const header = "memory.total [MiB], name, index, memory.used [MiB], uuid, utilization.gpu [%]";
    expect(parseNvidiaSmiCsv(`${header}\r\n24576 MiB, NVIDIA L4, 2, 3 MiB, GPU-1, 7 %\r\n23034, NVIDIA L4, 1, 0, GPU-2, 0\r\n`)).toEqual([
      { index: 1, uuid: "GPU-2", name: "NVIDIA L4", utilizationPercent: 0, memoryUsedMb: 0, memoryTotalMb: 23034 },
      { index: 2, uuid: "GPU-1", name: "NVIDIA L4", utilizationPercent: 7, memoryUsedMb: 3, memoryTotalMb: 24576 },
    ]);
  });

  it("turns values it cannot read into null and skips rows without a valid index or the header's column count", () => {
    const header = "index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB]";
    expect(parseNvidiaSmiCsv(`${header}\nx, GPU-1, NVIDIA H100, 1 %, 2 MiB, 3 MiB\n0, GPU-1, NVIDIA H100, 1 %, 2 MiB\n0, GPU-1, NVIDIA H100, -5 %, 1 GiB, 3 MiB\n`)).toEqual([
      { index: 0, uuid: "GPU-1", name: "NVIDIA H100", utilizationPercent: null, memoryUsedMb: null, memoryTotalMb: 3 },
    ]);
    expect(parseNvidiaSmiCsv(`${header}\n`)).toEqual([]);
  });
});

describe("parseNvidiaSmiCsv refuses output that is not an answer to the query", () => {
  it("without a header line", () => {
    expect(() => parseNvidiaSmiCsv("")).toThrow(new NvidiaSmiOutputError("nvidia-smi printed no CSV header line"));
    expect(() => parseNvidiaSmiCsv("No devices were found\n")).toThrow(NvidiaSmiOutputError);
    // The old query's header-less answer: a data row is never taken for a header.
    expect(() => parseNvidiaSmiCsv("0, GPU-1, NVIDIA H100, 1, 2, 3\n")).toThrow("no CSV header line");
  });

  it("with a queried column missing", () => {
    expect(() => parseNvidiaSmiCsv("index, uuid, name, utilization.gpu [%], memory.used [MiB]\n0, GPU-1, NVIDIA H100, 1 %, 2 MiB\n")).toThrow(
      new NvidiaSmiOutputError('nvidia-smi printed no "memory.total" column'),
    );
  });

  it("with a number in another unit", () => {
    expect(() => parseNvidiaSmiCsv("index, uuid, name, utilization.gpu [%], memory.used [GiB], memory.total [MiB]\n")).toThrow(
      new NvidiaSmiOutputError('nvidia-smi printed "memory.used" in [GiB], not [MiB]'),
    );
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
    const readings = parseNvidiaSmiCsv(await csv("synthetic/h100-8x.csv"));
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
    expect(NVIDIA_SMI_ARGS.join(" ")).toBe("--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total --format=csv");
  });

  it("is the query scripts/gpu-device-check.sh records on a GPU host", async () => {
    const script = await readFile(fileURLToPath(new URL("../scripts/gpu-device-check.sh", import.meta.url)), "utf8");
    expect(script).toContain(`\nNVIDIA_SMI_QUERY="${NVIDIA_SMI_ARGS.join(" ")}"\n`);
  });

  it("answers null, not invented numbers, when nvidia-smi is missing or fails", async () => {
    expect(await readGpus(NO_NVIDIA_SMI)).toBeNull();
    expect(await readGpus(fixture("nvidia-smi/fake-failing.sh"))).toBeNull();
  });

  it("answers null and logs why when nvidia-smi answers something else than the query's CSV", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      // echo exits 0 and prints its arguments: no CSV header.
      expect(await readGpus("/bin/echo")).toBeNull();
      expect(logged).toHaveBeenCalledWith(JSON.stringify({ level: "error", event: "nvidia_smi_unreadable", message: "nvidia-smi printed no CSV header line" }));
    } finally {
      logged.mockRestore();
    }
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
