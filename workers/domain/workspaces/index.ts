/** Workspaces: status, destroy and inactivity deletion (policy §6), and the files going in and out. */
export { getWorkspace, recordWorkspaceSizes, WorkspaceSchema, type WorkspaceView } from "./status";
export { deleteInactiveWorkspaces, destroyWorkspace, finishLeftoverDeletions } from "./deletion";
export { DELETION_WARNING_DAYS, WORKSPACE_RETENTION_DAYS, warnInactiveWorkspaces } from "./retention";
export {
  deleteWorkspacePath,
  downloadWorkspaceArchive,
  downloadWorkspaceDirectory,
  downloadWorkspaceFile,
  listWorkspaceDirectory,
  TREE_PAGE,
  uploadWorkspaceArchive,
  uploadWorkspaceFile,
  wantsSha256,
} from "./files";
