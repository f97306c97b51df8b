/** Session containers on a host: create, read, list, remove, and the session sockets (shell, exec, port forwards). */
import { z } from "zod";
import { type Container, ContainerSchema, type Plan, PORT_PATTERN } from "../../../contract/provisioner";
import { AppError } from "../../domain/errors";
import { pathId, type Transport } from "./transport";

export interface CreateContainerInput {
  sessionId: string;
  workspaceId: string;
  /** The user: the provisioner gives each tenant its own network. */
  tenantId: string;
  /** A catalog image's reference: one of the host's PROVISIONER_IMAGES, or it refuses. */
  image: string;
  /** The plan's resources (a plan without GPUs has no gpuType). */
  plan: Omit<Plan, "gpuType"> & { gpuType: string | null };
  /** The account's SSH public keys (`TYPE BASE64`), installed for the session's user; sshd starts with them. Null: the image has no SSH server. */
  authorizedKeys: string[] | null;
}

export function containerCalls(t: Transport) {
  return {
    async createContainer(input: CreateContainerInput): Promise<Container> {
      const path = "/v1/containers";
      const { gpuType, gpuCount, cpus, memoryMb, pidsLimit, workspaceMb } = input.plan;
      const reply = await t.request("POST", path, {
        timeoutMs: t.timeouts.create,
        body: {
          sessionId: input.sessionId,
          workspaceId: input.workspaceId,
          tenantId: input.tenantId,
          image: input.image,
          plan: { gpuCount, ...(gpuType ? { gpuType } : {}), cpus, memoryMb, pidsLimit, workspaceMb },
          start: true,
          ...(input.authorizedKeys ? { ssh: { authorizedKeys: input.authorizedKeys } } : {}),
        },
      });
      if (reply.status === 200 || reply.status === 201) return t.parse(`POST ${path}`, ContainerSchema, reply.body);
      if (reply.code === "gpus_unavailable") throw new AppError("no_capacity", "Every GPU of your plan on your workspace's host is in use; try again shortly.");
      // The host's operator allows images by PROVISIONER_IMAGES and builds them (logged for them); the user can pick another.
      if (reply.code === "image_not_allowed" || reply.code === "image_unavailable") t.fault(`POST ${path}`, `provisioner_${reply.status}`, `${reply.code} ${input.image}`);
      if (reply.code === "image_not_allowed") throw new AppError("not_configured", "Your workspace's GPU host is not configured to run this image.");
      if (reply.code === "image_unavailable") throw new AppError("image_unavailable", "Your workspace's GPU host has not built this image; connect with another (GET /v1/images), or try again later.");
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "Your workspace is in use by a transfer or another container; try again shortly.");
      throw t.unexpected(`POST ${path}`, reply);
    },

    /** Replaces the keys a running session's sshd lets in; false when the host has no running container for it. */
    async replaceSshKeys(sessionId: string, authorizedKeys: string[]): Promise<boolean> {
      const path = `/v1/containers/${pathId(sessionId)}/ssh`;
      const reply = await t.request("PUT", path, { body: { authorizedKeys } });
      if (reply.status === 404 || reply.code === "container_not_running") return false;
      if (reply.status !== 200) throw t.unexpected(`PUT ${path}`, reply);
      return true;
    },

    /** Null when the host has no container for the session. */
    async getContainer(sessionId: string): Promise<Container | null> {
      const path = `/v1/containers/${pathId(sessionId)}`;
      const reply = await t.request("GET", path);
      if (reply.status === 404) return null;
      if (reply.status !== 200) throw t.unexpected(`GET ${path}`, reply);
      return t.parse(`GET ${path}`, ContainerSchema, reply.body);
    },

    async listContainers(): Promise<Container[]> {
      const path = "/v1/containers";
      const reply = await t.request("GET", path);
      if (reply.status !== 200) throw t.unexpected(`GET ${path}`, reply);
      return t.parse(`GET ${path}`, z.object({ containers: z.array(ContainerSchema) }), reply.body).containers;
    },

    /** Stops then removes the session's container; the workspace volume stays. Gone already is fine. */
    async removeContainer(sessionId: string): Promise<void> {
      // Stop first: processes get Docker's grace period to flush what they write to /workspace.
      const stopPath = `/v1/containers/${pathId(sessionId)}/stop`;
      const stopped = await t.request("POST", stopPath, { timeoutMs: t.timeouts.stop });
      if (stopped.status !== 200 && stopped.status !== 404) throw t.unexpected(`POST ${stopPath}`, stopped);
      const path = `/v1/containers/${pathId(sessionId)}`;
      const removed = await t.request("DELETE", path);
      if (removed.status !== 204 && removed.status !== 404) throw t.unexpected(`DELETE ${path}`, removed);
    },

    /** The session container's shell, a WebSocket not yet accepted. */
    openShell: (sessionId: string) => openSocket(`/v1/containers/${pathId(sessionId)}/shell`),

    /** An exec in the session container (its command comes in the first frame), a WebSocket not yet accepted. */
    openExec: (sessionId: string) => openSocket(`/v1/containers/${pathId(sessionId)}/exec`),

    /** One TCP connection to `port` of the session container, a WebSocket not yet accepted; `port_closed` when nothing listens there. */
    openPort: (sessionId: string, port: number) => openSocket(`/v1/containers/${pathId(sessionId)}/ports/${portSegment(port)}`, port),
  };

  /** A session socket on the host: the shell, an exec or a forward (to `port`). */
  async function openSocket(target: string, port?: number): Promise<WebSocket> {
    const response = await t.send("GET", target, { headers: { Upgrade: "websocket" } });
    if (response.status === 101 && response.webSocket) return response.webSocket;
    const answer = await t.readReply(`GET ${target}`, response);
    if (answer.code === "container_not_found" || answer.code === "container_not_running") {
      throw new AppError("not_connected", "The session's container is not running; connect again.");
    }
    if (answer.code === "port_closed") throw new AppError("port_closed", `Nothing accepts connections on port ${port} in your container; start the server first.`);
    throw t.unexpected(`GET ${target}`, answer);
  }
}

/** Ports are checked by the route; anything else is a bug, not a path to send. */
function portSegment(port: number): string {
  if (!PORT_PATTERN.test(String(port))) throw new AppError("internal", "A port is not fit for a provisioner path.");
  return String(port);
}
