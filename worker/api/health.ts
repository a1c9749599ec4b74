/** Liveness (the isolate answers) and readiness (registry reachable, default model loadable). */
import { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { getSession } from "../inference/model-cache";
import { resolveVersion } from "../registry/versions";

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/health", (c) => c.json({ status: "healthy" }));

healthRoutes.get("/ready", async (c) => {
  const { db, models, settings } = c.get("services");
  const { row } = await resolveVersion(db, settings.defaultModel, { alias: settings.defaultAlias }).catch(
    (error: unknown) => {
      throw new ApiError("MODEL_UNAVAILABLE", `not ready: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  await getSession(models, row, settings);
  return c.json({ status: "ready", model: row.modelName, version: row.version, alias: settings.defaultAlias });
});
