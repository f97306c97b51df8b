/** Privacy: what the policy itself fixes (its version) and the inventory-driven retention purge. */
export { CURRENT_POLICY_VERSION } from "./policy";
