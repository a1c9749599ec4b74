/**
 * The response and request shapes the OpenAPI document publishes, as zod schemas. The document is
 * generated from these, and test/workers/openapi.test.ts parses real responses with the same
 * schemas, so a response that grows an undocumented field, or loses a documented one, fails there.
 * The row schema itself is not here: it comes from the default model's manifest.
 */
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors";

const fieldIssue = z.object({
  field: z.string().describe("JSON path of the failing value, in the caller's own layout, e.g. instances[3].tenure"),
  message: z.string(),
  code: z.string().optional(),
});

export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    request_id: z.string().describe("the id the service minted for the request, also sent as the x-request-id header"),
    details: z
      .looseObject({ issues: z.array(fieldIssue).optional() })
      .optional()
      .describe("on VALIDATION_FAILED, issues names every failing field"),
  }),
});

/** Open Inference Protocol clients (KServe, Triton) expect a bare message. */
export const oipErrorSchema = z.object({ error: z.string() });

/** A row's reason codes (?explain): exact SHAP values against the version's background. */
export const explanationResponseSchema = z
  .object({
    space: z.enum(["probability", "log_odds"]).describe("probability: base_value + Σ contributions = the probability (forests); log_odds: = its logit (boosting, logistic regression)"),
    base_value: z.number().describe("the model's mean output over its background rows, in `space`"),
    contributions: z
      .array(
        z.object({
          feature: z.string(),
          value: z.unknown().describe("the row's value for the feature as sent (null when missing)"),
          contribution: z.number().describe("the feature's SHAP value, in `space`"),
        }),
      )
      .describe("sorted by |contribution|, largest first: the top k asked for, or every feature"),
  })
  .describe("only with ?explain");

export function predictionSchema(label: string) {
  return z.object({
    [`${label}_probability`]: z.number().min(0).max(1).describe("positive-class probability, 4 decimals"),
    [`${label}_prediction`]: z.boolean().describe("probability >= the version's threshold"),
    risk_tier: z.string().describe("the highest risk tier whose lower bound the probability reaches"),
    prediction_token: z
      .string()
      .optional()
      .describe("signed token for this row's prediction: send it back with the observed label to POST /feedback (absent when PREDICTION_TOKEN_SECRET is not configured); POST /feedback accepts it for FEEDBACK_MAX_AGE_DAYS (default 90)"),
    explanation: explanationResponseSchema.optional(),
  });
}

const answeredBy = {
  model: z.string(),
  model_version: z.string(),
  request_id: z.string().describe("the id the service minted for this request (also x-request-id): the key POST /feedback joins on"),
};

export function predictionResponseSchema(label: string) {
  return predictionSchema(label).extend(answeredBy);
}

export function batchPredictionResponseSchema(label: string) {
  return z.object({ predictions: z.array(predictionSchema(label)), ...answeredBy });
}

export function mlflowResponseSchema(label: string) {
  return z.object({ predictions: z.array(predictionSchema(label)) });
}

const cell = z.union([z.number(), z.string(), z.boolean(), z.null()]);

/** Which of the four MLflow formats a body uses; the rows inside are the Row schema, by reference. */
export const mlflowFormats = {
  dataframe_split: z.object({
    columns: z.array(z.string()).describe("feature names, in the order of each data row"),
    data: z.array(z.array(cell)).describe("one array of values per row"),
    index: z.array(z.unknown()).optional().describe("accepted and ignored"),
  }),
  inputs_columns: z.record(z.string(), z.array(cell)).describe("one array of values per feature, all the same length"),
} as const;

export const oipInferRequestSchema = z.object({
  id: z.string().optional().describe("echoed in the response"),
  inputs: z
    .array(
      z.object({
        name: z.string().describe("a feature name from the model's metadata"),
        shape: z.array(z.int().min(0)).min(1).max(2).describe("[N] or [N, 1]"),
        datatype: z.string().describe("BYTES for categorical features; a numeric type such as FP32 or INT64 for numeric ones"),
        data: z.array(z.unknown()).describe("N values: flat, or [[v], ...] for shape [N, 1]"),
        parameters: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1)
    .describe("one tensor per model feature, all with the same batch size N"),
  outputs: z
    .array(z.object({ name: z.string(), parameters: z.record(z.string(), z.unknown()).optional() }))
    .optional()
    .describe("which outputs to return; all when absent"),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

const oipTensorMetadata = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.int()),
  parameters: z
    .object({ features: z.array(z.string()), space: z.enum(["probability", "log_odds"]).optional() })
    .optional()
    .describe("on contributions: the feature of each column, and the explanation space"),
});

export const oipInferResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  outputs: z.array(oipTensorMetadata.extend({ data: z.array(z.unknown()) })),
});

export const oipServerMetadataSchema = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
export const oipServerLiveSchema = z.object({ live: z.boolean() });
export const oipServerReadySchema = z.object({ ready: z.boolean() });
export const oipModelMetadataSchema = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(oipTensorMetadata),
  outputs: z.array(oipTensorMetadata),
});
export const oipModelReadySchema = z.object({ name: z.string(), version: z.string(), ready: z.boolean() });

export const healthSchema = z.object({ status: z.literal("healthy") });
export const readySchema = z.object({ status: z.literal("ready"), model: z.string(), version: z.int(), alias: z.string() });

/**
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, so the zod target is draft-2020-12 (nullable is
 * `anyOf [..., {type: null}]`, never OpenAPI 3.0's `nullable: true`). The input view leaves out
 * `additionalProperties: false`: requests with unknown keys are accepted (the keys are stripped),
 * and clients must tolerate new response fields. `$schema` is dropped: OpenAPI 3.1 documents
 * already default to a 2020-12 dialect.
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return rest;
}
