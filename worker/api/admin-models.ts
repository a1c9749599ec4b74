/**
 * The admin API, every route behind the ADMIN_TOKEN bearer check: publish a version, move, remove
 * and roll back aliases (each recorded in alias_history), archive a version, and the traffic
 * policy (admin-traffic.ts).
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { removeAlias, rollbackAlias, setAlias } from "../registry/aliases";
import { requireAdmin } from "../http/admin-auth";
import { actorSchema, aliasMoveBodySchema, reasonBodySchema, rollbackBodySchema } from "../registry/admin-schemas";
import { mountTrafficRoutes } from "./admin-traffic";
import { mountRolloutRoutes } from "./rollouts";
import { readUpload } from "./admin-upload";
import { publishVersion } from "../registry/publish-version";
import { archiveVersion, describeArchived } from "../registry/version-lifecycle";
import { forgetModel } from "../registry/resolve-cache";
import { versionRef } from "../registry/version-ref";

export const adminRoutes = new Hono<AppEnv>();
/** The public reads of rollouts (GET /models/:name/rollouts...), mounted at the app root beside the registry reads. */
export const rolloutReadRoutes = new Hono<AppEnv>();

function actor(c: Context<AppEnv>): string {
  return z.object({ "x-actor": actorSchema }).parse({ "x-actor": c.req.header("x-actor") })["x-actor"];
}

function versionParam(c: Context<AppEnv>): number {
  const ref = versionRef({ version: c.req.param("version") }, "");
  if (!("version" in ref)) throw new ApiError("NOT_FOUND", "no such version");
  return ref.version;
}

adminRoutes.post("/admin/models/:name/versions", requireAdmin, async (c) => {
  const name = c.req.param("name");
  const { db, models, settings } = c.get("services");
  const createdBy = actor(c);
  const upload = await readUpload(c, name, settings.maxUploadBytes);
  // Loaded here, not at the top: routes that never open a session keep the 14 MB wasm out of the isolate.
  const { createOnnxSession } = await import("../inference/onnx-runtime");
  const published = await publishVersion({ db, models, openSession: createOnnxSession }, { ...upload, createdBy });
  return c.json({ name: published.name, version: published.version, sha256: published.sha256, aliases: published.aliases }, 201);
});

adminRoutes.put("/admin/models/:name/aliases/:alias", requireAdmin, async (c) => {
  const { name, alias } = c.req.param();
  const body = aliasMoveBodySchema.parse(await readJsonBody(c));
  const moved = await setAlias(c.get("services").db, { name, alias, version: body.version, by: actor(c), reason: body.reason, evidence: body.evidence });
  // This isolate serves the move at once; others within RESOLVE_CACHE_TTL_MS.
  forgetModel(name);
  return c.json({ name, alias, ...moved });
});

adminRoutes.delete("/admin/models/:name/aliases/:alias", requireAdmin, async (c) => {
  const { name, alias } = c.req.param();
  const { reason } = reasonBodySchema.parse(await readJsonBody(c));
  const removed = await removeAlias(c.get("services").db, { name, alias, by: actor(c), reason });
  forgetModel(name);
  return c.json({ name, alias, ...removed });
});

adminRoutes.post("/admin/models/:name/rollback", requireAdmin, async (c) => {
  const name = c.req.param("name");
  const { db, settings } = c.get("services");
  const body = rollbackBodySchema.parse(await readJsonBody(c));
  const alias = body.alias ?? settings.defaultAlias;
  const moved = await rollbackAlias(db, { name, alias, by: actor(c), reason: body.reason });
  forgetModel(name);
  return c.json({ name, alias, ...moved });
});

adminRoutes.post("/admin/models/:name/versions/:version/archive", requireAdmin, async (c) => {
  const name = c.req.param("name");
  const version = versionParam(c);
  const { reason } = reasonBodySchema.parse(await readJsonBody(c));
  return c.json(describeArchived(await archiveVersion(c.get("services").db, name, version, actor(c), reason)));
});

mountTrafficRoutes(adminRoutes, actor);
mountRolloutRoutes(adminRoutes, rolloutReadRoutes, actor);
