import { createRoute, z } from "@hono/zod-openapi";
import { IMAGES } from "../../domain/plans";
import { newApp } from "../app";
import { jsonResponse } from "../schemas";

const ImageSchema = z
  .object({
    name: z.string().openapi({ description: "What connect's `image` takes", example: "base" }),
    description: z.string(),
    plans: z.array(z.string()).openapi({ description: "The plans (GET /v1/plans ids) whose sessions may run it" }),
    defaultFor: z.array(z.string()).openapi({ description: "The plans whose sessions run it when connect names no image" }),
    jupyter: z.boolean().openapi({ description: "JupyterLab is installed (`ozekai jupyter`)" }),
    ssh: z.boolean().openapi({ description: "An SSH server runs in its sessions (`ozekai ssh`, `ozekai ssh-config`)" }),
  })
  .openapi("Image");

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["sessions"],
  summary: "The image catalog (public): what a session's container may run",
  responses: { 200: jsonResponse(z.object({ images: z.array(ImageSchema) }), "Images") },
});

// Public, like the plan catalog: what a plan can run is part of choosing one, before signing up.
// A host's local reference and how it is built stay the operators' business.
export const imageRoutes = newApp().openapi(listRoute, (c) =>
  c.json({ images: IMAGES.map(({ name, description, plans, defaultFor, jupyter, ssh }) => ({ name, description, plans: [...plans], defaultFor: [...defaultFor], jupyter, ssh })) }, 200),
);
