/**
 * Swagger UI's script and stylesheet, served by the Worker itself: @hono/swagger-ui points browsers
 * at a CDN by default, and /docs must work where there is none (an air-gapped network, `wrangler
 * dev` on a laptop offline). wrangler.toml's Text rule bundles the two files as strings.
 */
import bundle from "swagger-ui-dist/swagger-ui-bundle.js";
import css from "swagger-ui-dist/swagger-ui.css";
import type { SwaggerUiFile } from "./swagger-ui-files";

export const SWAGGER_UI_ASSETS: Record<SwaggerUiFile, { body: string; type: string }> = {
  "swagger-ui-bundle.js": { body: bundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { body: css, type: "text/css; charset=utf-8" },
};
