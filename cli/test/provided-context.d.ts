// What cli/test/global-setup.ts provides to the CLI's tests.
import "vitest";

declare module "vitest" {
  interface ProvidedContext {
    /** The Worker under `wrangler dev`. */
    apiUrl: string;
    /** Its local D1 (`wrangler d1 execute --persist-to`) and wrangler's own state dir. */
    persistDir: string;
    wranglerTmp: string;
    /** The Worker's access-token signing key (a private JWK): tests make expired tokens with it. */
    accessKey: string;
  }
}
