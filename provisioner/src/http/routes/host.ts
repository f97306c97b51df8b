import { readInventory } from "../../gpus/host.ts";
import { collectMetrics } from "../../metrics.ts";
import type { Services } from "../../services.ts";
import { newRouter } from "../router.ts";

/** What the host has and how it is used: GPU inventory for placement, metrics for usage and idling. */
export function hostRoutes(services: Services) {
  const router = newRouter();
  router.get("/inventory", async (c) => c.json(await readInventory(services)));
  router.get("/metrics", async (c) => c.json(await collectMetrics(services)));
  return router;
}
