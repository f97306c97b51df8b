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
  };
}
