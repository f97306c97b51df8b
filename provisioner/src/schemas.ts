import { z } from "zod";

/** Session, workspace and tenant ids: they end up in Docker names and label filters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const IdSchema = z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -");

/** A Docker image reference such as `ozekai/workspace:local` or `repo/name@sha256:...`. */
const ImageSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._/:@-]*$/i, "must be a Docker image reference");

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

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
  })
  .strict()
  .refine((plan) => plan.gpuCount === 0 || plan.gpuType !== undefined, {
    message: "gpuType is required when gpuCount > 0",
    path: ["gpuType"],
  });
export type Plan = z.infer<typeof PlanSchema>;

export const CreateContainerSchema = z
  .object({
    sessionId: IdSchema,
    workspaceId: IdSchema,
    tenantId: IdSchema,
    image: ImageSchema,
    plan: PlanSchema,
    env: z
      .record(z.string().regex(ENV_NAME, "must be a shell variable name"), z.string().max(32 * 1024).refine((v) => !v.includes("\0"), "must not contain NUL"))
      .refine((env) => Object.keys(env).length <= 256, "at most 256 variables")
      .optional(),
    /** false: create only. A GPU host starts every container; tests on hosts without NVIDIA create only. */
    start: z.boolean().default(true),
  })
  .strict();
export type CreateContainerInput = z.infer<typeof CreateContainerSchema>;

/** `{"type":"resize","cols":N,"rows":N}` text frames on the shell WebSocket. */
export const ShellResizeSchema = z
  .object({
    type: z.literal("resize"),
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  })
  .strict();
