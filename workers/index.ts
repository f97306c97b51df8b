import { api } from "./api";
import { scheduled } from "./cron";
import type { Env } from "./env";

/** The one Worker: HTTP API (and, later, webhooks and the website) plus the cron jobs. */
export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  scheduled,
} satisfies ExportedHandler<Env>;
