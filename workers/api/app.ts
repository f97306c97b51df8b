import { OpenAPIHono } from "@hono/zod-openapi";
import { AppError } from "../domain/errors";
import type { HonoEnv } from "./types";

/**
 * The one app factory: every router validates and fails the same way. Validation errors are
 * field-level problems and never echo the submitted values (they may be passwords).
 */
export const newApp = () =>
  new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const fields = result.error.issues.map((issue) => ({ field: issue.path.join(".") || "(body)", message: issue.message }));
        throw new AppError("validation_failed", "Some fields are not valid; see `errors`.", { fields });
      }
    },
  });
