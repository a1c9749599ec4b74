/** GET /metrics: Prometheus text format, summed across isolates. */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";

export const metricsRoutes = new Hono<AppEnv>();
