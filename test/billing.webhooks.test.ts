/**
 * POST /webhooks/stripe: signed with real HMAC-SHA-256, applied once, in order, storing only ids,
 * status, plan and period end (policy §1) — never the addresses Stripe's payloads carry.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, outbox, randomId, testEnv } from "./harness";
import { billingRow, deliver, dumpAllTables, linkCustomer, putSubscription, stripeEvent, stripeRequests, stripeSignature, subscriptionObject } from "./billing-harness";

const eventsOf = async (userId: string) => (await env.DB.prepare("select event_id, type from stripe_events where user_id = ?").bind(userId).all()).results;
const now = () => Math.floor(Date.now() / 1000);

async function subscribedCustomer() {
  const user = await createUser();
  const customer = await linkCustomer(user.id);
  return { user, customer, subscription: `sub_${randomId()}` };
}

describe("signature", () => {
  it("applies a correctly signed event", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    const res = await deliver(stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: subscription, customer, status: "active", periodEnd: 1_900_000_000 }) }));
    expect(res.status, res.text).toBe(200);
    expect(await billingRow(user.id)).toMatchObject({ stripe_subscription_id: subscription, subscription_status: "active", plan_id: "cpu-small", current_period_end: 1_900_000_000_000 });
    const account = await call("GET", "/v1/account", { token: user.accessToken });
    expect(account.json).toMatchObject({ planId: "cpu-small", canStartSessions: true, restrictions: [] });
  });

  it("refuses unsigned, wrongly signed, stale, future-tampered and malformed deliveries with 400, changing nothing", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    const event = stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: subscription, customer, status: "active" }) });
    const body = JSON.stringify(event);
    const attempts = [
      await deliver(event, { signature: null }),
      await deliver(event, { signature: await stripeSignature(body, { secret: "whsec_not_the_endpoint_secret" }) }),
      await deliver(event, { signature: "t=1,v1=deadbeef" }),
      await deliver(event, { timestamp: now() - 301 }), // Stripe's 5-minute tolerance
      // Signed, then altered: the signature covers the raw bytes.
      await deliver(event, { signature: await stripeSignature(body), rawBody: body.replace('"active"', '"trialing"') }),
      await deliver(undefined, { rawBody: "{not json" }),
    ];
    for (const res of attempts) expectProblem(res, 400, "webhook_invalid");
    expect(await billingRow(user.id)).toMatchObject({ stripe_subscription_id: null, subscription_status: null });
    expect(await eventsOf(user.id)).toEqual([]);
  });

  it("refuses a signed event whose object lacks what its type needs", async () => {
    const { user, customer } = await subscribedCustomer();
    expectProblem(await deliver(stripeEvent({ type: "customer.subscription.updated", object: { customer, status: "bogus" } })), 400, "webhook_invalid");
    expect(await eventsOf(user.id)).toEqual([]);
  });

  it("has its own body limit and needs no bearer token or JSON checks", async () => {
    const res = await deliver(undefined, { rawBody: "x".repeat(300 * 1024) });
    expectProblem(res, 413, "payload_too_large");
  });

  it("answers 503 billing_not_configured without a signing secret", async () => {
    const body = JSON.stringify(stripeEvent({ type: "invoice.paid", object: { customer: "cus_x" } }));
    const res = await call("POST", "/webhooks/stripe", { rawBody: body, headers: { "Stripe-Signature": await stripeSignature(body) }, env: { ...testEnv(), STRIPE_WEBHOOK_SECRET: undefined } });
    expectProblem(res, 503, "billing_not_configured");
  });
});

describe("exactly once, in order", () => {
  it("the same event delivered 50 times leaves the same state and one event row, and emails once", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    await deliver(stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: subscription, customer, status: "active" }), created: now() - 60 }));
    const failed = stripeEvent({ type: "invoice.payment_failed", object: { id: `in_${randomId()}`, customer, subscription } });
    const results = await Promise.all(Array.from({ length: 50 }, () => deliver(failed)));
    for (const res of results) expect(res.status, res.text).toBe(200);
    expect(await eventsOf(user.id)).toHaveLength(2);
    const row = await billingRow(user.id);
    expect(row).toMatchObject({ subscription_status: "past_due", past_due_since: failed.created * 1000 });
    expect(outbox.filter((m) => m.to === user.email && m.subject === "Your payment failed")).toHaveLength(1);
    expect(outbox.find((m) => m.to === user.email && m.subject === "Your payment failed")?.headers?.["X-Ozekai-Email-Kind"]).toBe("billing");
  });

  it("events in reverse order end in the state of the newest", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    const t = now() - 100;
    const events = [
      stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: subscription, customer, status: "trialing", periodEnd: 1_800_000_000 }), created: t }),
      stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscription, customer, status: "active", periodEnd: 1_800_000_000 }), created: t + 10 }),
      stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscription, customer, status: "past_due", periodEnd: 1_850_000_000 }), created: t + 20 }),
      stripeEvent({ type: "customer.subscription.deleted", object: subscriptionObject({ id: subscription, customer, status: "canceled", periodEnd: 1_850_000_000 }), created: t + 30 }),
    ];
    for (const event of [...events].reverse()) expect((await deliver(event)).status).toBe(200);
    expect(await billingRow(user.id)).toMatchObject({ subscription_status: "canceled", current_period_end: 1_850_000_000_000, last_event_at: (t + 30) * 1000 });
    expect(await eventsOf(user.id)).toHaveLength(4);
    expect(outbox.filter((m) => m.to === user.email && m.subject === "Your subscription has ended")).toHaveLength(1);

    // The same four in order give the same final state.
    const other = await subscribedCustomer();
    for (const event of events) {
      const again = { ...event, id: `evt_${randomId()}`, data: { object: { ...event.data.object, customer: other.customer } } };
      await deliver(again);
    }
    expect(await billingRow(other.user.id)).toMatchObject({ subscription_status: "canceled", current_period_end: 1_850_000_000_000 });
  });

  it("two events of the same second end in Stripe's current state, in either order (fake Stripe serves the subscription)", async () => {
    // `created` counts seconds: two changes within one cannot be ordered by it. Here Stripe made the
    // subscription past_due, then active again, within the second; it holds the active one now.
    const t = now() - 50;
    for (const order of ["as made", "reversed"] as const) {
      const { user, customer, subscription } = await subscribedCustomer();
      const pastDue = stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscription, customer, status: "past_due", periodEnd: 1_800_000_000 }), created: t });
      const active = stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscription, customer, status: "active", periodEnd: 1_850_000_000 }), created: t });
      await putSubscription(subscriptionObject({ id: subscription, customer, status: "active", periodEnd: 1_850_000_000 }));
      for (const event of order === "as made" ? [pastDue, active] : [active, pastDue]) {
        const res = await deliver(event);
        expect(res.status, res.text).toBe(200);
        expect(res.json.outcome).toBe("applied");
      }
      expect(await billingRow(user.id), order).toMatchObject({ subscription_status: "active", current_period_end: 1_850_000_000_000, past_due_since: null, last_event_at: t * 1000 });
      expect(await eventsOf(user.id)).toHaveLength(2);
      // The second delivery tied with the first: the subscription was read back, once.
      const reads = (await stripeRequests()).filter((r) => r.method === "GET" && r.path === `/v1/subscriptions/${subscription}`);
      expect(reads, order).toHaveLength(1);
    }
  });

  it("a tie that cannot be read back from Stripe answers 502 and records nothing, so Stripe's redelivery applies it", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    const t = now() - 40;
    await deliver(stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: subscription, customer, status: "trialing" }), created: t }));
    const active = stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscription, customer, status: "active" }), created: t });
    await putSubscription(subscriptionObject({ id: subscription, customer, status: "active" }));
    expectProblem(await deliver(active, { env: { ...testEnv(), STRIPE_API_BASE: env.TEST_FAILING_STRIPE_URL } }), 502, "stripe_unavailable");
    expect(await eventsOf(user.id)).toHaveLength(1);
    expect((await billingRow(user.id))!.subscription_status).toBe("trialing");
    expect((await deliver(active)).status).toBe(200);
    expect((await billingRow(user.id))!.subscription_status).toBe("active");
    expect(await eventsOf(user.id)).toHaveLength(2);
  });

  it("invoice.paid ends past_due; checkout completion fills the subscription without overriding newer state", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    await deliver(stripeEvent({ type: "checkout.session.completed", object: { id: `cs_${randomId()}`, customer, subscription, payment_status: "paid", metadata: { plan_id: "cpu-small" } } }));
    expect(await billingRow(user.id)).toMatchObject({ stripe_subscription_id: subscription, subscription_status: "active", plan_id: "cpu-small" });
    await deliver(stripeEvent({ type: "invoice.payment_failed", object: { customer }, created: now() - 20 }));
    expect((await billingRow(user.id))!.subscription_status).toBe("past_due");
    await deliver(stripeEvent({ type: "invoice.paid", object: { customer }, created: now() - 10 }));
    expect(await billingRow(user.id)).toMatchObject({ subscription_status: "active", past_due_since: null });
    // A late checkout completion changes nothing that is known.
    await deliver(stripeEvent({ type: "checkout.session.completed", object: { customer, subscription: "sub_other", payment_status: "paid" }, created: now() - 300 }));
    expect(await billingRow(user.id)).toMatchObject({ stripe_subscription_id: subscription, subscription_status: "active" });
  });
});

describe("acknowledged and ignored", () => {
  it("an unknown event type gets 2xx and changes nothing", async () => {
    const id = `evt_${randomId()}`;
    const res = await deliver(stripeEvent({ id, type: "charge.refund.updated", object: { id: `re_${randomId()}`, customer: `cus_${randomId()}` } }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ received: true, outcome: "ignored" });
    expect(await dumpAllTables()).not.toContain(id);
  });

  it("an unknown customer gets 2xx, is logged, and nothing is created", async () => {
    const customer = `cus_${randomId()}`;
    const res = await deliver(stripeEvent({ type: "customer.subscription.created", object: subscriptionObject({ id: `sub_${randomId()}`, customer, status: "active" }) }));
    expect(res.status).toBe(200);
    expect(res.json.outcome).toBe("unknown_customer");
    expect(await dumpAllTables()).not.toContain(customer);
  });
});

describe("policy §1: addresses in payloads are never stored", () => {
  it("stores ids, status, plan and period end, and none of the address or card fields", async () => {
    const { user, customer, subscription } = await subscribedCustomer();
    const marker = randomId();
    const address = { line1: `${marker} Fake Street 1`, line2: `Apt ${marker}`, city: `City${marker}`, postal_code: `P${marker}`, state: "NY", country: "US" };
    const details = { address, email: `billing-${marker}@example.com`, name: `Name ${marker}`, phone: `+1555${marker}` };
    const checkout = {
      id: `cs_${randomId()}`,
      customer,
      subscription,
      payment_status: "paid",
      customer_details: details,
      shipping_details: { address, name: `Ship ${marker}` },
      metadata: { plan_id: "cpu-small" },
    };
    const sub = { ...subscriptionObject({ id: subscription, customer, status: "active" }), default_payment_method: { billing_details: details, card: { last4: "4242", brand: "visa", fingerprint: `fp${marker}` } } };
    const inv = { customer, customer_address: address, customer_shipping: { address }, customer_name: `Inv ${marker}`, customer_phone: `+1666${marker}` };
    for (const res of [
      await deliver(stripeEvent({ type: "checkout.session.completed", object: checkout, created: now() - 30 })),
      await deliver(stripeEvent({ type: "customer.subscription.updated", object: sub, created: now() - 20 })),
      await deliver(stripeEvent({ type: "invoice.payment_failed", object: inv, created: now() - 10 })),
      await deliver(stripeEvent({ type: "invoice.paid", object: inv })),
    ]) {
      expect(res.status, res.text).toBe(200);
    }
    expect(await billingRow(user.id)).toMatchObject({ stripe_customer_id: customer, stripe_subscription_id: subscription, subscription_status: "active" });
    const dump = await dumpAllTables();
    expect(dump).toContain(customer);
    for (const needle of [marker, "Fake Street"]) expect(dump, needle).not.toContain(needle);
  });
});
