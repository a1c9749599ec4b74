/**
 * The API as plain HTML, no JavaScript: the endpoint table and a curl example. It is /docs/plain,
 * and the <noscript> part of /docs, so a browser without scripts (or a text browser) still gets it.
 */
interface DocsSource {
  info: { title: string; description: string };
  paths: Record<string, Record<string, { summary?: string; tags?: readonly string[] }>>;
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Scoped to .plain so it cannot restyle Swagger UI on the same page. */
export const PLAIN_STYLE = `<style>.plain{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}.plain table{border-collapse:collapse;width:100%}.plain td{border-bottom:1px solid #ddd;padding:.3rem .5rem}.plain pre{background:#f5f5f5;padding:1rem;overflow:auto}</style>`;

export function renderEndpoints(doc: DocsSource, example: object, origin: string): string {
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? "")}</td><td>${escapeHtml((op.tags ?? []).join(", "))}</td></tr>`,
      ),
    )
    .join("\n");
  const curl = `curl -s -X POST ${origin}/predict -H 'content-type: application/json' \\\n  -d '${JSON.stringify(example)}'`;
  return `<div class="plain"><h1>${escapeHtml(doc.info.title)}</h1><p>${escapeHtml(doc.info.description)}</p>
<h2>Endpoints</h2><table>${rows}</table>
<h2>Try it</h2><pre>${escapeHtml(curl)}</pre>
<p>Machine-readable schema: <a href="/openapi.json">/openapi.json</a>. Interactive explorer (needs JavaScript): <a href="/docs">/docs</a>.</p></div>`;
}

export function renderPlainPage(doc: DocsSource, example: object, origin: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(doc.info.title)}</title>
${PLAIN_STYLE}
</head><body>${renderEndpoints(doc, example, origin)}</body></html>`;
}
