/** Read-only registry API: models, versions (manifest, metrics, sha256, created, source), artifacts, alias history. */
import { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { versionRef } from "./version-ref";
import { ARTIFACT_FILES, type ArtifactFile, artifactKey } from "./r2-keys";
import { aliasHistoryFor, getModelDetail, getModelRow, getVersionDetail, listModels } from "./registry";

export const registryRoutes = new Hono<AppEnv>();

registryRoutes.get("/models", async (c) => c.json({ models: await listModels(c.get("services").db) }));

registryRoutes.get("/models/:name", async (c) => c.json(await getModelDetail(c.get("services").db, c.req.param("name"))));

registryRoutes.get("/models/:name/aliases", async (c) => {
  const { db } = c.get("services");
  const name = c.req.param("name");
  await getModelRow(db, name);
  const history = await aliasHistoryFor(db, name);
  return c.json({
    name,
    history: history.map((h) => ({
      alias: h.alias,
      from: h.fromVersion,
      to: h.toVersion,
      at: h.changedAt,
      by: h.changedBy,
      reason: h.reason,
    })),
  });
});

registryRoutes.get("/models/:name/versions/:version", async (c) => {
  const ref = versionRef({ version: c.req.param("version") }, "");
  if (!("version" in ref)) throw new ApiError("NOT_FOUND", "no such version");
  return c.json(await getVersionDetail(c.get("services").db, c.req.param("name"), ref.version));
});

registryRoutes.get("/models/:name/versions/:version/artifacts/:file", async (c) => {
  const name = c.req.param("name");
  const ref = versionRef({ version: c.req.param("version") }, "");
  const file = c.req.param("file") as ArtifactFile;
  if (!("version" in ref) || !ARTIFACT_FILES.includes(file)) throw new ApiError("NOT_FOUND", `no artifact ${file}`);
  const { db, models } = c.get("services");
  await getVersionDetail(db, name, ref.version);
  const object = await models.get(artifactKey(name, ref.version, file));
  if (!object) throw new ApiError("NOT_FOUND", `version ${ref.version} of ${name} has no ${file}`);
  const type = file.endsWith(".json") ? "application/json" : file.endsWith(".md") ? "text/markdown; charset=utf-8" : "application/octet-stream";
  return c.body(object.body, 200, { "content-type": type, etag: object.httpEtag });
});
