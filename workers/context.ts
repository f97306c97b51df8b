/**
 * The one context factory: the request middleware, the cron jobs and the Stripe webhook each build
 * their DomainContext here, so every verb gets the same services however it is called.
 */
import { coldStore } from "./adapters/cold-store";
import { mailer } from "./adapters/email";
import { createLog } from "./adapters/log";
import { provisionerClient } from "./adapters/provisioner";
import { stripeClient } from "./adapters/stripe";
import { loadConfig } from "./domain/config";
import { actingUserId, type Actor, type Clock, type DomainContext, systemClock } from "./domain/context";
import { openDb } from "./domain/db";
import { AppError } from "./domain/errors";
import { findHost } from "./domain/hosts";
import type { Env } from "./env";

export interface ContextOptions {
  actor: Actor;
  requestId: string;
  waitUntil(promise: Promise<unknown>): void;
  /** The system clock unless a job runs at its scheduled time. */
  clock?: Clock;
}

/** `not_configured` when the settings every request needs are missing or invalid (names only, never values). */
export async function createDomainContext(env: Env, options: ContextOptions): Promise<DomainContext> {
  const config = await loadConfig(env);
  const { requestId, waitUntil } = options;
  // The actor is read when a line is written: it becomes the user once the request is authenticated
  // (or, signed out, the account the request turned out to concern).
  const log = createLog(env.DB, { waitUntil }, requestId, () => actingUserId(ctx.actor) ?? ctx.subjectUserId);
  const ctx: DomainContext = {
    db: openDb(env.DB),
    config,
    clock: options.clock ?? systemClock,
    actor: options.actor,
    requestId,
    waitUntil,
    log,
    async provisioner(host) {
      const settings = config.provisioner;
      return provisionerClient(settings, typeof host === "string" ? await findHost(ctx, host) : host, log, requestId);
    },
    coldStore: coldStore(env.WORKSPACES),
    logStore: env.LOGS,
    email: mailer(env.EMAIL, config.emailFrom, log, { waitUntil }),
    stripe() {
      const stripe = config.billing.stripe;
      if (!stripe) throw new AppError("billing_not_configured", "Billing is not configured here (no Stripe key); an administrator grants plans instead.");
      return stripeClient(stripe);
    },
  };
  return ctx;
}
