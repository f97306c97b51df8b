// No imports: Node tools (bench/sessions.ts) load this file as is.

/** A plan's Stripe prices: the subscription's base price and its metered GPU-time price. */
export interface StripePrices {
  base: string;
  usage: string;
}

/**
 * The plan catalog, in one place: what a session's container is given and what it costs. Stripe
 * sells a plan when configuration gives it prices (`planCatalog`); an admin may also grant one by
 * setting `users.plan_id`.
 */
export interface Plan {
  id: string;
  name: string;
  /** GPU model as the provisioner names it from nvidia-smi ("H100"); null for a CPU-only plan. */
  gpuType: string | null;
  gpuCount: number;
  cpus: number;
  memoryMb: number;
  pidsLimit: number;
  /** The most the workspace may hold, in MiB: the size of its disk on the host (a larger plan grows it). */
  workspaceMb: number;
  pricePerHourCents: number;
}

export const PLANS: readonly Plan[] = [
  // CPU only: local development and tests on machines without NVIDIA GPUs.
  { id: "cpu-small", name: "CPU small", gpuType: null, gpuCount: 0, cpus: 1, memoryMb: 512, pidsLimit: 256, workspaceMb: 10 * 1024, pricePerHourCents: 5 },
  { id: "h100-1", name: "1 × H100", gpuType: "H100", gpuCount: 1, cpus: 16, memoryMb: 128 * 1024, pidsLimit: 4096, workspaceMb: 500 * 1024, pricePerHourCents: 250 },
  { id: "h100-8", name: "8 × H100", gpuType: "H100", gpuCount: 8, cpus: 128, memoryMb: 1024 * 1024, pidsLimit: 32_768, workspaceMb: 4 * 1024 * 1024, pricePerHourCents: 1900 },
];

export const findPlan = (id: string | null | undefined): Plan | undefined => (id ? PLANS.find((plan) => plan.id === id) : undefined);

/** A plan as sold: the catalog entry and its Stripe prices (null when this deployment does not sell it). */
export interface CatalogPlan extends Plan {
  stripePrices: StripePrices | null;
}

/** The catalog `GET /v1/plans` serves and checkout sells from: PLANS plus the configured Stripe prices. */
export const planCatalog = (prices: Record<string, StripePrices>): CatalogPlan[] => PLANS.map((plan) => ({ ...plan, stripePrices: prices[plan.id] ?? null }));

/** The plan whose base subscription price is `priceId`. */
export const planForPrice = (prices: Record<string, StripePrices>, priceId: string): Plan | undefined =>
  PLANS.find((plan) => prices[plan.id]?.base === priceId || prices[plan.id]?.usage === priceId);

