/**
 * One error class and one code → status table for the whole provisioner. Every failure the Worker
 * can see is one of these codes; anything else becomes `internal` with no message shown.
 */
export const ERROR_CODES = {
  unauthorized: { status: 401, title: "A valid provisioner token is required" },
  validation_failed: { status: 400, title: "The request is not valid" },
  invalid_path: { status: 400, title: "The workspace path is not allowed" },
  symlink_refused: { status: 400, title: "The path is or goes through a symbolic link" },
  unsafe_archive: { status: 400, title: "The archive has an entry that is not allowed" },
  not_found: { status: 404, title: "No such route" },
  container_not_found: { status: 404, title: "No container for this session" },
  workspace_not_found: { status: 404, title: "No such workspace" },
  file_not_found: { status: 404, title: "No such file in the workspace" },
  export_not_found: { status: 404, title: "No staged export for this workspace; stage it first" },
  not_a_file: { status: 409, title: "The path is not a regular file" },
  container_exists: { status: 409, title: "This session already has a container for another workspace or tenant" },
  container_not_running: { status: 409, title: "The session's container is not running" },
  workspace_in_use: { status: 409, title: "The workspace is used by a container" },
  workspace_conflict: { status: 409, title: "The workspace belongs to another tenant" },
  workspace_exists: { status: 409, title: "A verified restore needs a workspace that does not exist yet" },
  gpus_unavailable: { status: 409, title: "Not enough free GPUs of the requested type" },
  upload_offset_mismatch: { status: 409, title: "The append offset is not the file's current size" },
  length_required: { status: 411, title: "Content-Length is required" },
  range_not_satisfiable: { status: 416, title: "The requested range is outside the file" },
  upgrade_required: { status: 426, title: "This endpoint is a WebSocket" },
  image_unavailable: { status: 422, title: "The image is not present on this host" },
  archive_checksum_mismatch: { status: 422, title: "The archive's SHA-256 is not the one announced; the workspace was deleted" },
  container_start_failed: { status: 502, title: "The container could not be started" },
  docker_unavailable: { status: 503, title: "The Docker engine is not reachable" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ProvisionerError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERROR_CODES[code].title, options);
    this.name = "ProvisionerError";
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** The HTTP status of an error from the Docker Engine API (dockerode puts it on `statusCode`). */
export function dockerStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number") {
    return error.statusCode;
  }
  return undefined;
}

/** True when the Docker socket itself could not be reached (daemon down, socket missing). */
export function isDockerUnreachable(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES" || code === "ECONNRESET";
}
