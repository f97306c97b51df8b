import type { Principal } from "../domain/accounts";
import type { DomainContext } from "../domain/context";
import type { Env } from "../env";

export interface HonoEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** Request-scoped services; the actor becomes the user once `requireUser` ran. */
    domain: DomainContext;
    principal: Principal | undefined;
    /** The request deleted the account: its own access log line keeps no IP or user agent (policy §7). */
    accountDeleted: boolean | undefined;
  };
}
