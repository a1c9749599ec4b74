/** Drift reports as JSON: GET /monitoring/models/:name/drift. */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";

export const monitoringRoutes = new Hono<AppEnv>();
