/** POST /feedback: ground-truth labels joined to the predictions they judge. */
import { Hono } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readJsonBody } from "../http/json-body";
import { verifyFeedbackRequest } from "../http/feedback-auth";
import { parseFeedbackBody } from "../feedback/feedback-schema";
import { recordFeedback } from "../feedback/record-feedback";

export const feedbackRoutes = new Hono<AppEnv>();

feedbackRoutes.post("/feedback", async (c) => {
  await verifyFeedbackRequest(c);
  const parsed = parseFeedbackBody(await readJsonBody(c));
  if (!parsed.ok) {
    const fields = [...new Set(parsed.issues.map((i) => i.field))];
    const named = fields.slice(0, 10).join(", ") + (fields.length > 10 ? ", …" : "");
    throw new ApiError("VALIDATION_FAILED", `${parsed.issues.length} invalid field${parsed.issues.length === 1 ? "" : "s"}: ${named}; nothing was written`, { issues: parsed.issues });
  }
  const { d1: _cost, ...result } = await recordFeedback(c.env.DB, c.env, parsed.items, { maxAgeDays: c.get("services").settings.feedbackMaxAgeDays });
  return c.json(result);
});
