/**
 * GET /metrics: Prometheus text format 0.0.4, summed across isolates from D1 (metric_buckets) plus
 * the drift gauge from drift_reports. With METRICS_TOKEN set it needs `Authorization: Bearer
 * <METRICS_TOKEN>` (401 without, 403 wrong, 429 past the auth-failure limit; a token shorter than
 * 16 characters closes it with 500): http/metrics-auth.ts. Unset, it is open.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { verifyMetricsRequest } from "../http/metrics-auth";
import { scrapeMetrics } from "../metrics/scrape";
import { CONTENT_TYPE } from "../metrics/exposition";

export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.get("/metrics", async (c) => {
  await verifyMetricsRequest(c);
  const text = await scrapeMetrics(c.env.DB);
  return c.body(text, 200, { "content-type": CONTENT_TYPE, "cache-control": "no-store" });
});
