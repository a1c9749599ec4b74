/**
 * Progressive delivery (worker/rollouts/):
 *   POST /admin/models/:name/rollouts              start: version, steps, step_minutes, min_requests, checks, reason
 *   POST /admin/models/:name/rollouts/:id/abort    end it by hand, with a reason (the canary is cleared)
 *   GET  /models/:name/rollouts/current            the active rollout: step, checks with both arms' numbers, timeline
 *   GET  /models/:name/rollouts                    every rollout of the model, latest first
 * The minute cron moves them on (worker/rollouts/rollout-cron.ts).
 */
import type { Context, Hono } from "hono";
import { ApiError } from "../errors";
import { requireAdmin } from "../http/admin-auth";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { reasonBodySchema } from "../registry/admin-schemas";
import { forgetModel } from "../registry/resolve-cache";
import { abortRollout, currentRollout, rolloutBodySchema, rolloutHistory, startRollout } from "../rollouts/rollouts";

export function mountRolloutRoutes(admin: Hono<AppEnv>, open: Hono<AppEnv>, actor: (c: Context<AppEnv>) => string): void {
  admin.post("/admin/models/:name/rollouts", requireAdmin, async (c) => {
    const body = rolloutBodySchema.parse(await readJsonBody(c));
    const { db, settings } = c.get("services");
    const name = c.req.param("name");
    const rollout = await startRollout(db, { ...body, name, by: actor(c), now: Date.now(), defaultAlias: settings.defaultAlias });
    forgetModel(name);
    return c.json(rollout, 201);
  });

  admin.post("/admin/models/:name/rollouts/:id/abort", requireAdmin, async (c) => {
    const { reason } = reasonBodySchema.parse(await readJsonBody(c));
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id < 1) throw new ApiError("NOT_FOUND", `no rollout ${JSON.stringify(c.req.param("id"))}`);
    const name = c.req.param("name");
    const rollout = await abortRollout(c.get("services").db, { name, id, by: actor(c), reason, now: Date.now() });
    forgetModel(name);
    return c.json(rollout);
  });

  open.get("/models/:name/rollouts/current", async (c) => c.json(await currentRollout(c.get("services").db, c.req.param("name"))));
  open.get("/models/:name/rollouts", async (c) => c.json(await rolloutHistory(c.get("services").db, c.req.param("name"))));
}
