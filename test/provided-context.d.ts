// What test/global-setup.ts (Node) provides to vitest.config.ts, which passes it to the Worker as bindings.
import "vitest";

declare module "vitest" {
  interface ProvidedContext {
    provisionerUrl: string;
    provisionerPrivateKey: string;
    /** A loopback port that accepts connections and never answers: a provisioner that hangs. */
    hangingProvisionerUrl: string;
  }
}
