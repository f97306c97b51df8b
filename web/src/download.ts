/**
 * Saves what the page holds (a Blob) as a file. API downloads need the Authorization header, which
 * a plain link cannot send: the page fetches, then hands the browser the bytes.
 */
export function saveBlob(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** The file name a Content-Disposition header gives, else `fallback`. */
export const dispositionName = (response: Response, fallback: string) => /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? fallback;
