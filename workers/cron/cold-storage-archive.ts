import { archiveIdleWorkspaces } from "../domain/cold-storage";
import { hostJob } from "./job";

/** Every minute: idle workspaces move to cold storage (R2), a bounded amount per tick, resumed by the next. */
export const archiveJob = hostJob("cold-storage-archive", archiveIdleWorkspaces);
