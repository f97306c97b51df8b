/** Readings of whole process groups (wrangler + workerd, the provisioner) from /proc: CPU time and RSS. */
import { readdirSync, readFileSync } from "node:fs";
const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ, the unit of utime/stime in /proc/<pid>/stat

/**
 * pid and the fields after "(comm)" of /proc/<pid>/stat (state ppid pgrp …; fields[2] is the
 * process group, fields[11..14] utime stime cutime cstime, fields 14–17 of proc(5)) of each live
 * process; undefined where there is no /proc (not Linux).
 */
function procStats(): { pid: string; fields: string[] }[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const stats: { pid: string; fields: string[] }[] = [];
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    stats.push({ pid, fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") });
  }
  return stats;
}

/**
 * CPU ticks used so far by each live process of a process group (wrangler's Node process and its
 * workerd processes), from /proc; undefined where there is no /proc (not Linux). A process's own
 * time plus that of its reaped children, so a workerd that exits (and is reaped) is still counted.
 */
export function groupCpuTicks(pgid: number): Map<string, number> | undefined {
  const procs = procStats();
  if (!procs) return undefined;
  const ticks = new Map<string, number>();
  for (const { pid, fields } of procs) {
    if (Number(fields[2]) !== pgid) continue;
    // utime stime cutime cstime
    ticks.set(pid, Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  }
  return ticks;
}

/** CPU ms the group used between two snapshots (new processes count whole; each term is ≥ 0). */
export function cpuMsBetween(before: Map<string, number>, after: Map<string, number>) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += Math.max(0, t - (before.get(pid) ?? 0));
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** Sum of VmRSS (bytes) over the live processes of each process group, from /proc (NaN without /proc). */
function groupRss(pgids: number[]): Map<number, number> {
  const procs = procStats();
  if (!procs) return new Map(pgids.map((pgid) => [pgid, Number.NaN])); // not Linux
  const totals = new Map(pgids.map((pgid) => [pgid, 0]));
  for (const { pid, fields } of procs) {
    const pgid = Number(fields[2]);
    if (!totals.has(pgid)) continue;
    try {
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) totals.set(pgid, totals.get(pgid)! + Number(rss[1]) * 1024);
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}

/** Samples the RSS of some process groups every `intervalMs`; `stop()` gives each group's peak. */
export function rssSampler(groups: Record<string, number>, intervalMs: number) {
  const peaks: Record<string, number> = {};
  const sample = () => {
    const rss = groupRss(Object.values(groups));
    for (const [name, pgid] of Object.entries(groups)) peaks[name] = Math.max(peaks[name] ?? 0, rss.get(pgid)!);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** The Docker engine's processes (the daemon, containerd and each container's shim), by command name. */
const DOCKER_ENGINE = new Set(["dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy", "runc"]);

/**
 * CPU ticks of each party of a transfer, now: each named process group, the Docker engine, and
 * this process with the children it has reaped (a `docker cp` it ran counts here, as `client`).
 * Compare two with `partyCpuMs`.
 */
export function partyCpuTicks(groups: Record<string, number>): Record<string, Map<string, number>> {
  const procs = procStats() ?? [];
  const parties: Record<string, Map<string, number>> = { client: new Map(), docker: new Map() };
  for (const name of Object.keys(groups)) parties[name] = new Map();
  const pgids = new Map(Object.entries(groups).map(([name, pgid]) => [String(pgid), name]));
  for (const { pid, fields } of procs) {
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const group = pgids.get(fields[2]!);
    if (pid === String(process.pid)) parties.client!.set(pid, ticks);
    else if (group) parties[group]!.set(pid, ticks);
    else {
      let comm = "";
      try {
        comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      } catch {
        continue;
      }
      if (DOCKER_ENGINE.has(comm)) parties.docker!.set(pid, ticks);
    }
  }
  return parties;
}

/** CPU ms each party used between two `partyCpuTicks` snapshots. */
export function partyCpuMs(before: Record<string, Map<string, number>>, after: Record<string, Map<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, ticks]) => [name, cpuMsBetween(before[name] ?? new Map(), ticks)]));
}
