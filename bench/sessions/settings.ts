/**
 * bench:sessions settings: BENCH_ROUNDS (default 5), BENCH_FILE_MB (largest file, default 1024; the
 * other is a quarter), BENCH_CONCURRENT_MB (each of the N concurrent transfers, default 1024).
 */
import { findPlan } from "../../workers/domain/plans/catalog.ts";
import { positiveInt } from "../lib/settings.ts";
export const PLAN_ID = "cpu-small";
export const PLAN = findPlan(PLAN_ID)!;
export const ROUNDS = positiveInt("BENCH_ROUNDS", 5);
const FILE_MB = positiveInt("BENCH_FILE_MB", 1024);
export const CONCURRENT_FILE_MB = positiveInt("BENCH_CONCURRENT_MB", 1024);
export const FILE_SIZES_MB = [...new Set([Math.max(1, Math.round(FILE_MB / 4)), FILE_MB])];
export const RSS_SAMPLE_MS = 100;
export const REQUEST_TIMEOUT_MS = 60_000;
export const CONNECT_POLL_MS = 50;
