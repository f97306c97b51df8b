import { deleteInactiveWorkspaces, finishLeftoverDeletions, warnInactiveWorkspaces } from "../domain/workspaces";
import type { Job } from "./job";

/**
 * Hourly, policy §6: workspaces inactive for 60 days are deleted (hot volume and cold copy) after a
 * warning email 7 days before; deletions left unfinished are finished. Deletions run before
 * warnings: a warning sent now is never due for deletion in the same tick anyway.
 */
export const workspaceRetentionJob: Job = {
  name: "workspace-retention",
  async run(ctx) {
    const deletions = await deleteInactiveWorkspaces(ctx);
    const leftovers = await finishLeftoverDeletions(ctx);
    const warned = await warnInactiveWorkspaces(ctx);
    return { ...deletions, leftoversFinished: leftovers.finished, leftoversFailed: leftovers.failed, warned };
  },
};
