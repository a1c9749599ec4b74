/**
 * Drift reports as JSON: GET /monitoring/models/:name/drift. Public: reports hold aggregates
 * (statistics, shares, counts), never sampled rows.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../http/context";
import { getModelRow } from "../registry/versions";
import { latestReport, listReports, servingVersions } from "../monitoring/drift-report-store";

export const monitoringRoutes = new Hono<AppEnv>();

const MAX_HISTORY = 500;

const driftQuerySchema = z
  .object({
    version: z
      .string()
      .regex(/^[1-9][0-9]*$/, { error: (issue) => `expected a version number, got ${JSON.stringify(issue.input)}` })
      .transform(Number)
      .optional(),
    limit: z
      .string()
      .regex(/^[0-9]+$/, { error: (issue) => `expected a whole number, got ${JSON.stringify(issue.input)}` })
      .transform(Number)
      .pipe(z.number().int().min(1, { error: "must be at least 1" }).max(MAX_HISTORY, { error: `must be at most ${MAX_HISTORY}` }))
      .default(50),
  })
  .strip();

monitoringRoutes.get("/monitoring/models/:name/drift", async (c) => {
  const query = driftQuerySchema.parse(c.req.query());
  const { db, settings } = c.get("services");
  const name = c.req.param("name");
  await getModelRow(db, name);
  const serving = await servingVersions(db, settings.defaultAlias, name);
  const latest = await Promise.all(
    serving
      .filter((s) => query.version === undefined || s.version === query.version)
      .map(async (s) => ({ version: s.version, arms: s.arms, report: await latestReport(db, name, s.version) })),
  );
  const history = await listReports(db, name, { version: query.version, limit: query.limit });
  return c.json({ model: name, latest, history });
});
