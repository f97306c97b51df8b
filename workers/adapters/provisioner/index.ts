/** Provisioner adapter: the Worker's only way to a GPU host (ARCHITECTURE "Worker ↔ provisioner"). */
export { type Container, type ExportStage, type ProvisionerClient, provisionerClient, type StoredFile, unavailable } from "./client";
