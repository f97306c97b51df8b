/**
 * Plans, checkout, portal and the billing view (against a local fake Stripe that records requests):
 * exactly which fields leave the platform (policy §4: email, our opaque id), failures that change
 * nothing, and the 503 of a deployment without Stripe.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CHECKOUT_CLAIM_MS } from "../workers/domain/billing";
import { PLANS } from "../workers/domain/plans";
import { call, createUser, expectProblem, testEnv } from "./harness";
import { billingRow, setSubscription, stripeRequests } from "./billing-harness";

const checkout = (token: string, planId = "cpu-small", options: { env?: Cloudflare.Env } = {}) => call("POST", "/v1/billing/checkout", { token, body: { planId }, ...options });
const claimOf = (userId: string) => env.DB.prepare("select * from checkout_claims where user_id = ?").bind(userId).first<{ plan_id: string; claimed_at: number; expires_at: number }>();

describe("GET /v1/plans (public)", () => {
  it("serves the one catalog, with the configured Stripe prices", async () => {
    const res = await call("GET", "/v1/plans");
    expect(res.status, res.text).toBe(200);
    expect(res.json.plans.map((p: { id: string }) => p.id)).toEqual(PLANS.map((p) => p.id));
    expect(res.json.plans[0]).toMatchObject({ id: "cpu-small", gpuCount: 0, purchasable: true, stripePrices: { base: "price_cpusmall_base", usage: "price_cpusmall_usage" } });
    expect(res.json.plans.find((p: { id: string }) => p.id === "h100-8")).toMatchObject({ purchasable: false, stripePrices: null });
  });
});

describe("checkout (against a local fake Stripe that records requests)", () => {
  it("403 email_unverified before any Stripe call: a customer is never created under an unproven address", async () => {
    const user = await createUser({ verified: false });
    expectProblem(await checkout(user.accessToken), 403, "email_unverified");
    const all = await stripeRequests();
    expect(all.filter((r) => r.form["metadata[user_id]"] === user.id || r.form.client_reference_id === user.id)).toEqual([]);
    expect(await billingRow(user.id)).toBeNull();
  });

  it("creates the customer with only the email and our account id, then a subscription Checkout with base and metered prices", async () => {
    const user = await createUser();
    const res = await checkout(user.accessToken);
    expect(res.status, res.text).toBe(200);
    expect(res.json.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);

    const all = await stripeRequests();
    const customers = all.filter((r) => r.path === "/v1/customers" && r.form["metadata[user_id]"] === user.id);
    expect(customers).toHaveLength(1);
    // Policy §4: exactly these fields leave the platform to create the customer.
    expect(customers[0]!.form).toEqual({ email: user.email, "metadata[user_id]": user.id });
    expect(customers[0]!.authorized).toBe(true);
    expect(customers[0]!.idempotencyKey).toBe(`ozekai-customer-${user.id}`);

    const row = await billingRow(user.id);
    expect(row).toMatchObject({ stripe_subscription_id: null, subscription_status: null });
    const customerId = row!.stripe_customer_id as string;
    const sessions = all.filter((r) => r.path === "/v1/checkout/sessions" && r.form.customer === customerId);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.form).toEqual({
      mode: "subscription",
      customer: customerId,
      client_reference_id: user.id,
      "line_items[0][price]": "price_cpusmall_base",
      "line_items[0][quantity]": "1",
      "line_items[1][price]": "price_cpusmall_usage",
      "subscription_data[metadata][plan_id]": "cpu-small",
      "metadata[plan_id]": "cpu-small",
      success_url: "https://ozekai.test/billing?checkout=success",
      cancel_url: "https://ozekai.test/billing?checkout=canceled",
      expires_at: expect.stringMatching(/^\d+$/),
    });
    // The page expires with the account's checkout claim, and is made under the claim's key.
    const claim = (await claimOf(user.id))!;
    expect(Number(sessions[0]!.form.expires_at) * 1000).toBe(Math.floor(claim.expires_at / 1000) * 1000);
    expect(claim.expires_at - claim.claimed_at).toBe(CHECKOUT_CLAIM_MS);
    expect(sessions[0]!.idempotencyKey).toBe(`ozekai-checkout-${user.id}-${claim.claimed_at}`);

    // Once the claim is over (the page abandoned), a checkout for another plan reuses the customer.
    await env.DB.prepare("update checkout_claims set expires_at = ? where user_id = ?").bind(Date.now() - 1, user.id).run();
    expect((await checkout(user.accessToken, "h100-1")).status).toBe(200);
    const after = await stripeRequests();
    expect(after.filter((r) => r.path === "/v1/customers" && r.form["metadata[user_id]"] === user.id)).toHaveLength(1);
    expect(after.filter((r) => r.path === "/v1/checkout/sessions" && r.form.customer === customerId).map((r) => r.form["line_items[0][price]"])).toEqual([
      "price_cpusmall_base",
      "price_h1001_base",
    ]);

    const view = await call("GET", "/v1/billing", { token: user.accessToken });
    expect(view.json).toEqual({ hasCustomer: true, planId: null, status: null, currentPeriodEnd: null, graceEndsAt: null });
  });

  it("refuses a plan that is not sold and an account already subscribed", async () => {
    const user = await createUser();
    expectProblem(await checkout(user.accessToken, "h100-8"), 400, "validation_failed");
    expectProblem(await checkout(user.accessToken, "no-such-plan"), 400, "validation_failed");
    await setSubscription(user.id, { status: "active" });
    expectProblem(await checkout(user.accessToken), 409, "already_subscribed");
  });

  it("a Stripe error answers 502 and writes nothing; the retry reuses the same customer key", async () => {
    const user = await createUser();
    const failing = { ...testEnv(), STRIPE_API_BASE: env.TEST_FAILING_STRIPE_URL };
    expectProblem(await checkout(user.accessToken, "cpu-small", { env: failing }), 502, "stripe_unavailable");
    expect(await billingRow(user.id)).toBeNull();
    const tried = (await stripeRequests(env.TEST_FAILING_STRIPE_URL)).filter((r) => r.path === "/v1/customers" && r.form["metadata[user_id]"] === user.id);
    expect(tried[0]!.idempotencyKey).toBe(`ozekai-customer-${user.id}`);
    expect((await checkout(user.accessToken)).status).toBe(200);
    expect(await billingRow(user.id)).not.toBeNull();
  });

  it("a Stripe that never answers times out into 502, writing nothing", async () => {
    const user = await createUser();
    const hanging = { ...testEnv(), STRIPE_API_BASE: env.TEST_HANGING_PROVISIONER_URL, STRIPE_TIMEOUT_SECONDS: "1" };
    expectProblem(await checkout(user.accessToken, "cpu-small", { env: hanging }), 502, "stripe_unavailable");
    expect(await billingRow(user.id)).toBeNull();
  });
});

describe("one open checkout per account (fake Stripe keeps idempotency keys, as Stripe does)", () => {
  const sessionsOf = async (userId: string) => (await stripeRequests()).filter((r) => r.path === "/v1/checkout/sessions" && r.form.client_reference_id === userId);

  it("two checkouts at once open one Checkout Session: both get its page", async () => {
    const user = await createUser();
    const [a, b] = await Promise.all([checkout(user.accessToken), checkout(user.accessToken)]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    expect(b.json.url).toBe(a.json.url);
    // Both requests asked Stripe under the claim's one key, so Stripe made one session.
    const asked = await sessionsOf(user.id);
    expect(new Set(asked.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(await billingRow(user.id)).not.toBeNull();
    expect((await env.DB.prepare("select count(*) as n from account_events where user_id = ? and type = 'billing_customer_created'").bind(user.id).first<{ n: number }>())!.n).toBe(1);
  });

  it("a repeated checkout for the same plan gets the same page; another plan is 409 checkout_in_progress until the claim ends", async () => {
    const user = await createUser();
    const first = await checkout(user.accessToken);
    expect(first.status, first.text).toBe(200);
    expect((await checkout(user.accessToken)).json.url).toBe(first.json.url);
    const other = await checkout(user.accessToken, "h100-1");
    expectProblem(other, 409, "checkout_in_progress");
    const claim = (await claimOf(user.id))!;
    expect(other.json.detail).toContain(new Date(claim.expires_at).toISOString());
    expect((await sessionsOf(user.id)).every((r) => r.form["line_items[0][price]"] === "price_cpusmall_base")).toBe(true);
    // The claim over, the other plan's checkout opens a new page.
    await env.DB.prepare("update checkout_claims set expires_at = ? where user_id = ?").bind(Date.now() - 1, user.id).run();
    const later = await checkout(user.accessToken, "h100-1");
    expect(later.status, later.text).toBe(200);
    expect(later.json.url).not.toBe(first.json.url);
  });
});

describe("portal and billing view", () => {
  it("opens the Customer Portal for the account's own customer only", async () => {
    const user = await createUser();
    expectProblem(await call("POST", "/v1/billing/portal", { token: user.accessToken }), 404, "not_found");
    await checkout(user.accessToken);
    const customerId = (await billingRow(user.id))!.stripe_customer_id as string;
    const res = await call("POST", "/v1/billing/portal", { token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.json.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    const portal = (await stripeRequests()).filter((r) => r.path === "/v1/billing_portal/sessions" && r.form.customer === customerId);
    expect(portal.map((r) => r.form)).toEqual([{ customer: customerId, return_url: "https://ozekai.test/billing" }]);
  });

  it("shows the grace period of a past_due subscription", async () => {
    const user = await createUser();
    const since = Date.now() - 86_400_000;
    await setSubscription(user.id, { status: "past_due", pastDueSince: since });
    const res = await call("GET", "/v1/billing", { token: user.accessToken });
    expect(res.json).toMatchObject({ hasCustomer: true, planId: "cpu-small", status: "past_due", graceEndsAt: new Date(since + 3 * 86_400_000).toISOString() });
  });
});

describe("without Stripe configured", () => {
  it("every billing route answers 503 billing_not_configured; plans still list, none purchasable", async () => {
    const user = await createUser();
    const bare = { ...testEnv(), STRIPE_SECRET_KEY: undefined, STRIPE_PRICE_IDS: undefined };
    expectProblem(await call("GET", "/v1/billing", { token: user.accessToken, env: bare }), 503, "billing_not_configured");
    expectProblem(await checkout(user.accessToken, "cpu-small", { env: bare }), 503, "billing_not_configured");
    expectProblem(await call("POST", "/v1/billing/portal", { token: user.accessToken, env: bare }), 503, "billing_not_configured");
    const plans = await call("GET", "/v1/plans", { env: bare });
    expect(plans.json.plans.every((p: { purchasable: boolean }) => !p.purchasable)).toBe(true);
  });
});
