import { api } from "./api";
import { scheduled } from "./cron";
import type { Env } from "./env";
import { stripeWebhooks } from "./webhooks/stripe";

// Beside the API, with the same request middleware (request id, security headers, access log), 404s and problems.
api.route("/webhooks", stripeWebhooks);

/** The one Worker: the HTTP API, the Stripe webhooks and the cron jobs (the website is to come). */
export default {
  fetch: (request, env, ctx) => api.fetch(request, env, ctx),
  scheduled,
} satisfies ExportedHandler<Env>;
