/**
 * Browsable API docs rendered on the server from the OpenAPI document: no script, no CDN, no
 * third-party origin (policy §3, §8). The page's only style is inline and allowed by its hash.
 */
interface Operation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}
interface Document {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export const DOCS_STYLE =
  "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}h2{margin-top:2rem;border-bottom:1px solid #ddd}" +
  "details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}summary{cursor:pointer}code.m{font-weight:700;display:inline-block;width:4.5rem}" +
  "pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:13px}.lock{color:#a60}";

async function sha256Base64(text: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

export async function renderDocs(doc: Document): Promise<{ html: string; csp: string }> {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? "other";
      const body = op.requestBody?.content?.["application/json"]?.schema;
      const responses = Object.entries(op.responses ?? {})
        .map(([status, r]) => `<li><code>${escapeHtml(status)}</code> ${escapeHtml(r.description ?? "")}</li>`)
        .join("");
      const item =
        `<details><summary><code class="m">${method.toUpperCase()}</code><code>${escapeHtml(path)}</code> ${escapeHtml(op.summary ?? "")}` +
        `${op.security?.length ? ' <span class="lock">(bearer token)</span>' : ""}</summary>` +
        `${body ? `<p>Request body (application/json):</p><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre>` : ""}` +
        `<p>Responses:</p><ul>${responses}</ul></details>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), item]);
    }
  }
  const sections = [...byTag].map(([tag, items]) => `<h2>${escapeHtml(tag)}</h2>${items.join("")}`).join("");
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(([name, schema]) => `<details><summary><code>${escapeHtml(name)}</code></summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`)
    .join("");
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(doc.info.title)} API</title><style>${DOCS_STYLE}</style></head><body>` +
    `<h1>${escapeHtml(doc.info.title)} API <small>${escapeHtml(doc.info.version)}</small></h1><p>${escapeHtml(doc.info.description ?? "")}</p>` +
    `<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Errors are <code>application/problem+json</code> (RFC 9457).</p>` +
    `${sections}<h2>Schemas</h2>${schemas}</body></html>`;
  const csp = `default-src 'none'; style-src 'sha256-${await sha256Base64(DOCS_STYLE)}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
  return { html, csp };
}
