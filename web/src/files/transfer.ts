/**
 * Moving files in and out of the workspace from the browser. Both carry the Authorization header:
 * the token never goes in a URL (proxies and histories keep URLs) and the site sets no cookies.
 *
 * Uploads use the routes' resumable protocol (decision 0008), as the CLI does (0028): the first
 * chunk is a whole-file PUT, the rest are appended with `?offset=` (the file's current size); after
 * a failure the page asks the stored size with HEAD and continues there. The browser hashes the
 * file itself and shows it verified only when the host's SHA-256 of what it stored is the same.
 */
import { saveBlob } from "../download";
import { api, heldAccessToken, networkProblem, type Problem, workspacePath } from "../api";

const FILE_ROUTE = "/v1/workspace/files/{path}";

/**
 * Bytes per request. Cloudflare refuses request bodies over 100 MB, so a big file must go in
 * pieces; each append costs the host two short containers (decisions 0008, 0030), so pieces are
 * as large as that limit comfortably allows.
 */
export const CHUNK_BYTES = 64 * 1024 ** 2;
/** Tries per request before the file is reported failed (each retry resumes from the stored size). */
const ATTEMPTS = 4;
/** No byte sent and no answer for this long ends a request (a stalled link is retried, not waited on). */
const STALL_MS = 30_000;
/** Bytes hashed per step: small enough that the page stays responsive between steps. */
const HASH_PIECE = 2 * 1024 ** 2;

const fileParams = (path: string) => ({ params: { path: { path } }, pathSerializer: workspacePath });

/** A typed GET sent as HEAD: the route documents HEAD with it (the headers alone). */
const asHead = { onRequest: ({ request }: { request: Request }) => new Request(request, { method: "HEAD" }) };

export interface UploadProgress {
  /** Bytes the workspace holds or has been sent, of the file's size. */
  sent: number;
  phase: "sending" | "verifying";
  /** Where the last resume started (the stored size the host reported), if there was one. */
  resumedFrom?: number;
}

export type UploadOutcome = { verified: true; sha256: string; resumedFrom?: number } | { verified: false; problem: Problem } | { verified: false; cancelled: true };

/** Problems made here, for failures no API answer describes. */
const localProblem = (title: string, detail: string, code: Problem["code"] = "internal", requestId = "", status = 0): Problem => ({ type: "about:blank", title, status, code, detail, requestId });

const cancelled = (signal: AbortSignal) => signal.aborted;

/**
 * Uploads `file` to `path` and verifies it. `resume`: continue from what the workspace holds
 * there (a retry of this page's own upload); otherwise the file is written from its first byte
 * (replacing any). A checksum mismatch removes the workspace's copy: it is not the file sent.
 */
export async function uploadFile(path: string, file: File, options: UploadOptions): Promise<UploadOutcome> {
  // Hashed alongside the upload, in order, whatever the upload resumes from; stopped with it.
  const hashing = new AbortController();
  const stop = () => hashing.abort();
  options.signal.addEventListener("abort", stop);
  const localDigest = sha256OfFile(file, hashing.signal);
  localDigest.catch(() => undefined);
  try {
    return await sendAndVerify(path, file, options, localDigest);
  } finally {
    options.signal.removeEventListener("abort", stop);
    stop();
  }
}

interface UploadOptions {
  signal: AbortSignal;
  resume?: boolean;
  onProgress: (progress: UploadProgress) => void;
}

async function sendAndVerify(path: string, file: File, { signal, resume, onProgress }: UploadOptions, localDigest: Promise<string>): Promise<UploadOutcome> {
  let resumedFrom: number | undefined;
  let offset = 0;
  // Whether `offset` is what the workspace holds (after a failure it must be asked again).
  let known = !resume;
  // The host's digest of the whole file, when the whole file went in one request.
  let hostSha256: string | undefined;
  for (let attempt = 1, complete = false; !complete; ) {
    let problem: Problem;
    if (!known) {
      // Resume where the workspace's copy ends: the bytes up to there are the ones this page sent.
      const stored = await storedFile(path, false);
      if (cancelled(signal)) return { verified: false, cancelled: true };
      if ("problem" in stored) problem = stored.problem;
      else {
        known = true;
        hostSha256 = undefined;
        complete = stored.size === file.size;
        offset = stored.size !== undefined && stored.size < file.size ? stored.size : 0;
        if (offset > 0) resumedFrom = offset;
        continue;
      }
    } else {
      const end = Math.min(offset + CHUNK_BYTES, file.size);
      const from = offset;
      onProgress({ sent: from, phase: "sending", resumedFrom });
      const answer = await put(path, file.slice(from, end), from === 0 ? undefined : from, signal, (sent) => onProgress({ sent: from + sent, phase: "sending", resumedFrom }));
      if (cancelled(signal)) return { verified: false, cancelled: true };
      if (answer.status === 201) {
        const stored = answer.body as { size: number; sha256: string };
        if (stored.size !== end) return { verified: false, problem: localProblem("The upload did not add up", `After bytes ${from}–${end} the workspace's file has ${stored.size} bytes: something else wrote to it. Upload it again.`) };
        hostSha256 = from === 0 && end === file.size ? stored.sha256 : undefined;
        offset = end;
        complete = end === file.size;
        attempt = 1;
        continue;
      }
      problem = answerProblem(answer);
    }
    if (attempt >= ATTEMPTS || !retryable(problem)) return { verified: false, problem };
    if (!(await pause(1000 * 2 ** (attempt - 1), signal))) return { verified: false, cancelled: true };
    attempt++;
    known = false;
  }

  onProgress({ sent: file.size, phase: "verifying", resumedFrom });
  let sha256Hex: string;
  try {
    sha256Hex = await localDigest;
  } catch (error) {
    if (cancelled(signal)) return { verified: false, cancelled: true };
    return { verified: false, problem: localProblem("The file could not be read", `${error instanceof Error ? error.message : String(error)}. It may have changed or moved since you chose it.`) };
  }
  if (hostSha256 === undefined) {
    const stored = await storedFile(path, true);
    if ("problem" in stored) return cancelledOrProblem(signal, stored.problem);
    hostSha256 = stored.sha256;
  }
  if (hostSha256 !== sha256Hex) {
    // Never left looking complete: the workspace's copy is not the file that was chosen.
    await api.DELETE(FILE_ROUTE, fileParams(path)).catch(() => undefined);
    return {
      verified: false,
      problem: localProblem("Checksum mismatch", `The file's SHA-256 is ${sha256Hex}, the workspace's copy had ${hostSha256 ?? "none"}. The copy was removed; upload the file again.`, "validation_failed"),
    };
  }
  return resumedFrom === undefined ? { verified: true, sha256: sha256Hex } : { verified: true, sha256: sha256Hex, resumedFrom };
}

const cancelledOrProblem = (signal: AbortSignal, problem: Problem): UploadOutcome => (cancelled(signal) ? { verified: false, cancelled: true } : { verified: false, problem });

/** Worth another try after asking what is stored: no answer, the host or the link down, or the offset moved on. */
const retryable = (problem: Problem) => [0, 502, 503, 504].includes(problem.status) || problem.code === "upload_offset_mismatch";

/** Waits `ms`, unless the upload is cancelled first (false then). */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });

/** The SHA-256 (hex) of a file, read in pieces (SubtleCrypto has no incremental digest, and a file may have many GB). */
export async function sha256OfFile(file: Blob, signal?: AbortSignal): Promise<string> {
  // Loaded on the first upload, not with every page.
  const [{ sha256 }, { bytesToHex }] = await Promise.all([import("@noble/hashes/sha2.js"), import("@noble/hashes/utils.js")]);
  const hash = sha256.create();
  for (let at = 0; at < file.size; at += HASH_PIECE) {
    if (signal?.aborted) throw new Error("cancelled");
    hash.update(new Uint8Array(await file.slice(at, at + HASH_PIECE).arrayBuffer()));
  }
  return bytesToHex(hash.digest());
}

/**
 * What the workspace holds at `path` (HEAD): its size, undefined when there is no file, and with
 * `digest` the host's SHA-256 of it. A refusal comes back as the problem (asked again as a GET
 * of one byte: a HEAD has no body to explain itself).
 */
async function storedFile(path: string, digest: boolean): Promise<{ size?: number; sha256?: string } | { problem: Problem }> {
  try {
    const headers: Record<string, string> = digest ? { "Want-Repr-Digest": "sha-256" } : {};
    const { response } = await api.GET(FILE_ROUTE, { ...fileParams(path), headers, parseAs: "stream", middleware: [asHead] });
    if (response.status === 404) return {};
    if (response.ok) {
      const size = Number(response.headers.get("Content-Length"));
      if (!Number.isSafeInteger(size)) return { problem: localProblem("The API sent a file without its size", "Try again.", "internal", response.headers.get("X-Request-Id") ?? "") };
      return { size, sha256: response.headers.get("Ozekai-Sha256") ?? undefined };
    }
    const { error, response: again } = await api.GET(FILE_ROUTE, { ...fileParams(path), headers: { Range: "bytes=0-0" }, parseAs: "stream" });
    if (again.ok) await again.body?.cancel();
    return { problem: error ?? localProblem(`The API answered ${response.status}`, "Try again.", "internal", response.headers.get("X-Request-Id") ?? "", response.status) };
  } catch (error) {
    return { problem: networkProblem(error) };
  }
}

interface Answer {
  status: number;
  body: unknown;
  requestId: string;
  /** Why there was no answer (status 0). */
  failure?: string;
}

function answerProblem(answer: Answer): Problem {
  if (answer.status === 0) return networkProblem(new Error(answer.failure ?? "the upload was interrupted"));
  const body = answer.body as Partial<Problem> | null;
  if (body && typeof body.title === "string") return body as Problem;
  return localProblem(`The API answered ${answer.status}`, "The upload was refused without an explanation. Try again.", "internal", answer.requestId, answer.status);
}

/**
 * One PUT of `body` (appended at `offset`, or the whole file without one), reporting the bytes
 * sent. XMLHttpRequest rather than fetch: fetch cannot report an upload's progress. An access
 * token that expired meanwhile is renewed by one call through the client, then sent once more.
 */
async function put(path: string, body: Blob, offset: number | undefined, signal: AbortSignal, onSent: (sent: number) => void): Promise<Answer> {
  const url = workspacePath(FILE_ROUTE, { path });
  const target = offset === undefined ? url : `${url}?offset=${offset}`;
  let answer = await send(target, body, signal, onSent);
  if (answer.status === 401 && !signal.aborted) {
    const { error } = await api.GET("/v1/account");
    if (error) return { status: error.status, body: error, requestId: error.requestId };
    answer = await send(target, body, signal, onSent);
  }
  return answer;
}

function send(target: string, body: Blob, signal: AbortSignal, onSent: (sent: number) => void): Promise<Answer> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    let failure: string | undefined;
    let stall: ReturnType<typeof setTimeout> | undefined;
    const poke = () => {
      clearTimeout(stall);
      stall = setTimeout(() => {
        failure = `nothing moved for ${STALL_MS / 1000} s`;
        xhr.abort();
      }, STALL_MS);
    };
    const cancel = () => xhr.abort();
    const done = (answer: Answer) => {
      clearTimeout(stall);
      signal.removeEventListener("abort", cancel);
      resolve(answer);
    };
    xhr.open("PUT", target);
    xhr.setRequestHeader("Authorization", `Bearer ${heldAccessToken() ?? ""}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      poke();
      onSent(event.loaded);
    });
    xhr.addEventListener("progress", poke);
    xhr.addEventListener("load", () => done({ status: xhr.status, body: xhr.response, requestId: xhr.getResponseHeader("X-Request-Id") ?? "" }));
    xhr.addEventListener("error", () => done({ status: 0, body: null, requestId: "", failure: "the connection failed" }));
    xhr.addEventListener("abort", () => done({ status: 0, body: null, requestId: "", failure: failure ?? "cancelled" }));
    if (signal.aborted) return done({ status: 0, body: null, requestId: "", failure: "cancelled" });
    signal.addEventListener("abort", cancel);
    poke();
    xhr.send(body);
  });
}

/** Removes what an upload left at `path` (a cancelled upload's partial file). */
export async function removePartial(path: string): Promise<Problem | undefined> {
  try {
    const { error, response } = await api.DELETE(FILE_ROUTE, fileParams(path));
    return response.status === 404 ? undefined : error;
  } catch (error) {
    return networkProblem(error);
  }
}

/** Saves a workspace file on the user's machine (fetched signed in, refreshed when needed). */
export async function downloadFile(path: string, name: string): Promise<Problem | undefined> {
  const { data, error } = await api.GET(FILE_ROUTE, { ...fileParams(path), parseAs: "blob" });
  if (error) return error;
  saveBlob(name, data as Blob);
  return undefined;
}

/** The path of `name` inside the directory `dir` ("" is the workspace root). */
export const childPath = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
