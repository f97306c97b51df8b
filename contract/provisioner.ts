/**
 * The Worker ↔ provisioner contract (ARCHITECTURE "Worker ↔ provisioner", docs/provisioner.md):
 * the bodies each side sends and the host's error codes; the request tokens are
 * `provisioner-token.ts`. The Worker, the provisioner and the tests import this one module, so the
 * two sides cannot drift. No imports but zod: the provisioner runs this file under Node as it is.
 */
import { z } from "zod";

// ── Ids and resources ───────────────────────────────────────────────────────────────────────────

/** Session, workspace and tenant ids: they end up in Docker names and label filters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const IdSchema = z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");

/** A Docker image reference such as `ozekai/workspace:local` or `repo/name@sha256:...`. */
const ImageSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._/:@-]*$/i, "must be a Docker image reference");

/** The most a workspace may hold, in MiB: the size of its disk on the host. */
export const WorkspaceMbSchema = z.number().int().min(64).max(64 * 1024 * 1024);

/** On `PUT /v1/workspaces/{id}/archive`: the size of the workspace the import creates (a restore gives the plan's). */
export const WORKSPACE_MB_HEADER = "X-Workspace-Mb";

/** What a session's container is given: the plan's resources. */
export const PlanSchema = z
  .object({
    gpuCount: z.number().int().min(0).max(16),
    gpuType: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/)
      .optional(),
    cpus: z.number().positive().max(512),
    memoryMb: z.number().int().min(64).max(4 * 1024 * 1024),
    pidsLimit: z.number().int().min(16).max(1_000_000),
    /** Its workspace's size; the host picks one when absent. A larger size grows the disk, a smaller one leaves it. */
    workspaceMb: WorkspaceMbSchema.optional(),
  })
  .strict()
  .refine((plan) => plan.gpuCount === 0 || plan.gpuType !== undefined, {
    message: "gpuType is required when gpuCount > 0",
    path: ["gpuType"],
  });
export type Plan = z.infer<typeof PlanSchema>;

// ── Containers ──────────────────────────────────────────────────────────────────────────────────

/** The public keys sshd lets in (`TYPE BASE64 [comment]` lines): on a create, and `PUT /v1/containers/{sessionId}/ssh` to replace them in a running session. */
export const SshSchema = z.object({ authorizedKeys: z.array(z.string().max(8192)).max(100) }).strict();

/** `POST /v1/containers`. */
export const CreateContainerSchema = z
  .object({
    sessionId: IdSchema,
    workspaceId: IdSchema,
    tenantId: IdSchema,
    /** One of the host's own PROVISIONER_IMAGES: a host runs only images its operator allowed. */
    image: ImageSchema,
    plan: PlanSchema,
    /** false: create only. A GPU host starts every container; tests on hosts without NVIDIA create only. */
    start: z.boolean().default(true),
    /**
     * SSH into the session (provisioner/src/containers/ssh.ts): once the container runs, sshd is
     * started in it for the session's user with these public keys (the account's of the moment).
     * Absent: no sshd.
     */
    ssh: SshSchema.optional(),
  })
  .strict();
export type CreateContainerInput = z.infer<typeof CreateContainerSchema>;

/** A session's container as the host describes it (`GET /v1/containers[/{sessionId}]`). */
export const ContainerSchema = z.object({
  sessionId: z.string(),
  workspaceId: z.string(),
  /** The user the container was made for (its network); the reconcile job checks it. */
  tenantId: z.string().optional(),
  containerId: z.string(),
  /** Docker's state: created, running, exited, … */
  state: z.string(),
  gpus: z.array(z.string()),
  /** On a create with `ssh`: the workspace's SSH host public key (`ssh-ed25519 AAAA…`); null when the image has no SSH server or sshd did not start. */
  sshHostKey: z.string().nullable().optional(),
});
export type Container = z.infer<typeof ContainerSchema>;

/** `{"type":"resize","cols":N,"rows":N}` text frames on the shell WebSocket. */
export const ShellResizeSchema = z
  .object({
    type: z.literal("resize"),
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  })
  .strict();

// ── Exec and port forwards (docs/decisions/0022-exec-transport.md, 0023-port-forwarding.md) ────

/**
 * A command run without a terminal: `argv` as the program receives it (no shell reads it). Bounded
 * below Linux's own limits (128 KiB per argument, 2 MiB with the environment); no NUL, which no
 * argument can carry.
 */
export const EXEC_LIMITS = { args: 1024, argBytes: 32 * 1024, totalBytes: 128 * 1024 } as const;
const utf8Length = (text: string) => new TextEncoder().encode(text).length;
const ArgSchema = z
  .string()
  .refine((arg) => !arg.includes("\0"), "must not contain NUL")
  .refine((arg) => utf8Length(arg) <= EXEC_LIMITS.argBytes, `must be at most ${EXEC_LIMITS.argBytes} bytes`);

/** The first frame of an exec, a text frame: `{"type":"start","argv":["python","train.py"]}`. */
export const ExecStartSchema = z
  .object({
    type: z.literal("start"),
    argv: z
      .array(ArgSchema)
      .min(1)
      .max(EXEC_LIMITS.args)
      .refine((argv) => argv[0] !== "", "argv[0], the program, must not be empty")
      .refine((argv) => argv.reduce((sum, arg) => sum + utf8Length(arg), 0) <= EXEC_LIMITS.totalBytes, `must be at most ${EXEC_LIMITS.totalBytes} bytes in all`),
  })
  .strict();

/** `{"type":"eof"}` text frame: the client's side is done (an exec's stdin closes; a forward half-closes its TCP stream). */
export const EofSchema = z.object({ type: z.literal("eof") }).strict();

/** The exec's last frame before the close (1000): `{"type":"exit","exitCode":N}` (128 + n after signal n, as a shell reports it). */
export const ExecExitSchema = z.object({ type: z.literal("exit"), exitCode: z.number().int() }).strict();

/** The first byte of an exec's binary frames: which stream the rest of the frame belongs to. */
export const EXEC_CHANNEL = { stdin: 0, stdout: 1, stderr: 2 } as const;

/**
 * Close codes of the session sockets (shell, exec, forward), the same on both hops: named after
 * the HTTP status they resemble. The Worker adds 4401 (the sign-in ended) and 4408 (the maximum
 * lifetime); 1000 is a normal end (the command exited, the connection closed).
 */
export const SOCKET_CLOSE = {
  /** A frame that breaks the protocol: a bad or missing start frame, an unknown control frame. */
  protocolError: 4400,
  /** The container's end of a forwarded connection failed (reset, unreachable). */
  upstreamFailed: 4502,
} as const;

/**
 * A TCP port of a container as a path segment: 1–65535 in plain decimal (no sign, leading zero,
 * exponent or hex), one pattern for the API, the host and the OpenAPI document. Any port: a
 * forward reaches only the session's own container, on its tenant network.
 */
export const PORT_PATTERN = /^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/;
export const PortSchema = z.string().regex(PORT_PATTERN, "must be a port number, 1-65535").transform(Number);

// ── Workspaces: files and cold-storage exports ──────────────────────────────────────────────────

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

/** A file written or hashed in a workspace. */
export const StoredFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative().describe("The file's size in bytes after this request"),
  sha256: Sha256Schema.describe("SHA-256 (hex) of the bytes this request carried: the whole file unless appending"),
});
export type StoredFile = z.infer<typeof StoredFileSchema>;

/** `PUT /v1/workspaces/{id}/unpack[/{path}]`: a tar unpacked into a directory, with every file it wrote. */
export const UnpackedArchiveSchema = z.object({
  path: z.string().describe("The directory unpacked into, relative to the workspace root ('' for the root)"),
  entries: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().describe("The bytes of the files written"),
  files: z.array(StoredFileSchema).describe("Every file written, with the SHA-256 of its bytes as the host wrote them"),
});
export type UnpackedArchive = z.infer<typeof UnpackedArchiveSchema>;

/**
 * `GET /v1/workspaces/{id}/pack[/{path}]`: a directory as a tar stream whose last entry, named this,
 * is `{ "files": [{ path, size, sha256 }] }`, every regular file and hard link of the stream with the
 * SHA-256 of its bytes as the host sent them. Its name has no '/', while every other entry is
 * under the directory's own name: a reader tells it apart by that (docs/decisions/0034).
 */
export const PACK_MANIFEST = ".ozekai-manifest.json";

/** `GET /v1/workspaces/{id}/tree[/{path}]`: entries per answer, by default and at most (each is one stat on the host). */
export const TREE_DEFAULT_LIMIT = 200;
export const TREE_MAX_LIMIT = 1000;

/** One entry of a directory; a symbolic link is reported as one (with where it points), never followed. */
export const TreeEntrySchema = z.object({
  name: z.string(),
  type: z.enum(["file", "dir", "symlink", "other"]).describe("other: a device, pipe or socket"),
  size: z.number().int().nonnegative().describe("Bytes, for a file; 0 for a directory"),
  mtime: z.string().describe("Last modification, ISO 8601"),
  target: z.string().optional().describe("Where a symbolic link points, as an absolute path inside the container (the workspace is /workspace); never followed"),
});
export type TreeEntry = z.infer<typeof TreeEntrySchema>;

/** `DELETE /v1/workspaces/{id}/files/{path}`: what was removed. */
export const RemovedPathSchema = z.object({ path: z.string(), type: TreeEntrySchema.shape.type });
export type RemovedPath = z.infer<typeof RemovedPathSchema>;

/** A directory's entries in name order (UTF-16 code units, as JavaScript sorts), one page of them. */
export const DirectoryListingSchema = z.object({
  path: z.string().describe("The directory listed, relative to the workspace root; empty for the root"),
  entries: z.array(TreeEntrySchema),
  total: z.number().int().nonnegative().describe("Entries in the directory"),
  truncated: z.boolean().describe("More entries follow: ask again with after=next"),
  next: z.string().nullable().describe("The last name of this page: the `after` of the next one; null when none follows"),
});
export type DirectoryListing = z.infer<typeof DirectoryListingSchema>;

/** `POST /v1/workspaces/{id}/exports`: stage a snapshot tar for one archive attempt. */
export const StageExportSchema = z.object({ stageId: IdSchema, partSize: z.number().int().min(64 * 1024).max(5 * 1024 ** 3) }).strict();

/** Its answer: `staging` while the host still writes it, `staged` with the SHA-256 of the whole and of each part. */
export const ExportStageSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("staged"),
    stageId: z.string(),
    partSize: z.number().int().positive(),
    size: z.number().int().nonnegative(),
    sha256: Sha256Schema,
    partHashes: z.array(Sha256Schema).min(1),
  }),
  z.object({ status: z.literal("staging"), stageId: z.string(), stagedBytes: z.number().int().nonnegative() }),
]);
export type ExportStage = z.infer<typeof ExportStageSchema>;

// ── Host metrics ────────────────────────────────────────────────────────────────────────────────

const percent = z.number().finite().nullable();
const count = z.number().finite().nonnegative().nullable();

/** One container in `GET /v1/metrics`: a number the host could not read is null (never estimated). */
export const ContainerMetricsSchema = z.object({
  sessionId: z.string(),
  tenantId: z.string(),
  state: z.string(),
  cpuPercent: percent,
  memoryUsedBytes: count,
  gpus: z.array(z.object({ utilizationPercent: percent, memoryUsedMb: count, memoryTotalMb: count })),
  shell: z.object({ attached: z.number().int().nonnegative() }),
});
export type ContainerMetrics = z.infer<typeof ContainerMetricsSchema>;

export const HostMetricsSchema = z.object({ containers: z.array(ContainerMetricsSchema) });
export type HostMetrics = z.infer<typeof HostMetricsSchema>;

/** `GET /v1/workspaces`: every workspace on the host with its size (null when Docker could not measure it). */
export const WorkspaceSizesSchema = z.object({ workspaces: z.array(z.object({ workspaceId: IdSchema, sizeBytes: z.number().int().nonnegative().nullable() })) });

// ── Errors ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Every failure the host answers is one of these codes (an RFC 9457 problem with `code`); the
 * Worker maps the ones a user can act on into its own codes and never shows the host's.
 */
export const HOST_ERROR_CODES = {
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
  not_a_directory: { status: 409, title: "The path is not a directory" },
  directory_not_empty: { status: 409, title: "The directory is not empty; remove it recursively" },
  permission_denied: { status: 403, title: "The workspace's permissions do not let its user do this" },
  container_exists: { status: 409, title: "This session already has a container for another workspace or tenant" },
  container_not_running: { status: 409, title: "The session's container is not running" },
  workspace_in_use: { status: 409, title: "The workspace is used by a container" },
  workspace_conflict: { status: 409, title: "The workspace belongs to another tenant" },
  workspace_exists: { status: 409, title: "A verified restore needs a workspace that does not exist yet" },
  gpus_unavailable: { status: 409, title: "Not enough free GPUs of the requested type" },
  port_closed: { status: 409, title: "Nothing accepts connections on this port of the container" },
  upload_offset_mismatch: { status: 409, title: "The append offset is not the file's current size" },
  length_required: { status: 411, title: "Content-Length is required" },
  range_not_satisfiable: { status: 416, title: "The requested range is outside the file" },
  upgrade_required: { status: 426, title: "This endpoint is a WebSocket" },
  image_unavailable: { status: 422, title: "The image is not present on this host" },
  workspace_full: { status: 507, title: "The workspace's disk is full: its plan's size is reached" },
  image_not_allowed: { status: 422, title: "The image is not one this host is configured to run" },
  archive_checksum_mismatch: { status: 422, title: "The archive's SHA-256 is not the one announced; the workspace was deleted" },
  container_start_failed: { status: 502, title: "The container could not be started" },
  docker_unavailable: { status: 503, title: "The Docker engine is not reachable" },
  too_many_tokens: { status: 503, title: "The host remembers too many unexpired request tokens to accept another; try again shortly" },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;
export type HostErrorCode = keyof typeof HOST_ERROR_CODES;
