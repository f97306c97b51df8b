import { useEffect, useState } from "preact/hooks";
import type { paths } from "@ozekai/client";
import { api, type Schemas } from "../api";
import { ProblemView } from "../components/problem";
import { useAction, useSignedInLoad } from "../hooks/load";
import { SESSION_KEYS } from "../storage";
import { useTitle } from "../title";

type Plan = Schemas["Plan"];
/** The plan ids checkout takes: the same catalog GET /v1/plans lists. */
type PlanId = NonNullable<paths["/v1/billing/checkout"]["post"]["requestBody"]>["content"]["application/json"]["planId"];
type Billing = Schemas["Billing"];

export const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;
const day = (iso: string | null) => (iso ? new Date(iso).toLocaleDateString() : "—");

/** What the user is told about a subscription's standing, in words. */
function standing(billing: Billing): string {
  if (!billing.status) return billing.planId ? `Plan ${billing.planId}, granted without a subscription.` : "No subscription: choose a plan below.";
  const renews = billing.currentPeriodEnd ? ` The current period ends on ${day(billing.currentPeriodEnd)}.` : "";
  if (billing.status === "past_due" && billing.graceEndsAt)
    return `Your last payment failed. Sessions keep working until ${day(billing.graceEndsAt)}; update your payment method in the billing portal before then.`;
  return `Subscription ${billing.status.replace("_", " ")}${billing.planId ? ` on plan ${billing.planId}` : ""}.${renews}`;
}

/** Back from Stripe: `?checkout=success|canceled`, with the pending plan kept in sessionStorage while the user was away. */
function useCheckoutReturn(reload: () => Promise<void>, billing: Billing | undefined) {
  const [message, setMessage] = useState<string | null>(null);
  const outcome = new URLSearchParams(location.search).get("checkout");
  useEffect(() => {
    const pending = sessionStorage.getItem(SESSION_KEYS.checkout.key);
    if (!outcome) return;
    history.replaceState(null, "", "/billing");
    if (outcome === "canceled") {
      sessionStorage.removeItem(SESSION_KEYS.checkout.key);
      setMessage("Checkout was canceled: nothing was charged.");
      return;
    }
    setMessage(pending ? `Payment received for plan ${pending}. Your plan is active as soon as Stripe confirms it (usually seconds).` : "Payment received.");
    // Stripe's webhook sets the plan: look again a few times, then stop waiting.
    let tries = 0;
    const timer = setInterval(() => {
      if (++tries > 10) clearInterval(timer);
      void reload();
    }, 2000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    const pending = sessionStorage.getItem(SESSION_KEYS.checkout.key);
    if (pending && billing?.planId === pending && billing.status) {
      sessionStorage.removeItem(SESSION_KEYS.checkout.key);
      setMessage(`Plan ${pending} is active. You can connect from the dashboard.`);
    }
  }, [billing]);
  return message;
}

export function BillingPage() {
  useTitle("Plans and billing");
  const plans = useSignedInLoad(() => api.GET("/v1/plans"));
  const billing = useSignedInLoad(() => api.GET("/v1/billing"));
  const message = useCheckoutReturn(billing.reload, billing.data);
  const { busy, problem, act } = useAction();

  const checkout = (plan: Plan) =>
    act(`checkout-${plan.id}`, async () => {
      const answer = await api.POST("/v1/billing/checkout", { body: { planId: plan.id as PlanId } });
      if (answer.data) {
        sessionStorage.setItem(SESSION_KEYS.checkout.key, plan.id);
        location.assign(answer.data.url);
      }
      return answer;
    });
  const portal = () =>
    act("portal", async () => {
      const answer = await api.POST("/v1/billing/portal");
      if (answer.data) location.assign(answer.data.url);
      return answer;
    });

  return (
    <section aria-labelledby="billing-title">
      <h1 id="billing-title">Plans and billing</h1>
      {message && (
        <p class="note" role="status">
          {message}
        </p>
      )}
      <ProblemView problem={problem ?? billing.problem ?? plans.problem} />
      <h2>Your subscription</h2>
      {billing.data === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <p data-testid="billing-standing">{standing(billing.data)}</p>
          {billing.data.hasCustomer && (
            <button type="button" disabled={busy !== null} onClick={portal}>
              {busy === "portal" ? "Opening the billing portal…" : "Payment method, invoices and cancellation (Stripe)"}
            </button>
          )}
        </>
      )}
      <h2>Plans</h2>
      {plans.data === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <table class="table">
          <caption>Every plan: a base price, plus its hourly rate while a session runs</caption>
          <thead>
            <tr>
              <th scope="col">Plan</th>
              <th scope="col">Resources</th>
              <th scope="col">Per hour</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {plans.data.plans.map((plan) => (
              <tr key={plan.id}>
                <th scope="row">{plan.name}</th>
                <td>
                  {plan.gpuCount > 0 ? `${plan.gpuCount} × ${plan.gpuType}, ` : ""}
                  {plan.cpus} CPUs, {plan.memoryMb / 1024} GB memory, {plan.workspaceMb / 1024} GB workspace
                </td>
                <td>{dollars(plan.pricePerHourCents)}</td>
                <td>
                  {billing.data?.planId === plan.id && billing.data?.status ? (
                    "Your plan"
                  ) : plan.purchasable ? (
                    <button type="button" disabled={busy !== null} onClick={() => checkout(plan)} aria-label={`Subscribe to ${plan.name}`}>
                      {busy === `checkout-${plan.id}` ? "Opening checkout…" : "Subscribe"}
                    </button>
                  ) : (
                    "Not sold yet"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="hint">Payment happens on Stripe's own page; we never see your card.</p>
    </section>
  );
}
