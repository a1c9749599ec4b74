/**
 * /docs: Swagger UI, the interactive explorer FastAPI users know, rendered by @hono/swagger-ui with
 * its assets served by this Worker (SWAGGER_UI_BASE) instead of a CDN. The plain page sits in
 * <noscript>, so without JavaScript the page still lists every endpoint.
 */
import { SwaggerUI } from "@hono/swagger-ui";
import { escapeHtml, PLAIN_STYLE, renderEndpoints } from "./docs-page";
import { SWAGGER_UI_BASE } from "./swagger-ui-files";

type EndpointsArgs = Parameters<typeof renderEndpoints>;

export function renderExplorerPage(doc: EndpointsArgs[0], example: object, origin: string): string {
  const ui = SwaggerUI({
    url: "/openapi.json",
    baseUrl: SWAGGER_UI_BASE,
    // Swagger UI would otherwise send the document to swagger.io's online validator.
    validatorUrl: "none",
    deepLinking: true,
    displayRequestDuration: true,
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(doc.info.title)}</title>
${PLAIN_STYLE}
</head><body>
<noscript>${renderEndpoints(doc, example, origin)}<p class="plain">The same page without this notice: <a href="/docs/plain">/docs/plain</a>.</p></noscript>
${ui}
</body></html>`;
}
