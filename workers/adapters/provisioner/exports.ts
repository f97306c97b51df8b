/** Cold-storage exports: a snapshot tar staged on the host for one archive attempt, read part by part. */
import { type ExportStage, ExportStageSchema } from "../../../contract/provisioner";
import { AppError } from "../../domain/errors";
import { pathId, type Transport } from "./transport";

export function exportCalls(t: Transport) {
  return {
    /**
     * Stages a snapshot of the workspace's tar on the host for one archive attempt (`stageId`),
     * with the SHA-256 of the whole and of each `partSize` part. `staging` while the host is still
     * writing it (ask again later). `workspace_busy` while a container mounts the workspace.
     */
    async stageExport(workspaceId: string, input: { stageId: string; partSize: number }): Promise<ExportStage> {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports`;
      // The host answers within about 10 s (202 while it is still staging): as long as a create may take.
      const reply = await t.request("POST", path, { body: input, timeoutMs: t.timeouts.create });
      if (reply.status === 200 || reply.status === 202) return t.parse(`POST ${path}`, ExportStageSchema, reply.body);
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "The workspace is in use by a container or a transfer.");
      if (reply.code === "workspace_not_found") throw new AppError("not_found", "The workspace is not on its host.");
      throw t.unexpected(`POST ${path}`, reply);
    },

    /** Part `n` (from 1) of the staged snapshot, streamed with its length; `not_found` when the host has no stage. */
    async getExportPart(workspaceId: string, n: number): Promise<Response> {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports/parts/${n}`;
      const response = await t.send("GET", path);
      if (response.status === 200) return response;
      const reply = await t.readReply(`GET ${path}`, response);
      if (reply.code === "export_not_found") throw new AppError("not_found", "The host has no staged export of the workspace.");
      throw t.unexpected(`GET ${path}`, reply);
    },

    /** Drops the staged snapshot; none is fine. */
    async deleteExport(workspaceId: string): Promise<void> {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports`;
      const reply = await t.request("DELETE", path);
      if (reply.status !== 204) throw t.unexpected(`DELETE ${path}`, reply);
    },
  };
}
