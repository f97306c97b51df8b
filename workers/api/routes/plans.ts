import { createRoute, z } from "@hono/zod-openapi";
import { planCatalog } from "../../domain/plans";
import { newApp } from "../app";
import { errorResponses } from "../problem";
import { jsonResponse } from "../schemas";

const PlanSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    gpuType: z.string().nullable(),
    gpuCount: z.number().int(),
    cpus: z.number(),
    memoryMb: z.number().int(),
    workspaceMb: z.number().int().openapi({ description: "The most your workspace may hold, in MiB" }),
    pricePerHourCents: z.number().int(),
    purchasable: z.boolean().openapi({ description: "Sold through Stripe Checkout on this deployment" }),
    stripePrices: z.object({ base: z.string(), usage: z.string() }).nullable().openapi({ description: "Stripe price ids: the subscription and its metered GPU time" }),
  })
  .openapi("Plan");

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["billing"],
  summary: "The plan catalog (public)",
  responses: { 200: jsonResponse(z.object({ plans: z.array(PlanSchema) }), "Plans"), ...errorResponses("not_configured") },
});

export const planRoutes = newApp().openapi(listRoute, (c) =>
  c.json(
    {
      plans: planCatalog(c.get("domain").config.billing.prices).map(({ pidsLimit: _internal, ...plan }) => ({ ...plan, purchasable: plan.stripePrices !== null })),
    },
    200,
  ),
);
