/** The email adapter: account and billing emails (policy §2), sent only through Cloudflare's send_email binding. */
import type { Log } from "../log";
import type { Email } from "./templates";

export { accountEmails, billingEmails, type Email, type EmailKind, noticeEmails } from "./templates";

export interface Mailer {
  /** Sends after the response (waitUntil): the answer's timing never depends on whether mail went out. */
  send(to: string, email: Email): void;
}

export function mailer(binding: SendEmail, from: string, log: Log, waiter: { waitUntil(promise: Promise<unknown>): void }): Mailer {
  return {
    send(to, email) {
      waiter.waitUntil(
        binding.send({ from: { name: "Ozekai", email: from }, to, subject: email.subject, text: email.text, headers: { "X-Ozekai-Email-Kind": email.kind } }).catch((error: unknown) => {
          // The address is personal data and the body holds tokens: log neither.
          log.warn("email_failed", { kind: email.kind, error: error instanceof Error ? error.name : "unknown" });
        }),
      );
    },
  };
}
