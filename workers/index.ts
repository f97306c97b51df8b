import { api } from "./api";
import { scheduled } from "./cron";
import type { Env } from "./env";

/** The one Worker: the HTTP API, the Stripe webhooks and the cron jobs (the website is to come). */
export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  scheduled,
} satisfies ExportedHandler<Env>;
