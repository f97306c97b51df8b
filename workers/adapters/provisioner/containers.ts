/** Session containers on a host: create, read, list, remove, and the shell WebSocket. */
import { z } from "zod";
import { type Container, ContainerSchema, type Plan } from "../../../contract/provisioner";
import { AppError } from "../../domain/errors";
import { pathId, type Transport } from "./transport";

export interface CreateContainerInput {
  sessionId: string;
  workspaceId: string;
  /** The user: the provisioner gives each tenant its own network. */
  tenantId: string;
  /** The plan's resources (a plan without GPUs has no gpuType). */
  plan: Omit<Plan, "gpuType"> & { gpuType: string | null };
}

export function containerCalls(t: Transport, workspaceImage: string) {
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
          image: workspaceImage,
          plan: { gpuCount, ...(gpuType ? { gpuType } : {}), cpus, memoryMb, pidsLimit, workspaceMb },
          start: true,
        },
      });
      if (reply.status === 200 || reply.status === 201) return t.parse(`POST ${path}`, ContainerSchema, reply.body);
      if (reply.code === "gpus_unavailable") throw new AppError("no_capacity", "Every GPU of your plan on your workspace's host is in use; try again shortly.");
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "Your workspace is in use by a transfer or another container; try again shortly.");
      throw t.unexpected(`POST ${path}`, reply);
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
    async openShell(sessionId: string): Promise<WebSocket> {
      const target = `/v1/containers/${pathId(sessionId)}/shell`;
      const response = await t.send("GET", target, { headers: { Upgrade: "websocket" } });
      if (response.status === 101 && response.webSocket) return response.webSocket;
      const answer = await t.readReply(`GET ${target}`, response);
      if (answer.code === "container_not_found" || answer.code === "container_not_running") {
        throw new AppError("not_connected", "The session's container is not running; connect again.");
      }
      throw t.unexpected(`GET ${target}`, answer);
    },
  };
}
