/**
 * GET /metrics: Prometheus text format 0.0.4, summed across isolates from D1 (metric_buckets) plus
 * the drift gauge from drift_reports. With METRICS_TOKEN set it needs `Authorization: Bearer
 * <METRICS_TOKEN>` (401 without, 403 wrong); unset, it is open.
 */
import { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { bearerToken, tokensEqual } from "../http/bearer-token";
import { scrapeMetrics } from "../metrics/scrape";
import { CONTENT_TYPE } from "../metrics/exposition";

export const metricsRoutes = new Hono<AppEnv>();

metricsRoutes.get("/metrics", async (c) => {
  const expected = c.env.METRICS_TOKEN;
  if (expected) {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new ApiError("UNAUTHORIZED", "/metrics needs the metrics token: Authorization: Bearer <METRICS_TOKEN>");
    if (!(await tokensEqual(token, expected))) throw new ApiError("FORBIDDEN", "the metrics token is not valid");
  }
  const text = await scrapeMetrics(c.env.DB);
  return c.body(text, 200, { "content-type": CONTENT_TYPE, "cache-control": "no-store" });
});
