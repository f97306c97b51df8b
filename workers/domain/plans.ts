/**
 * The plan catalog: what a session's container is given. A minimal one until billing (issue 4)
 * sells plans through Stripe; today an admin grants a plan by setting `users.plan_id`.
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
  pricePerHourCents: number;
}

export const PLANS: readonly Plan[] = [
  // CPU only: local development and tests on machines without NVIDIA GPUs.
  { id: "cpu-small", name: "CPU small", gpuType: null, gpuCount: 0, cpus: 1, memoryMb: 512, pidsLimit: 256, pricePerHourCents: 5 },
  { id: "h100-1", name: "1 × H100", gpuType: "H100", gpuCount: 1, cpus: 16, memoryMb: 128 * 1024, pidsLimit: 4096, pricePerHourCents: 250 },
  { id: "h100-8", name: "8 × H100", gpuType: "H100", gpuCount: 8, cpus: 128, memoryMb: 1024 * 1024, pidsLimit: 32_768, pricePerHourCents: 1900 },
];

export const findPlan = (id: string | null | undefined): Plan | undefined => (id ? PLANS.find((plan) => plan.id === id) : undefined);

/** Why an account may not start GPU sessions; each reason is also the error code connect answers with. */
export type SessionRestriction = "email_unverified" | "no_plan";

/**
 * The entitlement check, shared by connect and the account view so both say the same thing.
 * Billing (issue 4) plugs its subscription check in here.
 */
export function sessionRestrictions(user: { emailVerifiedAt: Date | null; planId: string | null }): SessionRestriction[] {
  const restrictions: SessionRestriction[] = [];
  if (!user.emailVerifiedAt) restrictions.push("email_unverified");
  if (!findPlan(user.planId)) restrictions.push("no_plan");
  return restrictions;
}
