/**
 * What every domain verb is called with: the request-scoped services (db, settings, clock, who
 * acts, the log) and the adapters behind one door each (a GPU host, cold storage, email, Stripe).
 * Built in one place, `createDomainContext` (workers/context.ts), for a request, a cron job or a
 * webhook alike; domain code never reads the Worker's environment itself.
 */
import type { ColdStore } from "../adapters/cold-store";
import type { Mailer } from "../adapters/email";
import type { Log } from "../adapters/log";
import type { HostTarget, ProvisionerClient } from "../adapters/provisioner";
import type { Stripe } from "../adapters/stripe";
import type { Config } from "./config";
import type { Db } from "./db";

/** Time comes from here, never from `Date.now()` in domain code, so tests move it instead of waiting. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export const fixedClock = (at: Date | number): Clock => ({ now: () => new Date(at) });

/** Who acts: the domain layer is called the same way from a request, a webhook or a cron job. */
export type Actor =
  | { kind: "anonymous" }
  | { kind: "user"; userId: string }
  | { kind: "admin"; userId: string }
  | { kind: "system"; job: string }
  | { kind: "webhook"; source: "stripe" };

export const actorLabel = (actor: Actor): string => {
  switch (actor.kind) {
    case "user":
    case "admin":
      return `${actor.kind}:${actor.userId}`;
    case "system":
      return `system:${actor.job}`;
    case "webhook":
      return `webhook:${actor.source}`;
    default:
      return "anonymous";
  }
};

/** The user acting, if a user (or an admin) acts. */
export const actingUserId = (actor: Actor): string | undefined => (actor.kind === "user" || actor.kind === "admin" ? actor.userId : undefined);

export interface DomainContext {
  db: Db;
  config: Config;
  clock: Clock;
  /** Becomes the signed-in user once a request is authenticated. */
  actor: Actor;
  requestId: string;
  /**
   * The account a request made without a sign-in (sign-up, sign-in, verification, reset) turned
   * out to concern, set by its audit row: the request's access-log line is then that account's
   * too, so the export hands it out and the deletion clears it like the account's other lines.
   */
  subjectUserId?: string;
  /** Work that must finish but not delay the answer (emails, logs). */
  waitUntil(promise: Promise<unknown>): void;
  log: Log;
  /** The client of a registered GPU host (by id, or a host row already read); `not_configured` without the provisioner settings. */
  provisioner(host: string | HostTarget): Promise<ProvisionerClient>;
  /** R2, where cold workspaces lie. */
  coldStore: ColdStore;
  /** R2, where access-log lines lie (workers/domain/access-logs). */
  logStore: R2Bucket;
  email: Mailer;
  /** The Stripe client; 503 `billing_not_configured` on a deployment without a Stripe key. */
  stripe(): Stripe;
}

/**
 * Work the answer must not wait for (so that every branch of an enumeration-safe route costs the
 * same on the response path): run after it, a failure logged by label only.
 */
export const afterResponse = (ctx: DomainContext, label: string, work: () => Promise<unknown>) =>
  ctx.waitUntil(
    work().catch((error: unknown) => {
      ctx.log.warn(`${label}_failed`, { error: error instanceof Error ? error.name : "unknown" });
    }),
  );
