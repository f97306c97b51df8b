import type { HttpBindings } from "@hono/node-server";

/** Bindings are the Node request and response (for streaming bodies); variables are per request. */
export type HonoEnv = {
  Bindings: HttpBindings;
  Variables: { requestId: string };
};
