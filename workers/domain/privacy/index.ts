/** Privacy: what the policy itself fixes (its versions, §11), the inventory-driven retention purge (§6) and the export (§7). */
export { CURRENT_POLICY_VERSION } from "./policy";
export { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE, purgeExpired } from "./retention";
export { acceptPolicy, currentPolicy, currentPolicyVersion, listPolicyVersions, newestPolicyVersion, type NewPolicyVersion, POLICY_PATH, type PolicyVersion, publishPolicyVersion, sendPolicyNotices } from "./policy-versions";
export { EXPORT_PAGE_ROWS, EXPORT_SCHEMA_VERSION, EXPORTS_PER_HOUR, exportedColumns, exportedTables, exportPersonalData } from "./export";
