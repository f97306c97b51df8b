/**
 * Section 1: connect latency, image warm. POST /v1/sessions until the container runs against a raw
 * `docker run -d` of the same image with the same isolation options, interleaved rounds, a fresh
 * container each time; medians and their ratio (target ≤ 1.5×).
 */
import type { Api } from "../lib/http.ts";
import { fmt, fmtLoad, median, table } from "../lib/report.ts";
import { log } from "../lib/run-bench.ts";
import { rawRemove, rawRun } from "./raw-container.ts";
import { apiConnect, apiDisconnectAndDestroy } from "./session-api.ts";
import { ROUNDS } from "./settings.ts";
export interface ConnectRound {
  apiMs: number;
  runMs: number;
  allMs: number;
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
        const { ms, session } = await apiConnect(api);
        Object.assign(result, { apiMs: ms }, await apiDisconnectAndDestroy(api, session));
      } else {
        const r = await rawRun(String(round));
        Object.assign(result, { runMs: r.runMs, allMs: r.networkMs + r.volumeMs + r.runMs });
        await rawRemove(r.raw);
      }
    }
    rounds.push(result as ConnectRound);
  }
  return rounds;
}

/** The section's lines: a table of the rounds and their medians, the ratio against the target. */
export function connectReport(rounds: ConnectRound[], loadBefore: number[]): string[] {
  const out: string[] = [];
  out.push(`1. Connect latency, image warm: POST /v1/sessions until "running" vs docker run -d with the same options (${ROUNDS} interleaved rounds after one warm-up; ms)`);
  const rows = rounds.map((r, i) => [`round ${i + 1}`, fmt(r.apiMs), fmt(r.runMs), fmt(r.allMs), `${fmt(r.apiMs / r.runMs, 2)}×`, `${fmt(r.apiMs / r.allMs, 2)}×`, fmt(r.disconnectMs), fmt(r.destroyMs)]);
  const m = (pick: (r: ConnectRound) => number) => median(rounds.map(pick));
  const [apiMed, runMed, allMed] = [m((r) => r.apiMs), m((r) => r.runMs), m((r) => r.allMs)];
  rows.push(["median", fmt(apiMed), fmt(runMed), fmt(allMed), `${fmt(apiMed / runMed, 2)}×`, `${fmt(apiMed / allMed, 2)}×`, fmt(m((r) => r.disconnectMs)), fmt(m((r) => r.destroyMs))]);
  out.push(table(["round", "API connect", "docker run -d", "net+vol+run", "API/run", "API/net+vol+run", "API disconnect", "API destroy"], rows));
  const verdict = apiMed / runMed <= 1.5 ? "meets" : "misses";
  out.push(
    `ratio of medians API / docker run -d: ${fmt(apiMed / runMed, 2)}× (${verdict} the ≤ 1.5× target); API / (docker network create + volume create + run -d), the same work a connect does: ${fmt(apiMed / allMed, 2)}×`,
    "(docker columns include the docker CLI's own start-up per command; each API connect made a new network, volume and container: the previous round destroyed the workspace)",
    `(load average ${fmtLoad(loadBefore)} before this section)`,
    "",
  );
  return out;
}
