/** Email adapter: account and billing emails, sent only through Cloudflare's send_email binding. */
export { accountEmails, billingEmails, type Email, type EmailKind, sendEmail } from "./templates";
