/** Workspace file transfers: the largest file one upload may make. */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

/** Large enough for model weights and datasets, small enough to fill no host by mistake. */
export const DEFAULT_FILE_MAX_BYTES = 50 * 1024 ** 3;

export interface FilesConfig {
  maxBytes: number;
}

const filesEnvSchema = z.object({ WORKSPACE_FILE_MAX_BYTES: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(DEFAULT_FILE_MAX_BYTES) });

export const parseFilesConfig = (env: Env): FilesConfig => ({ maxBytes: parseEnv(filesEnvSchema, env).WORKSPACE_FILE_MAX_BYTES });
