/**
 * Entitlement for RUNNING sessions: once a past-due subscription's grace period is over (or
 * the subscription ended), the every-minute cron disconnects the session and sends a billing email;
 * within the grace period, or with an admin-granted plan, it keeps running. Against the real
 * provisioner, with a controlled clock.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/index";
import { setSubscription } from "./billing-harness";
import { createUser, outbox, testEnv } from "./harness";
import { connect, containersOf, grantPlan, sessionRowsOf, track } from "./provisioner-harness";

const DAY = 86_400_000;

async function tick(scheduledTime = Date.now()) {
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), testEnv(), ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

const pastDue = (userId: string, since: number) =>
  env.DB.prepare("update billing_accounts set subscription_status = 'past_due', past_due_since = ? where user_id = ?").bind(since, userId).run();

async function subscribedAndConnected() {
  const user = track(await createUser());
  await setSubscription(user.id, { status: "active" });
  const res = await connect(user);
  expect(res.status, res.text).toBe(201);
  return { user, sessionId: res.json.id as string };
}

const stateOf = async (userId: string, sessionId: string) => (await sessionRowsOf(userId)).find((row) => row.id === sessionId)?.state;
const stoppedMails = (to: string) => outbox.filter((m) => m.to === to && /stopped/.test(m.subject));

describe("billing enforcement of running sessions (every-minute cron)", () => {
  it("keeps a session within the past-due grace period, disconnects it after, and says so by a billing email", async () => {
    const { user, sessionId } = await subscribedAndConnected();
    await pastDue(user.id, Date.now() - 2 * DAY);
    await tick();
    expect(await stateOf(user.id, sessionId)).toBe("running");
    expect(stoppedMails(user.email)).toHaveLength(0);

    await pastDue(user.id, Date.now() - 4 * DAY);
    await tick();
    expect(await stateOf(user.id, sessionId)).toBe("ended");
    expect(await containersOf(user.id)).toHaveLength(0);
    const mails = stoppedMails(user.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.headers?.["X-Ozekai-Email-Kind"]).toBe("billing");

    await tick(); // a repeated tick sends nothing more
    expect(stoppedMails(user.email)).toHaveLength(1);
  });

  it("disconnects a session whose subscription was canceled", async () => {
    const { user, sessionId } = await subscribedAndConnected();
    await env.DB.prepare("update billing_accounts set subscription_status = 'canceled' where user_id = ?").bind(user.id).run();
    await tick();
    expect(await stateOf(user.id, sessionId)).toBe("ended");
  });

  it("leaves an admin-granted plan running beside a canceled subscription", async () => {
    const user = track(await createUser());
    await grantPlan(user.id);
    await setSubscription(user.id, { status: "canceled" });
    const res = await connect(user);
    expect(res.status, res.text).toBe(201);
    await tick();
    expect(await stateOf(user.id, res.json.id)).toBe("running");
  });
});
