import { remindAdmins } from "../domain/privacy";
import type { Job } from "./job";

/** Policy §7 "within 30 days": the admins hear of requests due within a week, and of overdue ones. */
export const privacyRemindersJob: Job = { name: "privacy-reminders", run: (ctx) => remindAdmins(ctx) };
