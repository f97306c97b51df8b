/** The admin pages: one chunk, loaded only for admins (web/src/admin-only.tsx). */
export { AdminAccountsPage } from "./accounts";
export { AdminPolicyPage } from "./policy";
export { AdminRequestsPage } from "./requests";
export { AdminStatsPage } from "./stats";
