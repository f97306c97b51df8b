/**
 * Policy §2: only account, billing and service-notice emails exist; a notice tells of a material
 * policy change (§11) or a business transfer (§4). There is no marketing kind, so no code path
 * can send one. Policy §4: they leave through Cloudflare's send_email binding, no third party.
 */
export type EmailKind = "account" | "billing" | "notice";

export interface Email {
  kind: EmailKind;
  subject: string;
  text: string;
}

const sign = "\n\n— Ozekai\nYou receive this because of activity on your Ozekai account. We never send marketing email.";

export const accountEmails = {
  verifyAddress: (link: string): Email => ({
    kind: "account",
    subject: "Verify your email address",
    text: `Welcome to Ozekai.\n\nConfirm this address to start GPU sessions:\n${link}\n\nThe link expires in 24 hours. If you did not sign up, ignore this email.${sign}`,
  }),
  signupWithExistingAddress: (resetLink: string): Email => ({
    kind: "account",
    subject: "Someone tried to sign up with your address",
    text: `Someone (maybe you) tried to create an Ozekai account with this email address, which already has one.\n\nIf you forgot your password, reset it here:\n${resetLink}\n\nOtherwise ignore this email.${sign}`,
  }),
  signupUsernameTaken: (username: string): Email => ({
    kind: "account",
    subject: "Choose another username",
    text: `Your Ozekai account was not created: the username "${username}" is taken. Please sign up again with another username.${sign}`,
  }),
  changeAddress: (link: string): Email => ({
    kind: "account",
    subject: "Confirm your new email address",
    text: `Confirm that this address should become your Ozekai sign-in address:\n${link}\n\nThe link expires in 24 hours.${sign}`,
  }),
  addressChanged: (newAddress: string, revertLink: string): Email => ({
    kind: "account",
    subject: "Your email address was changed",
    text: `The email address of your Ozekai account was changed to ${newAddress}.\n\nIf this was not you, undo the change with this link: it gives the account back this address, ends every sign-in and sends a password reset link here.\n${revertLink}\n\nThe link works once, for 7 days.${sign}`,
  }),
  emailChangeReverted: (resetLink: string): Email => ({
    kind: "account",
    subject: "Your email address was restored",
    text: `The email address of your Ozekai account is this one again. Every sign-in was ended and the password was cleared, because whoever changed the address knew it.\n\nSet a new password with this link:\n${resetLink}\n\nThe link expires in 1 hour; if it does, ask for a new one on the sign-in page.${sign}`,
  }),
  passwordReset: (link: string): Email => ({
    kind: "account",
    subject: "Reset your password",
    text: `Reset your Ozekai password with this link:\n${link}\n\nThe link expires in 1 hour and works once. If you did not ask for it, ignore this email.${sign}`,
  }),
  passwordChanged: (): Email => ({
    kind: "account",
    subject: "Your password was changed",
    text: `The password of your Ozekai account was changed and every sign-in was ended. If this was not you, reset your password now.${sign}`,
  }),
  /** Policy §2: an account email about the user's own session; sent by the idle-disconnect job. */
  sessionIdleDisconnected: (idleMinutes = 30): Email => ({
    kind: "account",
    subject: "Your GPU session was disconnected because it was idle",
    text: `Your Ozekai GPU session was disconnected because it was idle: its GPUs (or, on a plan without GPUs, its CPU) were barely used and no shell was attached for ${idleMinutes} minutes. Billing stopped when it was disconnected.\n\nYour workspace is kept as it was; connect again to continue.${sign}`,
  }),
  /** Policy §6: the warning before inactivity deletion of the user's own workspace; sent by the workspace-retention job. */
  workspaceDeletionWarning: (lastActiveOn: string, deletesAt: string): Email => ({
    kind: "account",
    subject: "Your workspace will be deleted for inactivity",
    text: `Your Ozekai account has not been active since ${lastActiveOn}. As our privacy policy says (§6), workspace data may be deleted 60 days after an account was last active, so your workspace and its files will be deleted on ${deletesAt}.\n\nTo keep it, sign in or connect before then: any activity cancels the deletion. You can download your workspace while connected.${sign}`,
  }),
  /** Policy §7: each change of the user's own privacy request, from its making to its answer. */
  privacyRequestChanged: (request: { id: string; kind: string; state: string; dueOn: string; reason: string | null }): Email => ({
    kind: "account",
    subject: request.state === "open" ? "We received your privacy request" : `Your privacy request is ${request.state.replace("_", " ")}`,
    text: `Your Ozekai privacy request ${request.id} (${request.kind}) is now ${request.state.replace("_", " ")}.${request.reason ? `\n\nReason: ${request.reason}` : ""}\n\nWe answer every request by ${request.dueOn} (30 days after it was made, policy §7). See it at GET /v1/privacy/requests/${request.id}.${sign}`,
  }),
  /** To the admins: privacy requests whose 30-day deadline is near or past; ids and dates only. */
  privacyRequestsDue: (requests: { id: string; kind: string; dueOn: string; overdue: boolean }[]): Email => ({
    kind: "account",
    subject: "Privacy requests are due",
    text: `These privacy requests need an answer (GET /v1/admin/privacy-requests):\n\n${requests.map((r) => `${r.id} (${r.kind}): ${r.overdue ? "OVERDUE since" : "due"} ${r.dueOn}`).join("\n")}${sign}`,
  }),
  databaseNearLimit: (database: { percent: number; sizeBytes: number; limitBytes: number; largest: { table: string; rows: number }[] }): Email => ({
    kind: "account",
    subject: `The database is ${database.percent} % full`,
    text: `The D1 database holds ${database.sizeBytes} bytes of its ${database.limitBytes} (${database.percent} %). Writes fail once it is full: move data out or add capacity now.\n\nLargest tables by rows:\n${database.largest.map((t) => `${t.table}: ${t.rows}`).join("\n")}\n\nThe daily figures: GET /v1/admin/stats.${sign}`,
  }),
  accessLogDeadLetters: (dead: { objects: number; lines: number }): Email => ({
    kind: "account",
    subject: `${dead.lines} access-log lines could not be stored`,
    text: `The access-log consumer gave up on ${dead.lines} lines (${dead.objects} dead-letter objects under access-dlq/ in the LOGS bucket), and writing them again failed today too. They stay there, and in the users' exports, until a replay succeeds or they turn 90 days old.\n\nThe cause is in the Worker's logs (access_log_replay_failed); the daily job retries at 08:00 UTC.${sign}`,
  }),
  accountDeleted: (): Email => ({
    kind: "account",
    subject: "Your account was deleted",
    text: `Your Ozekai account was deleted as you asked. Personal data is erased except what billing law requires us to keep (policy §6).${sign}`,
  }),
  /** Policy §10: the Services are not for anyone under 18; an admin closed the account. */
  accountDeletedMinor: (): Email => ({
    kind: "account",
    subject: "Your account was closed",
    text: `Your Ozekai account was closed because it appears to belong to someone under 18: the Services are not directed to anyone under 18 (policy §10). The account, its sessions and its workspace are deleted, and personal data is erased except what billing law requires us to keep (policy §6).\n\nIf this is a mistake, write to privacy@ozekai.dev.${sign}`,
  }),
};

/** Policy §2 "billing notifications": about the user's own subscription, sent from Stripe's webhooks. */
export const billingEmails = {
  paymentFailed: (portalHint: string): Email => ({
    kind: "billing",
    subject: "Your payment failed",
    text: `Stripe could not collect the payment for your Ozekai subscription. Update your payment method in the billing portal (${portalHint}).\n\nGPU sessions keep starting for a short grace period; after it, new sessions are refused until the payment goes through.${sign}`,
  }),
  sessionStoppedUnpaid: (): Email => ({
    kind: "billing",
    subject: "Your GPU session was stopped: your subscription is not paid",
    text: `Your Ozekai GPU session was disconnected because your subscription's payment is overdue past its grace period, or the subscription has ended. Billing stopped when it was disconnected; your workspace is kept.\n\nUpdate your payment method in the billing portal to start sessions again.${sign}`,
  }),
  subscriptionEnded: (): Email => ({
    kind: "billing",
    subject: "Your subscription has ended",
    text: `Your Ozekai subscription has ended, so new GPU sessions cannot start. Your workspace is kept as our privacy policy describes (§6); subscribe again at any time to continue.${sign}`,
  }),
  /**
   * The monthly usage limit the user set: 80% ("approaching") or 100% ("reached") of it, worded for
   * what the user chose to happen at it (a notice only, or the session disconnected).
   */
  usageLimit: (percent: 80 | 100, usage: { month: string; usedHours: number; limitHours: number; action: "notify" | "disconnect" }): Email => ({
    kind: "billing",
    subject: percent === 100 ? "You have reached your monthly GPU-time limit" : "You have used 80% of your monthly GPU-time limit",
    text: `Your Ozekai GPU sessions have run for ${usage.usedHours.toFixed(1)} hours in ${usage.month} (UTC), ${percent === 100 ? "reaching" : "80% of"} the ${usage.limitHours}-hour monthly limit you set.\n\n${
      usage.action === "disconnect"
        ? `You chose to be disconnected at your limit: ${percent === 100 ? "a running session is disconnected now" : "when it is reached, a running session is disconnected"} (your workspace is kept and billing stops), and new sessions are refused until the month ends, or until you raise or remove the limit in your account settings.`
        : "This is a notice only: sessions are not disconnected at your limit, and GPU time keeps being billed while they run. Disconnect when you are done, or change the limit in your account settings."
    }${sign}`,
  }),
  /** The session was disconnected at the monthly limit, as the user chose. */
  sessionStoppedAtLimit: (usage: { month: string; limitHours: number }): Email => ({
    kind: "billing",
    subject: "Your GPU session was disconnected: your monthly limit is reached",
    text: `Your Ozekai GPU session was disconnected because your GPU time in ${usage.month} (UTC) reached the ${usage.limitHours}-hour monthly limit you set, and you chose to be disconnected at it. Billing stopped when it was disconnected; your workspace is kept.\n\nNew sessions are refused until the month ends, or until you raise or remove the limit (or choose a notice only) in your account settings.${sign}`,
  }),
};

/** Service notices every account with a verified address receives: a material policy change (§11), a business transfer (§4). */
export const noticeEmails = {
  policyChanged: (version: string, summary: string, url: string): Email => ({
    kind: "notice",
    subject: "Our privacy policy changed",
    text: `We updated the Ozekai privacy policy (version ${version}). What changed:\n\n${summary}\n\nRead it here: ${url}\n\nContinuing to use the Services after this change means you accept it; you can also accept it from your account.${sign}`,
  }),
  /** Policy §4: a merger, acquisition or sale of assets moves users' information; every account is told. */
  businessTransfer: (version: string, transfer: string, summary: string, url: string): Email => ({
    kind: "notice",
    subject: "Ozekai is changing hands: what it means for your data",
    text: `${transfer}\n\nAs our privacy policy says, in a merger, acquisition or sale of assets your information may be transferred, and we tell you when that happens. The privacy policy was updated with it (version ${version}). What changed:\n\n${summary}\n\nRead it here: ${url}\n\nYou can export your data or delete your account at any time from your account settings.${sign}`,
  }),
};
