/**
 * The one way a transfer's bytes travel: node:http(s) requests whose bodies are streams piped
 * with backpressure, both ways. A file is read from disk only as fast as the socket takes it and
 * written to disk only as fast as the disk takes it, so memory stays flat whatever the size
 * (Node's fetch with a streamed body keeps what it sent: the CLI's memory grew with the file).
 * Signed in as the client is: the session's access token, and on a 401 `unauthorized` the
 * client's one refresh under its lock, then the request once more with a fresh body.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CliError, problemError } from "../errors.ts";
import type { Session } from "../session.ts";

export interface TransferRequest {
  method: "GET" | "PUT";
  /** The path and query, each segment already percent-encoded. */
  target: string;
  headers?: Record<string, string>;
  /**
   * The body, made afresh for each send (a refreshed sign-in sends it again), with its length:
   * the bytes of a file, read as the socket drains, never held.
   */
  body?: { open: () => Readable | AsyncIterable<Uint8Array>; length: number };
  signal: AbortSignal;
}

export interface TransferResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The response's bytes, unread: pipe them (backpressure holds the socket while the disk is behind). */
  body: IncomingMessage;
}

/** The longest problem document read: problems are small, and nothing else is read whole. */
const MAX_PROBLEM_BYTES = 64 * 1024;

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(", ") : value;
};

/** One exchange: resolves at the response's head; the body keeps flowing behind it until the server has it. */
function exchange(url: URL, request: TransferRequest, token: string | undefined): Promise<IncomingMessage> {
  const headers: Record<string, string> = { ...request.headers };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (request.body) headers["Content-Length"] = String(request.body.length);
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const outgoing = send(url, { method: request.method, headers, signal: request.signal });
    outgoing.once("response", (response) => {
      // Its errors reach whoever reads it; until then one must not end the process.
      response.on("error", () => undefined);
      resolve(response);
    });
    // `on`, not `once`: a second error (the socket, after the body's) must not go unhandled.
    outgoing.on("error", reject);
    if (!request.body) outgoing.end();
    // An answer that came before the whole body (a refusal) ends the sending: the error is the answer's to tell.
    else pipeline(request.body.open(), outgoing).catch((error: unknown) => outgoing.destroy(error instanceof Error ? error : new Error(String(error))));
  });
}

/** The text of a small answer (a problem, a JSON result), at most `max` bytes. */
async function readSmall(body: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.destroy();
      throw new CliError("error", "The API sent a longer answer than expected.");
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The JSON of a small answer (a problem unless `max` says more), or undefined when it is not JSON. */
export async function readJson(body: IncomingMessage, max = MAX_PROBLEM_BYTES): Promise<unknown> {
  try {
    return JSON.parse(await readSmall(body, max));
  } catch (error) {
    if (error instanceof CliError) throw error;
    return undefined;
  }
}

/** A failed answer as the CliError every command reports (errors.ts: one mapping for all). */
export async function problemOf(response: TransferResponse): Promise<CliError> {
  const problem = await readJson(response.body).catch(() => undefined);
  return problemFrom(response.status, response.headers, problem);
}

function problemFrom(status: number, headers: IncomingHttpHeaders, problem: unknown): CliError {
  const head = new Headers();
  for (const name of ["X-Request-Id", "Retry-After"]) {
    const value = header(headers, name);
    if (value !== undefined) head.set(name, value);
  }
  return problemError(new Response(null, { status, headers: head }), problem);
}

/**
 * Sends one transfer request signed in as `session`. A 401 `unauthorized` (an expired access
 * token) is refreshed once, as the typed client does it, and the request sent again with a new body.
 */
export async function transfer(session: Session, request: TransferRequest): Promise<TransferResponse> {
  const url = new URL(request.target, session.apiUrl);
  let token = await session.accessToken();
  for (let attempt = 1; ; attempt++) {
    const response = await exchange(url, request, token);
    const status = response.statusCode ?? 0;
    if (status !== 401 || token === undefined || attempt > 1) return { status, headers: response.headers, body: response };
    const problem = await readJson(response).catch(() => undefined);
    response.destroy();
    const refused = problemFrom(status, response.headers, problem);
    if (refused.extra.code !== "unauthorized") throw refused;
    const next = await session.refreshAfterRejection(token);
    if (!next) throw refused;
    if ("response" in next) throw problemError(next.response, await next.response.json().catch(() => undefined));
    token = next.token;
  }
}

/** The response header `name`, or undefined. */
export const responseHeader = (response: TransferResponse, name: string) => header(response.headers, name);
