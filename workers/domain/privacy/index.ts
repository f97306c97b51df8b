/** Privacy: what the policy itself fixes (its versions, §11), the inventory-driven retention purge (§6), the export and the rights' requests (§7), and the only operator analysis, aggregate and k-anonymous (§2). */
export { CURRENT_POLICY_VERSION } from "./policy";
export { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE, purgeExpired } from "./retention";
export { acceptPolicy, currentPolicy, currentPolicyVersion, listPolicyVersions, newestPolicyVersion, type NewPolicyVersion, POLICY_PATH, type PolicyVersion, publishPolicyVersion, sendPolicyNotices } from "./policy-versions";
export { EXPORT_PAGE_ROWS, EXPORT_SCHEMA_VERSION, EXPORTS_PER_HOUR, exportedColumns, exportedSinks, exportedTables, exportPersonalData, sinkReader } from "./export";
export {
  ANSWER_WITHIN_DAYS,
  completeOwnRequests,
  createRequest,
  decideRequest,
  getOwnRequest,
  listOwnRequests,
  listQueue,
  MESSAGE_MAX_CHARS,
  type ObjectionResult,
  type PrivacyRequestView,
  type QueuedRequest,
  REMIND_BEFORE_DAYS,
  remindAdmins,
  setObjections,
} from "./requests";
export { aggregateStats, STATS_MAX_DAYS, STATS_PERIODS, type Stats, UTILIZATION_BINS } from "./stats";
