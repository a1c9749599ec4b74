/** The public view of a model's traffic policy (canary and shadow); changes go through admin-traffic.ts. */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { readPolicy, trafficView } from "../registry/traffic-policy";
import { getModelRow } from "../registry/versions";

export const trafficRoutes = new Hono<AppEnv>();

/** The traffic policy as requests see it now (read from D1, not from this isolate's cache). */
trafficRoutes.get("/models/:name/traffic", async (c) => {
  const { db, settings } = c.get("services");
  const name = c.req.param("name");
  await getModelRow(db, name);
  return c.json(await trafficView(db, await readPolicy(db, name), settings.defaultAlias));
});
