/**
 * GET /openapi.json, the document built from the default model's manifest; GET /docs, Swagger UI;
 * GET /docs/plain, the no-JavaScript page; GET /docs/assets/swagger-ui-dist/:file, Swagger UI's
 * own files, so the explorer works offline.
 */
import { type Context, Hono } from "hono";
import type { Manifest } from "../contract/manifest";
import { exampleRow } from "../contract/row-schema";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { compileVersion } from "../inference/model-cache";
import { type Db } from "../db/open-db";
import { resolveVersion } from "../registry/versions";
import { renderPlainPage } from "../docs/docs-page";
import { renderExplorerPage } from "../docs/explorer-page";
import { buildOpenApi } from "../docs/openapi";
import { SWAGGER_UI_ASSETS } from "../docs/swagger-ui-assets";
import { isSwaggerUiFile, SWAGGER_UI_BASE } from "../docs/swagger-ui-files";

export const docsRoutes = new Hono<AppEnv>();

/** The docs still render with no default model registered (a fresh deployment): Row is then generic. */
async function defaultManifest(db: Db, model: string, alias: string): Promise<Manifest | null> {
  try {
    const { row } = await resolveVersion(db, model, { alias });
    return compileVersion(row).manifest;
  } catch {
    return null;
  }
}

async function documentFor(c: Context<AppEnv>) {
  const { db, settings } = c.get("services");
  const manifest = await defaultManifest(db, settings.defaultModel, settings.defaultAlias);
  return { doc: buildOpenApi(manifest, settings), example: manifest ? exampleRow(manifest) : {}, origin: new URL(c.req.url).origin };
}

docsRoutes.get("/openapi.json", async (c) => c.json((await documentFor(c)).doc));

docsRoutes.get("/docs", async (c) => {
  const { doc, example, origin } = await documentFor(c);
  return c.html(renderExplorerPage(doc, example, origin));
});

docsRoutes.get("/docs/plain", async (c) => {
  const { doc, example, origin } = await documentFor(c);
  return c.html(renderPlainPage(doc, example, origin));
});

docsRoutes.get(`${SWAGGER_UI_BASE}/swagger-ui-dist/:file`, (c) => {
  const file = c.req.param("file");
  if (!isSwaggerUiFile(file)) throw new ApiError("NOT_FOUND", `no docs asset ${file}`);
  const asset = SWAGGER_UI_ASSETS[file];
  // The files change only with the swagger-ui-dist version, i.e. with a deploy.
  return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=3600" });
});
