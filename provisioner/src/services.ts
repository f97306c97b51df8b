import Docker from "dockerode";
import { AcceptedTokens, type TokenCheck } from "./auth.ts";
import type { ProvisionerConfig } from "./config.ts";
import { Mutex } from "./mutex.ts";

/**
 * What is attached to each session, kept in memory: its open shells, execs and port forwards. The
 * Worker's idle check asks whether one is open: someone is using the session through it.
 */
export class ShellRegistry {
  readonly #attached = new Map<string, number>();
  readonly #lastActivity = new Map<string, Date>();

  attach(sessionId: string): void {
    this.#attached.set(sessionId, (this.#attached.get(sessionId) ?? 0) + 1);
    this.touch(sessionId);
  }

  detach(sessionId: string): void {
    const left = (this.#attached.get(sessionId) ?? 1) - 1;
    if (left > 0) this.#attached.set(sessionId, left);
    else this.#attached.delete(sessionId);
    this.touch(sessionId);
  }

  touch(sessionId: string): void {
    this.#lastActivity.set(sessionId, new Date());
  }

  status(sessionId: string): { attached: number; lastActivityAt: string | null } {
    return { attached: this.#attached.get(sessionId) ?? 0, lastActivityAt: this.#lastActivity.get(sessionId)?.toISOString() ?? null };
  }
}

/** What every route and job works with, built once per process. */
export type Services = {
  config: ProvisionerConfig;
  docker: Docker;
  /** Serializes GPU allocation and tenant-network bookkeeping: a GPU is never given twice. */
  allocation: Mutex;
  shells: ShellRegistry;
  /** The request tokens this process accepts, and the ones it already has (single use). */
  tokens: TokenCheck;
};

export function createServices(config: ProvisionerConfig, docker?: Docker): Services {
  return {
    config,
    docker: docker ?? new Docker({ socketPath: config.dockerSocket }),
    allocation: new Mutex(),
    shells: new ShellRegistry(),
    tokens: { hostId: config.hostId, keys: config.publicKeys, accepted: new AcceptedTokens() },
  };
}
