/**
 * POST /feedback's OpenAPI part (worker/docs/openapi-feedback.ts) merged into the service's document
 * passes the OpenAPI 3.1 validator, and its request schemas accept and refuse what the route's zod
 * schemas do (ajv, JSON Schema 2020-12).
 */
import { compileErrors, validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { feedbackComponents, feedbackPaths } from "../../worker/docs/openapi-feedback";
import { buildOpenApi } from "../../worker/docs/openapi";
import { feedbackBatchSchema, feedbackItemSchema } from "../../worker/feedback/feedback-schema";

function documentWithFeedback() {
  const doc = structuredClone(buildOpenApi(null, { defaultModel: "churn-classifier", defaultAlias: "production", maxBatchRows: 3 })) as unknown as {
    tags?: { name: string }[];
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  Object.assign(doc.paths, feedbackPaths());
  Object.assign(doc.components.schemas, feedbackComponents());
  if (doc.tags && !doc.tags.some((t) => t.name === "Monitoring")) doc.tags.push({ name: "Monitoring" });
  return doc;
}

describe("POST /feedback in the OpenAPI document", () => {
  it("passes the OpenAPI 3.1 validator", async () => {
    const result = await validate(documentWithFeedback() as Parameters<typeof validate>[0]);
    expect(result.valid && result.warnings.length === 0 ? "" : compileErrors(result)).toBe("");
  });

  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const components = feedbackComponents();
  const item = ajv.compile(components.FeedbackItem);
  const batch = ajv.compile(components.FeedbackBatch);

  const accepted = [
    { request_id: "r-1", label: 1 },
    { request_id: "r-1", row_index: 3, label: "Yes", observed_at: "2026-11-30T06:00:00Z" },
    { prediction_token: "pt1.abc.def", label: false },
    { client_request_id: "order-77", model: "churn-classifier", row_index: 2, label: 1 },
  ];
  const refused = [{ request_id: "r-1" }, { request_id: "r-1", label: 2 }, { request_id: "r-1", label: 1, extra: 1 }, { request_id: "bad id", label: 1 }, { label: 1 }];

  it("documents the same item schema the route enforces", () => {
    for (const body of accepted) {
      expect(feedbackItemSchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
      expect(item(body), JSON.stringify(body)).toBe(true);
    }
    for (const body of refused.slice(0, 4)) {
      expect(feedbackItemSchema.safeParse(body).success, JSON.stringify(body)).toBe(false);
      expect(item(body), JSON.stringify(body)).toBe(false);
    }
    // "request_id or prediction_token" is a zod refinement, which JSON Schema cannot say: the
    // description does, and the route refuses it (test/workers/feedback-api.test.ts).
    expect(feedbackItemSchema.safeParse(refused[4]).success).toBe(false);
  });

  it("documents the batch's limits", () => {
    expect(batch({ feedback: accepted })).toBe(true);
    expect(feedbackBatchSchema.safeParse({ feedback: accepted }).success).toBe(true);
    for (const body of [{ feedback: [] }, { feedback: Array.from({ length: 1001 }, () => accepted[0]) }, { feedback: accepted, more: 1 }]) {
      expect(batch(body)).toBe(false);
      expect(feedbackBatchSchema.safeParse(body).success).toBe(false);
    }
  });
});
