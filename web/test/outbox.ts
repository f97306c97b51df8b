/**
 * The local email outbox of the Worker under `wrangler dev`: miniflare writes each email's text
 * as a file under .wrangler/tmp/email/ of the directory wrangler runs in (the project root),
 * without its recipient. The tests of a file run one after another, so the email a step waits for
 * is the newest one written since the step began. Tests open the links in them as a user would.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../bench/lib/settings.ts";

const OUTBOX = join(ROOT, ".wrangler", "tmp", "email");

function files(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The link to `path` with a `#token=` in the newest email written since `since` (ms) that has one; waits for it to arrive. */
export async function linkFromEmail(since: number, path: string, timeoutMs = 15_000): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"<>]+${path}#token=[A-Za-z0-9_-]+`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = files(OUTBOX)
      .map((file) => ({ file, mtime: statSync(file).mtimeMs }))
      .filter((m) => m.mtime >= since)
      .map((m) => ({ ...m, text: readFileSync(m.file, "utf8") }))
      .sort((a, b) => b.mtime - a.mtime)
      .map((m) => pattern.exec(m.text)?.[0])
      .find((link) => link !== undefined);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no email with a ${path}#token= link in ${OUTBOX} since ${new Date(since).toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
