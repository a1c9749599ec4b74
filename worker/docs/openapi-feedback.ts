/** POST /feedback's part of the OpenAPI document: ground-truth labels joined to predictions. */
import { feedbackBatchSchema, feedbackItemSchema, feedbackResultSchema, MAX_FEEDBACK_ITEMS } from "../feedback/feedback-schema";
import { errors, jsonContent, ok, operation, ref } from "./openapi-parts";
import { jsonSchema } from "./openapi-schemas";

const DESCRIPTION = [
  "Send observed outcomes for predictions: one label, or a batch of up to",
  `${MAX_FEEDBACK_ITEMS} as {"feedback": [...]}, written all or none (upserted: a resent label replaces the stored one).`,
  "Each label joins exactly one prediction, found by its prediction_token (returned with every prediction; joins any prediction, sampled or not,",
  "and carries model, version, probability and time, signed); or, without one, among the sampled predictions (request_samples: only sampled",
  "rows, until retention removes them) by the request_id the service returned (x-request-id) and row_index (default 0), which is the answering",
  "version's row, never a shadow's; or by client_request_id (the client's own x-request-id) together with model, only when exactly one sampled",
  "prediction of that model carries it. A label joined to the answering version also counts for a shadow that scored the same row, once.",
  "A label is 0/1, true/false, or one of the version's class names (manifest output.classes).",
  "Refusals name every failing item by its path (feedback[3].label) and write nothing:",
  "401 for a token that does not verify, 422 for a malformed or contradictory item or a token older than FEEDBACK_MAX_AGE_DAYS (default 90), 404 for a request id with no sampled prediction,",
  "409 when a client_request_id matches several sampled predictions (the message says how many), or the prediction already holds another model's label.",
  "Authorization: Bearer FEEDBACK_TOKEN or ADMIN_TOKEN.",
].join(" ");

/** The tag the monitoring routes share; the document's tag list must name it too. */
export function feedbackPaths(tag = "Monitoring") {
  return {
    "/feedback": {
      post: operation({
        tag,
        id: "postFeedback",
        summary: "Ground truth: labels joined to the predictions they judge",
        description: DESCRIPTION,
        security: [{ bearerAuth: [] }],
        body: jsonContent({ oneOf: [ref("FeedbackItem"), ref("FeedbackBatch")] }),
        responses: {
          ...ok("every label stored", jsonContent(ref("FeedbackResult"))),
          ...errors("Error", ["400", "401", "403", "404", "409", "413", "422", "429", "500"], {
            "401": "no bearer token, or a prediction_token that does not verify (details.issues names each); nothing written",
            "403": "the bearer token is neither FEEDBACK_TOKEN nor ADMIN_TOKEN",
            "404": "a request_id or client_request_id (and row_index) with no sampled prediction; details.issues names each; nothing written",
            "409": "a client_request_id matching several sampled predictions of the model (the message says how many), or a prediction already labelled for another model; nothing written",
            "422": "a malformed or contradictory label, or an expired prediction_token (older than FEEDBACK_MAX_AGE_DAYS); details.issues names every failing field (feedback[3].label); nothing written",
            "500": "internal error, or neither FEEDBACK_TOKEN nor ADMIN_TOKEN is configured (MISCONFIGURED: feedback stays closed)",
          }),
        },
      }),
    },
  };
}

/** POST /feedback's request and response bodies, under #/components/schemas. */
export function feedbackComponents() {
  return {
    FeedbackItem: jsonSchema(feedbackItemSchema),
    FeedbackBatch: jsonSchema(feedbackBatchSchema),
    FeedbackResult: jsonSchema(feedbackResultSchema),
  };
}
