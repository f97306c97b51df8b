/**
 * Saves what the page holds (a Blob) as a file. API downloads need the Authorization header, which
 * a plain link cannot carry (and the token must not ride in a URL): the page fetches through the
 * client, then hands the browser the bytes as an object URL, released once the download started.
 */
export function saveBlob(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The file name a Content-Disposition header gives, else `fallback`. */
export const dispositionName = (response: Response, fallback: string) => /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? fallback;
