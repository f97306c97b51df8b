/**
 * Worker → provisioner request tokens (docs/provisioner.md "Every request is signed",
 * docs/decisions/0013-provisioner-request-binding.md): who signs, for which host, and what of the
 * request a token binds. The one signer: the Worker's adapter, the tests and the benches mint
 * with it, and the provisioner checks a request against the same `requestBinding`.
 * No imports but jose, and WebCrypto through the global `crypto`: it runs in workerd and, as it
 * is, under Node.
 */
import { SignJWT } from "jose";

export const PROVISIONER_ISSUER = "ozekai-api";
/** The JWT `typ` header (RFC 8725 §3.11): no other JWT signed with the same key passes for one of these. */
export const PROVISIONER_TOKEN_TYPE = "ozekai-provisioner+jwt";
/** The provisioner refuses a token that lives longer; the Worker signs for less (one request). */
export const MAX_TOKEN_LIFETIME_SECONDS = 60;
const DEFAULT_LIFETIME_SECONDS = 30;
/** The header a restore announces its archive's SHA-256 in; the host checks the stream against it. */
export const ARCHIVE_SHA256_HEADER = "X-Archive-Sha256";

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

function base64url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const sha256 = (data: Uint8Array<ArrayBuffer> | string) => crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data);

/**
 * The registry id of the host configured by PROVISIONER_URL (local dev, tests, a single host). It
 * follows the address, so pointing the Worker elsewhere registers another host; the provisioner
 * at that address is started with it as PROVISIONER_HOST_ID.
 */
export async function configuredHostId(baseUrl: string): Promise<string> {
  return `cfg-${hex(await sha256(baseUrl)).slice(0, 12)}`;
}

/**
 * A request body as its token binds it: bytes the signer holds whole (a JSON body), bound by
 * their digest (`bdh`); or a streamed upload, bound by its Content-Length (`bdl`) and, when the
 * host checks the stream against one, the announced SHA-256 (`bds`, the X-Archive-Sha256 header).
 */
export type SignedBody = Uint8Array<ArrayBuffer> | string | { length?: number | undefined; sha256?: string | undefined };

/** The claims that tie a token to one request: method, path, query, body. */
export type RequestBinding = { htm: string; htu: string; htq: string; bdh?: string; bdl?: number; bds?: string };
export const BINDING_CLAIMS = ["htm", "htu", "htq", "bdh", "bdl", "bds"] as const;

/**
 * Uploads the host reads as a stream (a file, a workspace archive, a tar unpacked into a directory): it cannot hash them before
 * acting on them, so their tokens bind the length and the announced hash instead of a digest.
 */
export const isStreamedUpload = (method: string, path: string) => method.toUpperCase() === "PUT" && /^\/v1\/workspaces\/[^/]+\/(?:files\/.+|archive|unpack(?:\/.+)?)$/.test(path);

/**
 * The binding of a request to `target` (the URL path as sent, percent-encoded, and its query):
 * computed by the signer from what it sends and by the provisioner from what it received.
 * An empty body and no body are the same: no body claim.
 */
export async function requestBinding(method: string, target: string, body?: SignedBody): Promise<RequestBinding> {
  const at = target.indexOf("?");
  const binding: RequestBinding = { htm: method.toUpperCase(), htu: at < 0 ? target : target.slice(0, at), htq: at < 0 ? "" : target.slice(at + 1) };
  if (typeof body === "string" || body instanceof Uint8Array) {
    if (body.length > 0) binding.bdh = base64url(await sha256(body));
  } else if (body) {
    if (body.length !== undefined) binding.bdl = body.length;
    if (body.sha256 !== undefined) binding.bds = body.sha256;
  }
  return binding;
}

export type ProvisionerSigningKey = { kid: string; privateKey: Parameters<SignJWT["sign"]>[0] };

/**
 * Mints the token for one request to one host: `aud` is the host's registry id, so a token taken
 * from one host's traffic is refused by every other; a fresh `jti` the host accepts once.
 */
export async function signProvisionerRequest(
  key: ProvisionerSigningKey,
  request: { hostId: string; method: string; target: string; body?: SignedBody | undefined },
  options: { lifetimeSeconds?: number; now?: number } = {},
): Promise<string> {
  if (!request.target.startsWith("/") || request.target.includes("#")) throw new TypeError("target must be an absolute URL path, with its query if any");
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ ...(await requestBinding(request.method, request.target, request.body)) })
    .setProtectedHeader({ alg: "EdDSA", typ: PROVISIONER_TOKEN_TYPE, kid: key.kid })
    .setIssuer(PROVISIONER_ISSUER)
    .setAudience(request.hostId)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS))
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}
