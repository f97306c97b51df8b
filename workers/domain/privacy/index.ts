/** Privacy: what the policy itself fixes (its version), the inventory-driven retention purge (§6) and the rights' requests (§7). */
export { CURRENT_POLICY_VERSION } from "./policy";
export { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE, purgeExpired } from "./retention";
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
