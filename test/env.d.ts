import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../workers/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      TEST_HANGING_PROVISIONER_URL: string;
      TEST_NARROW_PROVISIONER_URL: string;
      TEST_FAILING_STRIPE_URL: string;
    }
  }
}
