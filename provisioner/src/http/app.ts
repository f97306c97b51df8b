import { randomUUID } from "node:crypto";
import { ARCHIVE_SHA256_HEADER, isStreamedUpload } from "../../../contract/provisioner-token.ts";
import { verifyProvisionerRequest } from "../auth.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { onError, problemResponse } from "./problem.ts";
import { containersRoutes } from "./routes/containers.ts";
import { hostRoutes } from "./routes/host.ts";
import { workspacesRoutes } from "./routes/workspaces.ts";
import { newRouter, signedPath, signedTarget } from "./router.ts";

const REQUEST_ID = /^[A-Za-z0-9_-]{8,64}$/;

export function newApp(services: Services) {
  const app = newRouter();

  app.use(async (c, next) => {
    // The Worker's request id when it sends one, so both sides log the same id.
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("X-Request-Id", requestId);
  });

  // Reveals nothing: no version, no host facts, no Docker state.
  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.use(async (c, next) => {
    const { method } = c.req;
    // A streamed upload is bound by its Content-Length and announced hash, which its route then
    // holds the bytes to; any other body is read and hashed here, and the route reads those bytes.
    const streamed = isStreamedUpload(method, signedPath(c.req.url));
    const length = c.req.header("content-length");
    await verifyProvisionerRequest(services.tokens, c.req.header("authorization"), {
      method,
      target: signedTarget(c.req.url),
      body: async () =>
        streamed ? { length: length === undefined ? undefined : Number(length), sha256: c.req.header(ARCHIVE_SHA256_HEADER) } : new Uint8Array(await c.req.arrayBuffer()),
    });
    await next();
  });

  app.route("/v1/containers", containersRoutes(services));
  app.route("/v1/workspaces", workspacesRoutes(services));
  app.route("/v1", hostRoutes(services));

  app.notFound((c) => problemResponse(c, new ProvisionerError("not_found")));
  app.onError(onError);
  return app;
}
