/**
 * The traffic admin routes, mounted by admin-models.ts behind the same bearer check:
 *   PUT    /admin/models/:name/traffic   set the canary and/or shadow arm and the entity field
 *   DELETE /admin/models/:name/traffic   remove both arms
 *   GET    /admin/models/:name/shadow    the shadow's paired outputs and their agreement
 * The public read (GET /models/:name/traffic) is in traffic.ts.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { changePolicy, type TrafficChange, trafficView } from "../registry/traffic-policy";
import { readShadowPairs } from "../traffic/shadow-store";
import { shadowQuerySchema, trafficBodySchema } from "../registry/traffic-schemas";
import { requireAdmin } from "../http/admin-auth";
import { reasonBodySchema } from "../registry/admin-schemas";
import { getModelRow } from "../registry/versions";
import { forgetModel } from "../registry/resolve-cache";

export function mountTrafficRoutes(routes: Hono<AppEnv>, actor: (c: Context<AppEnv>) => string): void {
  routes.put("/admin/models/:name/traffic", requireAdmin, async (c) => {
    const body = trafficBodySchema.parse(await readJsonBody(c));
    const change: TrafficChange = {
      name: c.req.param("name"),
      canary: body.canary,
      shadow: body.shadow && { version: body.shadow.version, sampleRate: body.shadow.sample_rate },
      entityField: body.entity_field,
      by: actor(c),
      reason: body.reason,
    };
    return c.json(await applied(c, change));
  });

  routes.delete("/admin/models/:name/traffic", requireAdmin, async (c) => {
    const { reason } = reasonBodySchema.parse(await readJsonBody(c));
    return c.json(await applied(c, { name: c.req.param("name"), canary: null, shadow: null, by: actor(c), reason }));
  });

  routes.get("/admin/models/:name/shadow", requireAdmin, async (c) => {
    const name = c.req.param("name");
    const query = shadowQuerySchema.parse(c.req.query());
    const { db } = c.get("services");
    await getModelRow(db, name);
    return c.json(await readShadowPairs(db, name, query));
  });
}

async function applied(c: Context<AppEnv>, change: TrafficChange) {
  const { db, settings } = c.get("services");
  const policy = await changePolicy(db, change);
  // This isolate routes by the new policy at once; others within RESOLVE_CACHE_TTL_MS.
  forgetModel(change.name);
  return trafficView(db, policy, settings.defaultAlias);
}
