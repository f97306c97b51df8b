/**
 * Promises of the privacy policy not covered by a route's own tests: only account, billing and
 * service-notice emails exist (§2, no marketing), they leave through the send_email binding (§4), and signup
 * records the accepted policy version (§11) and an 18+ confirmation rather than a birth date (§10).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountEmails, billingEmails, noticeEmails } from "../workers/adapters/email";
import { call, createUser, outbox } from "./harness";

describe("policy §2: account and billing emails only", () => {
  it("every email template is of the account, billing or notice kind and says there is no marketing", () => {
    // One sample call per template; the types make a new template fail here until it is listed.
    const link = "https://ozekai.test/x#token=t";
    const request = { id: "r-1", kind: "access", state: "completed", dueOn: "2027-01-02", reason: null };
    const args: { [K in keyof typeof accountEmails]: Parameters<(typeof accountEmails)[K]> } & { [K in keyof typeof billingEmails]: Parameters<(typeof billingEmails)[K]> } & {
      [K in keyof typeof noticeEmails]: Parameters<(typeof noticeEmails)[K]>;
    } = {
      verifyAddress: [link],
      signupWithExistingAddress: [link],
      signupUsernameTaken: ["alice"],
      changeAddress: [link],
      addressChanged: ["new@example.test", link],
      emailChangeReverted: [link],
      passwordReset: [link],
      passwordChanged: [],
      sessionIdleDisconnected: [30],
      workspaceDeletionWarning: ["2026-11-01", "2026-12-31"],
      privacyRequestChanged: [request],
      privacyRequestsDue: [[{ id: "r-1", kind: "access", dueOn: "2027-01-02", overdue: true }]],
      databaseNearLimit: [{ percent: 71.5, sizeBytes: 7_150_000_000, limitBytes: 10_000_000_000, largest: [{ table: "usage_samples", rows: 27_000_000 }] }],
      accessLogDeadLetters: [{ objects: 2, lines: 150 }],
      accountDeleted: [],
      accountDeletedMinor: [],
      paymentFailed: ["the billing portal"],
      sessionStoppedUnpaid: [],
      subscriptionEnded: [],
      usageLimit: [80, { month: "2026-12", usedHours: 32, limitHours: 40, action: "notify" }],
      sessionStoppedAtLimit: [{ month: "2026-12", limitHours: 40 }],
      policyChanged: ["2026-12-03", "What changed", "https://ozekai.test/privacy"],
      businessTransfer: ["2026-12-03", "Ozekai is being acquired by Example Corp.", "What changed", "https://ozekai.test/privacy"],
    };
    const templates = { ...accountEmails, ...billingEmails, ...noticeEmails } as Record<string, (...a: unknown[]) => { kind: string; text: string }>;
    expect(Object.keys(templates).sort()).toEqual(Object.keys(args).sort());
    for (const [name, make] of Object.entries(templates)) {
      const email = make(...(args as Record<string, unknown[]>)[name]!);
      expect(["account", "billing", "notice"], name).toContain(email.kind);
      expect(email.text, name).toMatch(/never send marketing/);
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
