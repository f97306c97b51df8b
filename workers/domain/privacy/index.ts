/** Privacy: what the policy itself fixes (its version), the inventory-driven retention purge (§6) and the only operator analysis, aggregate and k-anonymous (§2). */
export { CURRENT_POLICY_VERSION } from "./policy";
export { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE, purgeExpired } from "./retention";
export { aggregateStats, STATS_MAX_DAYS, STATS_PERIODS, type Stats, UTILIZATION_BINS } from "./stats";
