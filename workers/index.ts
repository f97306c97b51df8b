import { api } from "./api";
import { scheduled } from "./cron";
import type { AccessLine } from "./adapters/log";
import type { Env } from "./env";
import { queue } from "./queue";
import { stripeWebhooks } from "./webhooks/stripe";

// Beside the API, with the same request middleware (request id, security headers, access log), 404s and problems.
api.route("/webhooks", stripeWebhooks);

/** The one Worker: the HTTP API, the Stripe webhooks, the cron jobs and the access-log queue consumer. */
export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  scheduled,
  queue,
} satisfies ExportedHandler<Env, AccessLine>;
