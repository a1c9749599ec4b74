/** A small, dependency-free HTML rendering of the OpenAPI document, with a curl example. */
const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function renderDocsPage(doc: { info: { title: string; description: string }; paths: Record<string, Record<string, { summary?: string }>> }, example: object): string {
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(op.summary ?? "")}</td></tr>`),
    )
    .join("\n");
  const curl = `curl -s -X POST http://127.0.0.1:8787/predict -H 'content-type: application/json' \\\n  -d '${JSON.stringify(example)}'`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #ddd;padding:.3rem .5rem}pre{background:#f5f5f5;padding:1rem;overflow:auto}</style>
</head><body><h1>${escape(doc.info.title)}</h1><p>${escape(doc.info.description)}</p>
<h2>Endpoints</h2><table>${rows}</table>
<h2>Try it</h2><pre>${escape(curl)}</pre>
<p>Machine-readable schema: <a href="/openapi.json">/openapi.json</a>. Errors share one envelope: <code>{"error": {"code", "message", "request_id", "details"}}</code>.</p>
</body></html>`;
}
