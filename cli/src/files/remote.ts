/**
 * The workspace's file routes: workspace paths, a file's size and SHA-256 (HEAD), the listing
 * (all its pages) and delete through the typed client; a chunk up (PUT, ?offset=) and a range
 * down (GET, Range) through the transfers' own streaming requests (http.ts). The names go only
 * into the owner's own requests (policy §3).
 */
import type { Readable } from "node:stream";
import type { OzekaiApi, Schemas } from "@ozekai/client";
import { CliError, problemError } from "../errors.ts";
import { type Session, unwrap } from "../session.ts";
import { problemOf, readJson, responseHeader, transfer } from "./http.ts";

export type TreeEntry = Schemas["DirectoryListing"]["entries"][number];

const FILE_ROUTE = "/v1/workspace/files/{path}";

/**
 * A workspace path as typed, made relative to the workspace root ("" is the root): leading,
 * doubled and trailing "/" and "." segments dropped. ".." is refused here, as the API refuses it.
 */
export function workspacePath(raw: string): string {
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) throw new CliError("usage", `${JSON.stringify(raw)}: '..' is not allowed in a workspace path (paths start at the workspace root).`);
  return segments.join("/");
}

export const joinPath = (...parts: string[]) => parts.filter((part) => part !== "").join("/");
export const baseName = (path: string) => path.split("/").at(-1) ?? "";

/**
 * `{path}` spans several segments: each is percent-encoded on its own, so a name can never
 * smuggle a separator in (openapi-fetch's default would encode the '/' between them too).
 */
const serializePath = (path: string) => (url: string) => url.replace("{path}", path.split("/").map(encodeURIComponent).join("/"));
const pathParams = (path: string) => ({ params: { path: { path } }, pathSerializer: serializePath(path) });

/** A typed GET sent as HEAD: the route documents HEAD with it (the headers alone). */
const asHead = { onRequest: ({ request }: { request: Request }) => new Request(request, { method: "HEAD" }) };

/** The user's workspace, hot on its host: files move only then (a cold one is restored by connecting). */
export async function requireHotWorkspace(api: OzekaiApi): Promise<void> {
  const result = await api.GET("/v1/workspace");
  if (result.response.status === 404) {
    throw new CliError("not_found", "You have no workspace yet: it is made when you first connect (`ozekai connect`).", { status: 404 });
  }
  const workspace = unwrap(result);
  if (workspace.state === "hot") return;
  const why = workspace.state === "cold" ? "is in cold storage: connecting brings it back (`ozekai connect`)" : `is ${workspace.state}: try again in a minute`;
  throw new CliError("conflict", `Your workspace ${why}.`);
}

export interface RemoteFile {
  size: number;
  /** The whole file's SHA-256 (hex), when asked for. */
  sha256: string | undefined;
  lastModified: string | undefined;
}

/** A file's size (and, with `digest`, its SHA-256, which the host reads the whole file for); undefined when there is none. */
export async function statFile(api: OzekaiApi, path: string, digest: boolean): Promise<RemoteFile | undefined> {
  const headers: Record<string, string> = digest ? { "Want-Repr-Digest": "sha-256" } : {};
  const { response } = await api.GET(FILE_ROUTE, { ...pathParams(path), headers, parseAs: "stream", middleware: [asHead] });
  if (response.status === 404) return undefined;
  if (!response.ok) {
    // A HEAD has no body to explain itself: ask for one byte to get the problem (the same refusal).
    const again = await api.GET(FILE_ROUTE, { ...pathParams(path), headers: { Range: "bytes=0-0" }, parseAs: "stream" });
    await again.response.body?.cancel();
    throw problemError(again.response.ok ? response : again.response, again.error);
  }
  return fileHeaders(response.headers);
}

function fileHeaders(headers: { get(name: string): string | null }): RemoteFile {
  const range = /\/(\d+)$/.exec(headers.get("Content-Range") ?? "");
  const size = Number(range?.[1] ?? headers.get("Content-Length") ?? Number.NaN);
  if (!Number.isSafeInteger(size)) throw new CliError("error", "The API sent a file without its size.");
  return { size, sha256: headers.get("Ozekai-Sha256") ?? undefined, lastModified: headers.get("Last-Modified") ?? undefined };
}

/** The URL path of a workspace file, each segment percent-encoded (as `serializePath` does for the typed routes). */
const fileTarget = (path: string) => serializePath(path)(FILE_ROUTE);

export type StoredFile = Schemas["StoredFile"];

/**
 * Sends `length` bytes to the file, read from `open()` as the link takes them: appended at
 * `offset` (the file's current size), or the whole file (replacing any) without one. The
 * answer's sha256 is of this request's bytes.
 */
export async function putFile(session: Session, path: string, body: () => Readable, length: number, offset: number | undefined, signal: AbortSignal): Promise<StoredFile> {
  const query = offset === undefined ? "" : `?offset=${offset}`;
  const response = await transfer(session, {
    method: "PUT",
    target: `${fileTarget(path)}${query}`,
    headers: { "Content-Type": "application/octet-stream" },
    body: { open: body, length },
    signal,
  });
  if (response.status !== 201) throw await problemOf(response);
  return (await readJson(response.body)) as StoredFile;
}

export interface FileStream extends RemoteFile {
  /** Where the bytes sent start (0 for the whole file). */
  start: number;
  body: Readable;
}

/** The file from byte `offset`, with its size (the whole file's, on a 206 too); its digest is statFile's, asked beside it. */
export async function getFile(session: Session, path: string, offset: number, signal: AbortSignal): Promise<FileStream | "range_not_satisfiable"> {
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  const response = await transfer(session, { method: "GET", target: fileTarget(path), headers, signal });
  if (response.status === 416) {
    response.body.resume();
    return "range_not_satisfiable";
  }
  if (response.status !== 200 && response.status !== 206) throw await problemOf(response);
  const get = (name: string) => responseHeader(response, name) ?? null;
  const start = response.status === 206 ? Number(/^bytes (\d+)-/.exec(get("Content-Range") ?? "")?.[1] ?? Number.NaN) : 0;
  if (!Number.isSafeInteger(start)) throw new CliError("error", "The API sent a range it did not describe.");
  return { ...fileHeaders({ get }), start, body: response.body };
}

const PAGE = 1000;

/** Every entry of a workspace directory ("" is the root), page after page, in name order. */
export async function listDirectory(api: OzekaiApi, path: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const query = { limit: PAGE, ...(after === undefined ? {} : { after }) };
    const page = unwrap(path === "" ? await api.GET("/v1/workspace/tree", { params: { query } }) : await api.GET("/v1/workspace/tree/{path}", { ...pathParams(path), params: { path: { path }, query } }));
    entries.push(...page.entries);
    if (!page.truncated || page.next === null) return entries;
    after = page.next;
  }
}

/** Deletes a file, a link or an empty directory; with `recursive` a directory and all in it. */
export async function removePath(api: OzekaiApi, path: string, recursive: boolean) {
  return unwrap(await api.DELETE(FILE_ROUTE, { ...pathParams(path), params: { path: { path }, query: recursive ? { recursive: "true" } : {} } }));
}
