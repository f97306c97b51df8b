/** Cold storage: workspaces archived to R2 when idle, restored on connect (docs/decisions/0010-cold-storage.md). */
export { type ArchiveTickResult, archiveIdleWorkspaces, movesToColdStorageAt, partSizeFor } from "./archive";
export { hotWorkspaceForConnect } from "./restore";
export { cancelArchive, coldObjectKey, deleteColdCopy, findArchive } from "./copy";
