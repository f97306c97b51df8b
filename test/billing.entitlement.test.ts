/**
 * The entitlement matrix (workers/domain/plans.ts sessionRestrictions), through the account view
 * and POST /v1/sessions, which share it: active, trialing, past_due within and after the grace
 * period, canceled, admin-granted, none.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, testEnv } from "./harness";
import { setSubscription } from "./billing-harness";

const DAY = 86_400_000;
const grant = (userId: string) => env.DB.prepare("update users set plan_id = 'cpu-small' where id = ?").bind(userId).run();
const account = async (token: string, options: { env?: Cloudflare.Env } = {}) => (await call("GET", "/v1/account", { token, ...options })).json;

describe("entitlement matrix", () => {
  it.each([
    ["active", null],
    ["trialing", null],
    ["past_due", Date.now() - 2 * DAY],
  ])("%s subscription: sessions may start", async (status, pastDueSince) => {
    const user = await createUser();
    await setSubscription(user.id, { status, pastDueSince });
    expect(await account(user.accessToken)).toMatchObject({ planId: "cpu-small", canStartSessions: true, restrictions: [] });
  });

  it.each([
    ["past_due after the grace period", "past_due", Date.now() - 4 * DAY, 402, "subscription_past_due"],
    ["unpaid", "unpaid", null, 402, "subscription_past_due"],
    ["canceled", "canceled", null, 402, "subscription_canceled"],
    ["incomplete (first payment pending)", "incomplete", null, 402, "no_plan"],
  ] as const)("%s: refused with a 402 problem", async (_label, status, pastDueSince, httpStatus, code) => {
    const user = await createUser();
    await setSubscription(user.id, { status, pastDueSince });
    expect(await account(user.accessToken)).toMatchObject({ canStartSessions: false, restrictions: [code] });
    expectProblem(await call("POST", "/v1/sessions", { token: user.accessToken }), httpStatus, code);
  });

  it("the grace period is configurable (BILLING_GRACE_DAYS)", async () => {
    const user = await createUser();
    await setSubscription(user.id, { status: "past_due", pastDueSince: Date.now() - 2 * DAY });
    expect((await account(user.accessToken, { env: { ...testEnv(), BILLING_GRACE_DAYS: "1" } })).restrictions).toEqual(["subscription_past_due"]);
    expect((await account(user.accessToken, { env: { ...testEnv(), BILLING_GRACE_DAYS: "7" } })).restrictions).toEqual([]);
  });

  it("an admin-granted plan allows sessions, even beside a canceled subscription", async () => {
    const user = await createUser();
    await grant(user.id);
    expect(await account(user.accessToken)).toMatchObject({ planId: "cpu-small", canStartSessions: true });
    await setSubscription(user.id, { status: "canceled" });
    expect(await account(user.accessToken)).toMatchObject({ planId: "cpu-small", canStartSessions: true, restrictions: [] });
  });

  it("no plan and no subscription: 402 no_plan", async () => {
    const user = await createUser();
    expect(await account(user.accessToken)).toMatchObject({ planId: null, canStartSessions: false, restrictions: ["no_plan"] });
    expectProblem(await call("POST", "/v1/sessions", { token: user.accessToken }), 402, "no_plan");
  });

  it("an unverified email comes first, whatever the subscription", async () => {
    const user = await createUser({ verified: false });
    await setSubscription(user.id, { status: "active" });
    expect((await account(user.accessToken)).restrictions).toEqual(["email_unverified"]);
  });
});
