/**
 * Section 1: connect latency, image warm, interleaved rounds against the same work done with the
 * docker CLI, medians and their ratios:
 *   - first connect (a new workspace: the previous round destroyed it) against `docker network
 *     create` + `docker volume create` + `docker run -d`, and against `docker run -d` alone;
 *   - warm reconnect (disconnect, connect again: the workspace is hot, its network and volume are
 *     there) against `docker run -d` on an existing network and volume, and `docker start` of a
 *     stopped container (the least a reconnect could cost).
 */
import type { Api } from "../lib/http.ts";
import { fmt, fmtLoad, median, table } from "../lib/report.ts";
import { log } from "../lib/run-bench.ts";
import { expect } from "../lib/http.ts";
import { rawRemove, rawRun, rawRunAgain, rawStart } from "./raw-container.ts";
import { apiConnect, apiDisconnectAndDestroy } from "./session-api.ts";
import { ROUNDS } from "./settings.ts";

export interface ConnectRound {
  firstMs: number;
  warmMs: number;
  runMs: number;
  allMs: number;
  runAgainMs: number;
  startMs: number;
  disconnectMs: number;
  destroyMs: number;
}

export async function connectLatency(api: Api): Promise<ConnectRound[]> {
  log("connect: warm-up round (not counted) …");
  const warm = await apiConnect(api);
  await apiDisconnectAndDestroy(api, warm.session);
  await rawRemove((await rawRun("warm")).raw);

  const rounds: ConnectRound[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`connect: round ${round}/${ROUNDS} …`);
    const result: Partial<ConnectRound> = {};
    // Alternate which goes first, so neither always runs right after the other's cleanup.
    const order = round % 2 ? (["api", "raw"] as const) : (["raw", "api"] as const);
    for (const which of order) {
      if (which === "api") {
        const first = await apiConnect(api);
        await expect(api, "POST", `/v1/sessions/${first.session.id}/disconnect`, [200]);
        const again = await apiConnect(api);
        Object.assign(result, { firstMs: first.ms, warmMs: again.ms }, await apiDisconnectAndDestroy(api, again.session));
      } else {
        const r = await rawRun(String(round));
        const runAgainMs = await rawRunAgain(r.raw);
        const startMs = await rawStart(r.raw);
        Object.assign(result, { runMs: r.runMs, allMs: r.networkMs + r.volumeMs + r.runMs, runAgainMs, startMs });
        await rawRemove(r.raw);
      }
    }
    rounds.push(result as ConnectRound);
  }
  return rounds;
}

/** The section's lines: a table of the rounds and their medians, the ratios against the goals. */
export function connectReport(rounds: ConnectRound[], loadBefore: number[]): string[] {
  const out: string[] = [];
  out.push(`1. Connect latency, image warm: POST /v1/sessions until "running" vs the docker CLI doing the same work (${ROUNDS} interleaved rounds after one warm-up; ms)`);
  const m = (pick: (r: ConnectRound) => number) => median(rounds.map(pick));
  const row = (label: string, r: ConnectRound) => [
    label,
    fmt(r.firstMs),
    fmt(r.allMs),
    fmt(r.runMs),
    `${fmt(r.firstMs / r.runMs, 2)}×`,
    fmt(r.warmMs),
    fmt(r.runAgainMs),
    fmt(r.startMs),
    `${fmt(r.warmMs / r.runAgainMs, 2)}×`,
    `${fmt(r.warmMs / r.startMs, 2)}×`,
    fmt(r.disconnectMs),
    fmt(r.destroyMs),
  ];
  const medians: ConnectRound = {
    firstMs: m((r) => r.firstMs),
    warmMs: m((r) => r.warmMs),
    runMs: m((r) => r.runMs),
    allMs: m((r) => r.allMs),
    runAgainMs: m((r) => r.runAgainMs),
    startMs: m((r) => r.startMs),
    disconnectMs: m((r) => r.disconnectMs),
    destroyMs: m((r) => r.destroyMs),
  };
  out.push(
    table(
      ["round", "first connect", "net+vol+run", "run -d", "first/run", "warm reconnect", "run -d (net, vol there)", "docker start", "warm/run", "warm/start", "disconnect", "destroy"],
      [...rounds.map((r, i) => row(`round ${i + 1}`, r)), row("median", medians)],
    ),
  );
  const first = medians.firstMs / medians.runMs;
  out.push(
    `first connect / docker run -d: ${fmt(first, 2)}× (${first <= 1.1 ? "meets" : "misses"} the ≤ 1.1× goal); / (network create + volume create + run -d), the same work: ${fmt(medians.firstMs / medians.allMs, 2)}×`,
    `warm reconnect / docker run -d on the existing network and volume: ${fmt(medians.warmMs / medians.runAgainMs, 2)}×; / docker start: ${fmt(medians.warmMs / medians.startMs, 2)}× (a session is a new container: docker start is the floor, run -d what a new container costs)`,
    "(docker columns include the docker CLI's own start-up per command; each first connect made a new network, volume and container: the previous round destroyed the workspace)",
    `(load average ${fmtLoad(loadBefore)} before this section)`,
    "",
  );
  return out;
}
