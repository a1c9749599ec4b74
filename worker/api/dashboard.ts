/** GET /monitoring: the server-rendered HTML dashboard (worker/monitoring/dashboard-page.ts), with each model's rollout panel (worker/rollouts/rollout-panel.ts). */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { loadDashboard } from "../monitoring/dashboard-data";
import { renderDashboard } from "../monitoring/dashboard-page";
import { loadModelRollouts, renderRolloutPanels } from "../rollouts/rollout-panel";

export const dashboardRoutes = new Hono<AppEnv>();

dashboardRoutes.get("/monitoring", async (c) => {
  const only = c.req.query("model");
  const { db, settings } = c.get("services");
  const data = await loadDashboard(db, settings.defaultAlias, only);
  const now = new Date();
  const rollouts = await loadModelRollouts(db, data.models.map((m) => m.name));
  const page = renderDashboard(data, { origin: new URL(c.req.url).origin, only, sampleRate: settings.sampling.rate, now, panels: renderRolloutPanels(rollouts, now) });
  // Reports change at most once per cron run; a short private cache spares D1 on reloads.
  return c.html(page, 200, { "cache-control": "private, max-age=30" });
});
