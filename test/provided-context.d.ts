// What test/global-setup.ts (Node) provides to vitest.config.ts, which passes it to the Worker as bindings.
import "vitest";

declare module "vitest" {
  interface ProvidedContext {
    provisionerUrl: string;
    provisionerPrivateKey: string;
    /** A second provisioner trusting the same key, whose PROVISIONER_IMAGES allow only the `minimal` image. */
    narrowProvisionerUrl: string;
    /** A loopback port that accepts connections and never answers: a provisioner that hangs. */
    hangingProvisionerUrl: string;
    /** test/fake-stripe.ts: a local Stripe API that records every request. */
    fakeStripeUrl: string;
    /** The same fake, failing every call but customer creation. */
    failingStripeUrl: string;
  }
}

/** One request the fake Stripe (test/fake-stripe.ts) recorded; tests read them at GET /__requests. */
export interface RecordedStripeRequest {
  method: string;
  path: string;
  /** The form fields, flattened as Stripe encodes them (`metadata[user_id]`). */
  form: Record<string, string>;
  /** The query string's fields: the SDK sends a GET's and a DELETE's parameters there. */
  query: Record<string, string>;
  idempotencyKey: string | null;
  authorized: boolean;
}
