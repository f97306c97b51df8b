/**
 * The goals in one table, as the other benchmarks print theirs: each path's figure against its
 * baseline, the goal, and when it is missed the measured figure that says why on this machine.
 */
import { cpus } from "node:os";
import { fmt, mbps, median, table } from "../lib/report.ts";
import { MIB } from "../lib/transfer.ts";
import type { WorkerRuntime } from "../lib/worker.ts";
import type { ConnectRound } from "./connect-latency.ts";
import type { FileOutcome, PathRun } from "./file-transfer.ts";

const cpuOf = (run: PathRun) => Object.values(run.cpuMs).reduce((a, b) => a + b, 0);

export function goalsTable(rounds: ConnectRound[], fileRuns: { runtime: WorkerRuntime; files: FileOutcome }[]): string[] {
  const cores = cpus().length;
  const rows: string[][] = [];
  for (const { runtime, files } of fileRuns) {
    if ("skipped" in files) continue;
    const largest = files.rows.at(-1)!;
    const bytes = largest.sizeMb * MIB;
    for (const direction of ["upload", "download"] as const) {
      const ours = largest.paths[direction].worker;
      const cp = largest.paths[direction]["docker cp"];
      const ratio = cp.ms / ours.ms;
      const bound = cp.ms / (cpuOf(ours) / cores);
      rows.push([
        `${direction} ${largest.sizeMb} MiB through the Worker (${runtime})`,
        `${fmt(mbps(bytes, ours.ms), 0)} MB/s`,
        `docker cp ${fmt(mbps(bytes, cp.ms), 0)} MB/s`,
        `${fmt(ratio, 2)}×`,
        `≥ 0.8×: ${ratio >= 0.8 ? "met" : "not met"}`,
        ratio >= 0.8
          ? ""
          : `the path needs ${fmt(cpuOf(ours) / 1000, 1)} CPU s vs docker cp's ${fmt(cpuOf(cp) / 1000, 1)}: ` +
            (bound < 0.8 ? `at most ${fmt(bound, 2)}× on ${cores} cores` : `CPU alone would allow ${fmt(bound, 2)}× on ${cores} cores, so it does not explain the rest (see where the time goes)`),
      ]);
    }
  }
  const m = (pick: (r: ConnectRound) => number) => median(rounds.map(pick));
  const first = m((r) => r.firstMs) / m((r) => r.runMs);
  const warm = m((r) => r.warmMs) / m((r) => r.startMs);
  rows.push([
    "connect (new workspace)",
    `${fmt(m((r) => r.firstMs), 0)} ms`,
    `docker run -d ${fmt(m((r) => r.runMs), 0)} ms`,
    `${fmt(first, 2)}×`,
    `≤ 1.1×: ${first <= 1.1 ? "met" : "not met"}`,
    first <= 1.1 ? "" : `it also makes the network, disk and volume: that work by hand (net + vol + run -d) is ${fmt(m((r) => r.firstMs) / m((r) => r.allMs), 2)}×`,
  ]);
  rows.push(["warm reconnect (hot workspace)", `${fmt(m((r) => r.warmMs), 0)} ms`, `docker start ${fmt(m((r) => r.startMs), 0)} ms`, `${fmt(warm, 2)}×`, "little more than docker start", ""]);
  return ["The goals (medians; transfers at the largest size):", table(["path", "Ozekai", "baseline", "ratio", "goal", "why not, measured"], rows)];
}
