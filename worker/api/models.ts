/**
 * Read-only registry API: models, versions (manifest, metrics, sha256, created, source), artifacts,
 * alias history. Raw training rows (golden inputs, reference.json) are shown only
 * to the admin token.
 */
import { Hono } from "hono";
import type { AliasHistoryRow } from "../db/schema";
import { storedJson } from "../db/stored-json";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { adminOrPublic, verifyAdminRequest } from "../http/admin-auth";
import { versionRef } from "../registry/version-ref";
import { ARTIFACT_FILES, type ArtifactFile, artifactKey } from "../registry/r2-keys";
import { aliasHistoryFor } from "../registry/aliases";
import { getModelDetail, getModelRow, getVersionDetail, listModels, manifestFor } from "../registry/versions";

export const registryRoutes = new Hono<AppEnv>();

registryRoutes.get("/models", async (c) => c.json({ models: await listModels(c.get("services").db) }));

registryRoutes.get("/models/:name", async (c) => c.json(await getModelDetail(c.get("services").db, c.req.param("name"))));

registryRoutes.get("/models/:name/aliases", async (c) => {
  const { db } = c.get("services");
  const name = c.req.param("name");
  await getModelRow(db, name);
  const history = await aliasHistoryFor(db, name);
  return c.json({ name, history: history.map((h) => ({ alias: h.alias, ...describeMove(h) })) });
});

registryRoutes.get("/models/:name/aliases/:alias/history", async (c) => {
  const { db } = c.get("services");
  const { name, alias } = c.req.param();
  await getModelRow(db, name);
  const history = await aliasHistoryFor(db, name, alias);
  if (!history.length) throw new ApiError("NOT_FOUND", `alias '${alias}' of ${name} has never been set`);
  return c.json({ name, alias, history: history.map(describeMove) });
});

function describeMove(h: AliasHistoryRow) {
  const evidence = h.evidence === null ? null : storedJson(h.evidence);
  return {
    from: h.fromVersion,
    to: h.toVersion,
    at: h.changedAt,
    by: h.changedBy,
    reason: h.reason,
    evidence: evidence?.ok ? (evidence.value as Record<string, unknown>) : null,
  };
}

registryRoutes.get("/models/:name/versions/:version", async (c) => {
  const ref = versionRef({ version: c.req.param("version") }, "");
  if (!("version" in ref)) throw new ApiError("NOT_FOUND", "no such version");
  const view = await adminOrPublic(c);
  c.header("vary", "authorization");
  return c.json(await getVersionDetail(c.get("services").db, c.req.param("name"), ref.version, view));
});

registryRoutes.get("/models/:name/versions/:version/artifacts/:file", async (c) => {
  const name = c.req.param("name");
  const ref = versionRef({ version: c.req.param("version") }, "");
  const file = c.req.param("file") as ArtifactFile;
  if (!("version" in ref) || !ARTIFACT_FILES.includes(file)) throw new ApiError("NOT_FOUND", `no artifact ${file}`);
  const { db, models } = c.get("services");
  // reference.json and explainer.json (its background) are sampled training rows: admin only, whatever the version.
  const trainingRows = file === "reference.json" || file === "explainer.json";
  if (trainingRows) await verifyAdminRequest(c);
  const view = trainingRows ? "admin" : await adminOrPublic(c);
  await getVersionDetail(db, name, ref.version);
  const object = await models.get(artifactKey(name, ref.version, file));
  if (!object) throw new ApiError("NOT_FOUND", `version ${ref.version} of ${name} has no ${file}`);
  if (file === "manifest.json") c.header("vary", "authorization");
  if (file === "manifest.json" && view === "public") {
    const stored = storedJson(await object.text());
    if (!stored.ok) throw new ApiError("MODEL_UNAVAILABLE", `the stored manifest of version ${ref.version} of ${name} does not parse`);
    // Its own etag: the public view is a different representation from the stored object.
    return c.json(manifestFor(stored.value, "public"), 200, { etag: `"${object.etag}-public"` });
  }
  const type = file.endsWith(".json") ? "application/json" : file.endsWith(".md") ? "text/markdown; charset=utf-8" : "application/octet-stream";
  return c.body(object.body, 200, { "content-type": type, etag: object.httpEtag });
});
