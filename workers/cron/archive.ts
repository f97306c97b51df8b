import { archiveIdleWorkspaces } from "../domain/cold-storage";
import type { Job } from ".";
import { withProvisioner } from "./hosts";

/** Every minute: idle workspaces move to cold storage (R2), a bounded amount per tick, resumed by the next. */
export const archiveJob: Job = {
  name: "cold-storage-archive",
  run: (ctx) => withProvisioner(ctx, (settings) => archiveIdleWorkspaces(ctx, settings)),
};
