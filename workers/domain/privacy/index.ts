/** Privacy: what the policy itself fixes (its version) and the inventory-driven retention purge (§6). */
export { CURRENT_POLICY_VERSION } from "./policy";
export { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE, purgeExpired } from "./retention";
export { acceptPolicy, currentPolicy, currentPolicyVersion, listPolicyVersions, newestPolicyVersion, type NewPolicyVersion, POLICY_PATH, type PolicyVersion, publishPolicyVersion, sendPolicyNotices } from "./policy-versions";
