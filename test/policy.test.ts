/**
 * Promises of the privacy policy not covered by a route's own tests: only account and billing
 * emails exist (§2, no marketing), they leave through the send_email binding (§4), and signup
 * records the accepted policy version (§11) and an 18+ confirmation rather than a birth date (§10).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountEmails } from "../workers/adapters/email";
import { call, createUser, outbox } from "./harness";

describe("policy §2: account and billing emails only", () => {
  it("every email template is of the account or billing kind and says there is no marketing", () => {
    const samples = Object.values(accountEmails).map((make) => (make as (arg: string) => { kind: string; text: string })("https://ozekai.test/x#token=t"));
    expect(samples.length).toBeGreaterThan(5);
    for (const email of samples) {
      expect(["account", "billing"]).toContain(email.kind);
      expect(email.text).toMatch(/never send marketing/);
    }
  });

  it("every email sent in a full account flow went through the send_email binding, tagged with its kind", async () => {
    const before = outbox.length;
    const user = await createUser();
    await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: user.email } });
    const sent = outbox.slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const mail of sent) {
      expect(mail.to).toBe(user.email);
      expect(["account", "billing"]).toContain(mail.headers?.["X-Ozekai-Email-Kind"]);
      expect(mail.subject).not.toMatch(/offer|newsletter|discount|promo/i);
    }
  });
});

describe("policy §10 and §11 at signup", () => {
  it("stores the accepted policy version and an 18+ confirmation time, never a birth date", async () => {
    const user = await createUser();
    const row = await env.DB.prepare("SELECT policy_version, age_confirmed_at FROM users WHERE id = ?")
      .bind(user.id)
      .first<{ policy_version: string; age_confirmed_at: number }>();
    const policy = await call("GET", "/v1/policy");
    expect(row?.policy_version).toBe(policy.json.version);
    expect(row?.age_confirmed_at).toBeGreaterThan(0);
  });
});
