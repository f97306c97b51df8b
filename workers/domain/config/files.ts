/** WORKSPACE_FILE_MAX_BYTES: the largest file one upload may make. */
import type { DomainContext } from "../context";

/** Default per-file limit: large enough for model weights and datasets, small enough to fill no host by mistake. */
export const DEFAULT_FILE_MAX_BYTES = 50 * 1024 ** 3;

export function fileMaxBytes(ctx: DomainContext): number {
  const configured = Number(ctx.env.WORKSPACE_FILE_MAX_BYTES);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_FILE_MAX_BYTES;
}
