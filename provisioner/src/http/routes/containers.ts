import {
  createSessionContainer,
  getSessionContainer,
  listSessionContainers,
  removeSessionContainer,
  stopSessionContainer,
} from "../../containers/sessions.ts";
import { ProvisionerError } from "../../errors.ts";
import { CreateContainerSchema, SshSchema } from "../../../../contract/provisioner.ts";
import { setUpSsh } from "../../containers/ssh.ts";
import type { Services } from "../../services.ts";
import { idParam, newRouter, readJson } from "../router.ts";

export function containersRoutes(services: Services) {
  const router = newRouter();

  router.post("/", async (c) => {
    const input = await readJson(c.req, CreateContainerSchema);
    const { created, container } = await createSessionContainer(services, input);
    return c.json(container, created ? 201 : 200);
  });

  router.get("/", async (c) => c.json({ containers: await listSessionContainers(services.docker) }));

  router.get("/:sessionId", async (c) => c.json(await getSessionContainer(services.docker, idParam(c.req.param("sessionId")))));

  // The account's keys changed: the running session lets in the new set at once (sshd started if it was not).
  router.put("/:sessionId/ssh", async (c) => {
    const { authorizedKeys } = await readJson(c.req, SshSchema);
    const container = await getSessionContainer(services.docker, idParam(c.req.param("sessionId")));
    if (container.state !== "running") throw new ProvisionerError("container_not_running");
    return c.json({ sshHostKey: await setUpSsh(services, container.containerId, authorizedKeys) });
  });

  router.post("/:sessionId/stop", async (c) => c.json(await stopSessionContainer(services, idParam(c.req.param("sessionId")))));

  router.delete("/:sessionId", async (c) => {
    await removeSessionContainer(services, idParam(c.req.param("sessionId")));
    return c.body(null, 204);
  });

  // The session sockets are served on the HTTP server's upgrade event (sockets.ts); a plain GET lands here.
  for (const socketPath of ["/:sessionId/shell", "/:sessionId/exec", "/:sessionId/ports/:port"]) {
    router.get(socketPath, () => {
      throw new ProvisionerError("upgrade_required");
    });
  }

  return router;
}
