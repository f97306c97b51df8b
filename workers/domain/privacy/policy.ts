/** The privacy policy version users accept at signup (its "Last updated" date, policy §11). */
export const CURRENT_POLICY_VERSION = "2026-04-03";
