/**
 * The body of POST /feedback, as zod schemas: one label `{request_id, label, ...}` or a batch
 * `{feedback: [...]}`. A label names its prediction by prediction_token, by the request_id the
 * Worker returned (+ row_index), or by the client's own x-request-id together with the model
 * (client_request_id + model). Every failing field is named by its JSON path (`feedback[3].label`). The
 * OpenAPI document is generated from the same schemas. No Hono here.
 */
import { z } from "zod";
import { REQUEST_ID_PATTERN, REQUEST_ID_SHAPE } from "../contract/request-ids";
import type { FieldIssue } from "../errors";

/** Labels per request; a batch is validated, joined and written as one. */
export const MAX_FEEDBACK_ITEMS = 1000;

export const feedbackItemSchema = z
  .strictObject({
    request_id: z
      .string()
      .regex(REQUEST_ID_PATTERN, { error: `expected the request_id (x-request-id) the Worker returned with the prediction: ${REQUEST_ID_SHAPE}` })
      .optional()
      .describe("the request_id (x-request-id) the Worker returned with the prediction; may be left out when prediction_token is sent (the token carries it)"),
    client_request_id: z
      .string()
      .regex(REQUEST_ID_PATTERN, { error: `expected the x-request-id the client sent with the prediction: ${REQUEST_ID_SHAPE}` })
      .optional()
      .describe(
        "the x-request-id the client sent (echoed as x-client-request-id), with model: joins only when exactly one sampled prediction of that model carries it (with row_index), else 409 saying how many do",
      ),
    model: z.string().min(1).max(256).optional().describe("the model the prediction was asked of; required with client_request_id, and only with it"),
    row_index: z
      .int({ error: "expected a whole number" })
      .min(0)
      .max(4_294_967_295)
      .optional()
      .describe("the row within a batch prediction; default 0 (or the token's row)"),
    label: z
      .union([z.literal(0), z.literal(1), z.boolean(), z.string().min(1)], {
        error: "expected 0, 1, true, false or one of the model's class names (manifest output.classes)",
      })
      .describe("the observed outcome: 1/true/the positive class name, or 0/false/the negative class name"),
    observed_at: z.iso
      .datetime({ offset: true, error: "expected an ISO 8601 date-time, e.g. 2026-11-30T06:00:00Z" })
      .optional()
      .describe("when the outcome was observed"),
    prediction_token: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe("the prediction_token returned with the prediction; joins any prediction, sampled or not"),
  })
  .superRefine((item, ctx) => {
    const byClient = item.client_request_id !== undefined || item.model !== undefined;
    if (!byClient && item.request_id === undefined && item.prediction_token === undefined) {
      ctx.addIssue({ code: "custom", path: ["request_id"], message: "request_id is required unless prediction_token (or client_request_id with model) is sent" });
    }
    // A client's id is reused by retries and by anyone, so it is only looked up within one model.
    if (item.client_request_id !== undefined && item.model === undefined) {
      ctx.addIssue({ code: "custom", path: ["model"], message: "required with client_request_id: a client's id is only looked up within the model named" });
    }
    if (item.model !== undefined && item.client_request_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["client_request_id"], message: "required with model (model only serves a lookup by client_request_id)" });
    }
    if (item.client_request_id !== undefined && (item.request_id !== undefined || item.prediction_token !== undefined)) {
      ctx.addIssue({ code: "custom", path: ["client_request_id"], message: "send one way to find the prediction: client_request_id, request_id or prediction_token" });
    }
  });

export type FeedbackItem = z.output<typeof feedbackItemSchema>;

export const feedbackBatchSchema = z.strictObject({
  feedback: z.array(feedbackItemSchema).min(1).max(MAX_FEEDBACK_ITEMS).describe(`1 to ${MAX_FEEDBACK_ITEMS} labels, written all or none`),
});

/** A label as parsed, with the JSON path it came from (`""` for a single label, `feedback[3]` in a batch). */
export interface LocatedItem {
  item: FeedbackItem;
  path: string;
}

export type ParsedFeedback = { ok: true; items: LocatedItem[] } | { ok: false; issues: FieldIssue[] };

/** Splits single and batch bodies and validates each item, collecting every failing field. */
export function parseFeedbackBody(body: unknown): ParsedFeedback {
  const isBatch = typeof body === "object" && body !== null && !Array.isArray(body) && "feedback" in body;
  if (!isBatch) {
    const result = feedbackItemSchema.safeParse(body);
    return result.success ? { ok: true, items: [{ item: result.data, path: "" }] } : { ok: false, issues: issuesOf(result.error, "") };
  }
  const result = feedbackBatchSchema.safeParse(body);
  if (result.success) return { ok: true, items: result.data.feedback.map((item, i) => ({ item, path: `feedback[${i}]` })) };
  return { ok: false, issues: issuesOf(result.error, "") };
}

/** `feedback.3.label` → `feedback[3].label`; a single item's fields are bare (`label`). */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "body";
}

function issuesOf(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    // An unknown key is reported on the object; name the key itself.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: fieldPath(prefix, [...issue.path, key]), message: "unknown field", code: issue.code }));
    }
    return [{ field: fieldPath(prefix, issue.path), message: issue.message, code: issue.code }];
  });
}

/** The answer to an accepted POST /feedback (also the OpenAPI document's response schema). */
export const feedbackResultSchema = z.object({
  received: z.int().min(1).describe("labels in the request"),
  inserted: z.int().min(0).describe("labels for predictions that had none"),
  replaced: z.int().min(0).describe("labels that replaced one sent before for the same prediction"),
  joined_by: z
    .object({
      token: z.int().min(0).describe("joined through their prediction_token"),
      sample: z.int().min(0).describe("joined through a sampled request (request_samples)"),
    })
    .describe("how each label found its prediction"),
});
