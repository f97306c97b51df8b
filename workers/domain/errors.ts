/**
 * The one error class and the one code → status table. The HTTP layer renders these as RFC 9457
 * problems (with `Retry-After` for the codes that say when to try again); the OpenAPI document
 * lists them from the same table, so docs and runtime agree.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: "The request is not valid" },
  malformed_json: { status: 400, title: "The request body is not valid JSON" },
  token_invalid: { status: 400, title: "The link or token is invalid, used or expired" },
  unauthorized: { status: 401, title: "Authentication is required" },
  invalid_credentials: { status: 401, title: "The sign-in details are not correct" },
  current_password_incorrect: { status: 403, title: "The current password is not correct" },
  forbidden: { status: 403, title: "You are not allowed to do this" },
  email_unverified: { status: 403, title: "Verify your email address before starting GPU sessions" },
  usage_limit_reached: { status: 403, title: "Your monthly usage limit is reached and you chose to be disconnected at it" },
  no_plan: { status: 402, title: "A plan is required to start GPU sessions" },
  subscription_past_due: { status: 402, title: "Your last payment failed and the grace period is over; update your payment method" },
  subscription_canceled: { status: 402, title: "Your subscription has ended; subscribe again to start GPU sessions" },
  webhook_invalid: { status: 400, title: "The webhook is not signed, wrongly signed, stale or malformed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  already_subscribed: { status: 409, title: "You already have a subscription; manage it in the billing portal" },
  checkout_in_progress: { status: 409, title: "A checkout for another plan is open for this account" },
  request_closed: { status: 409, title: "The privacy request is completed or rejected; it cannot change" },
  username_taken: { status: 409, title: "That username is taken" },
  email_taken: { status: 409, title: "That email address belongs to another account" },
  session_busy: { status: 409, title: "The session is starting or stopping; try again shortly", retryAfterS: 5 },
  workspace_busy: { status: 409, title: "The workspace is being deleted, archived or restored", retryAfterS: 30 },
  policy_version_exists: { status: 409, title: "That policy version, or a newer one, is already published" },
  image_not_in_plan: { status: 409, title: "Your plan's sessions cannot run this image: see GET /v1/images" },
  session_image_differs: { status: 409, title: "Your session runs another image: disconnect first to start one on this image" },
  not_connected: { status: 409, title: "Connect first: this needs your running session" },
  port_closed: { status: 409, title: "Nothing accepts connections on this port in your container; start the server first" },
  too_many_ports: { status: 409, title: "This session has forwarded as many different ports as it may; connect a new session for others" },
  not_a_file: { status: 409, title: "The path is a directory or another kind of non-regular file" },
  not_a_directory: { status: 409, title: "The path is not a directory" },
  directory_not_empty: { status: 409, title: "The directory is not empty: remove it with ?recursive=true" },
  ssh_key_exists: { status: 409, title: "This SSH key is already on your account" },
  upload_offset_mismatch: { status: 409, title: "The upload offset is not the file's current size" },
  length_required: { status: 411, title: "Content-Length is required" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "The request body must be application/json" },
  range_not_satisfiable: { status: 416, title: "The requested range is outside the file" },
  unknown_image: { status: 422, title: "There is no image by this name: see GET /v1/images" },
  ssh_key_unsupported: { status: 422, title: "This is not an SSH public key sessions accept: Ed25519, or RSA of at least 3072 bits" },
  upgrade_required: { status: 426, title: "This endpoint is a WebSocket" },
  workspace_full: { status: 507, title: "Your workspace is full: delete files, or choose a plan with a larger workspace" },
  rate_limited: { status: 429, title: "Too many requests", retryAfterS: 60 },
  internal: { status: 500, title: "Something went wrong on our side" },
  not_configured: { status: 503, title: "The service is not configured" },
  billing_not_configured: { status: 503, title: "Billing is not configured on this deployment" },
  stripe_unavailable: { status: 502, title: "Stripe did not answer as expected; nothing was changed, try again" },
  provisioner_unavailable: { status: 503, title: "The GPU host is not reachable right now", retryAfterS: 30 },
  cold_storage_unavailable: { status: 503, title: "Your workspace could not be brought back from cold storage right now; it is kept there, try again shortly", retryAfterS: 30 },
  image_unavailable: { status: 503, title: "Your workspace's GPU host has not built this image; choose another, or try again once the host's operator has built it" },
  no_capacity: { status: 503, title: "No GPU of your plan is free right now", retryAfterS: 60 },
} as const satisfies Record<string, { status: number; title: string; retryAfterS?: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra: { fields?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = "AppError";
    this.status = ERROR_CODES[code].status;
  }
}

export const fieldError = (field: string, message: string) =>
  new AppError("validation_failed", message, { fields: [{ field, message }] });
