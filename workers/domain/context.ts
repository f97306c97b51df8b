import type { Env } from "../env";
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
  | { kind: "system"; job: string };

export const actorLabel = (actor: Actor): string =>
  actor.kind === "user" || actor.kind === "admin" ? `${actor.kind}:${actor.userId}` : actor.kind === "system" ? `system:${actor.job}` : "anonymous";

export interface DomainContext {
  env: Env;
  db: Db;
  config: Config;
  clock: Clock;
  actor: Actor;
  requestId: string;
  /** Work that must finish but not delay the answer (emails, logs). */
  waitUntil(promise: Promise<unknown>): void;
}
