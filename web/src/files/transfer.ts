/**
 * Moving files in and out of the workspace from the browser. Both carry the Authorization header:
 * the token never goes in a URL (proxies and histories keep URLs) and the site sets no cookies.
 */
import { saveBlob } from "../download";
import { api, heldAccessToken, networkProblem, type Problem, type Schemas, workspacePath } from "../api";

type StoredFile = Schemas["StoredFile"];

const FILE_ROUTE = "/v1/workspace/files/{path}";

/**
 * PUTs one file whole, reporting the bytes sent. XMLHttpRequest rather than fetch: fetch cannot
 * report an upload's progress (a streamed request body needs HTTP/2 and still reports nothing).
 * An access token that expired meanwhile is renewed by one call through the client, then the
 * upload is sent once more.
 */
export async function uploadFile(path: string, file: File, onProgress: (sent: number) => void): Promise<{ stored?: StoredFile; problem?: Problem }> {
  let answer = await put(path, file, onProgress);
  if (answer.status === 401) {
    const { error } = await api.GET("/v1/account");
    if (error) return { problem: error };
    answer = await put(path, file, onProgress);
  }
  if (answer.status === 201) return { stored: answer.body as StoredFile };
  return { problem: answer.status === 0 ? networkProblem(new Error("the upload was interrupted")) : (answer.body as Problem) };
}

function put(path: string, file: File, onProgress: (sent: number) => void): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", workspacePath(FILE_ROUTE, { path }));
    xhr.setRequestHeader("Authorization", `Bearer ${heldAccessToken() ?? ""}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.response }));
    xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
    xhr.addEventListener("abort", () => resolve({ status: 0, body: null }));
    xhr.send(file);
  });
}

/** Saves a workspace file on the user's machine (fetched signed in, refreshed when needed). */
export async function downloadFile(path: string, name: string): Promise<Problem | undefined> {
  const { data, error } = await api.GET(FILE_ROUTE, { params: { path: { path } }, pathSerializer: workspacePath, parseAs: "blob" });
  if (error) return error;
  saveBlob(name, data as Blob);
  return undefined;
}

/** The path of `name` inside the directory `dir` ("" is the workspace root). */
export const childPath = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
